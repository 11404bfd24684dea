// Lists the emails of the deal's contacts: ?associations= on the read, then a batch read.
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const deal = await hubspotClient.crm.deals.basicApi.getById(event.object.objectId, ['dealname'], undefined, ['contacts']);
  const ids = [...new Set(((deal.associations && deal.associations.contacts && deal.associations.contacts.results) || []).map((r) => r.id))];
  if (ids.length === 0) return { outputFields: { contact_emails: '', contact_count: 0 } };
  const contacts = await hubspotClient.crm.contacts.batchApi.read({ inputs: ids.map((id) => ({ id })), properties: ['email'], propertiesWithHistory: [] });
  const emails = contacts.results
    .map((c) => c.properties.email)
    .filter(Boolean)
    .sort();
  return { outputFields: { contact_emails: emails.join(';'), contact_count: emails.length } };
};
