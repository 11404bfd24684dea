// Copies an email typed into a form onto the contact; HubSpot's 400 (bad email) is recorded instead of failing.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const id = String(event.object.objectId);
  try {
    await client.crm.contacts.basicApi.update(id, { properties: { email: event.inputFields.new_email } });
    callback({ outputFields: { updated: true, error_category: '' } });
  } catch (e) {
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body || {};
    await client.crm.contacts.basicApi.update(id, { properties: { sync_error: `${body.category}: ${body.message}`.slice(0, 200) } });
    callback({ outputFields: { updated: false, error_category: body.category || 'UNKNOWN' } });
  }
};
