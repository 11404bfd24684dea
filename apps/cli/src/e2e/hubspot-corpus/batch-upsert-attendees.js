// Upserts webinar attendees by email (batch upsert), tagging them with the webinar name.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const emails = event.inputFields.attendees
    .split(/[;,\s]+/)
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e.includes('@'));
  const result = await client.crm.contacts.batchApi.upsert({
    inputs: emails.map((email) => ({ idProperty: 'email', id: email, properties: { last_webinar: event.inputFields.webinar } })),
  });
  const created = result.results.filter((r) => r._new || r.new).length;
  callback({ outputFields: { upserted: result.results.length, created } });
};
