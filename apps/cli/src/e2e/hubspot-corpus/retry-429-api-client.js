// Lets the api-client retry the secondly limit itself (numberOfApiCallRetries).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN, numberOfApiCallRetries: 3 });
  const contact = await client.crm.contacts.basicApi.getById(String(event.object.objectId), ['email', 'firstname']);
  callback({ outputFields: { email: contact.properties.email, firstname: contact.properties.firstname } });
};
