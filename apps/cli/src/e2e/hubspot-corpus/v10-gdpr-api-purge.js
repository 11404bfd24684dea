// Written for api-client 10: crm.contacts.gdprApi.purge.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  await hubspotClient.crm.contacts.gdprApi.purge({ objectId: event.inputFields.email, idProperty: 'email' });
  callback({ outputFields: { purged: true } });
};
