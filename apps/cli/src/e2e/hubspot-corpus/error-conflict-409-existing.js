// Creates a contact for a referral; when the email exists (409) it uses the existing contact's id from the message.
const axios = require('axios');

exports.main = async (event, callback) => {
  const headers = { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` };
  try {
    const { data } = await axios.post('https://api.hubapi.com/crm/v3/objects/contacts', { properties: { email: event.inputFields.referral_email } }, { headers });
    callback({ outputFields: { referral_id: data.id, existed: false } });
  } catch (err) {
    if (!err.response || err.response.status !== 409) throw err;
    const match = /Existing ID: (\d+)/.exec(err.response.data.message);
    callback({ outputFields: { referral_id: match ? match[1] : '', existed: true } });
  }
};
