// Permanently deletes the contact when they asked to be forgotten (GDPR delete).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  if (String(event.inputFields.gdpr_request).toLowerCase() !== 'true') {
    callback({ outputFields: { deleted: false } });
    return;
  }
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  await client.crm.contacts.basicApi.purge({ objectId: String(event.object.objectId) });
  callback({ outputFields: { deleted: true } });
};
