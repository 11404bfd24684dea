// Practitioner style: reads event.fields (HubSpot's alias of inputFields) and passes values on.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const email = event.fields.email;
  const source = event.fields.source || 'unknown';
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  await client.crm.contacts.basicApi.update(String(event.object.objectId), { properties: { original_source_detail: source } });
  callback({ outputFields: { domain: email.split('@')[1], source } });
};
