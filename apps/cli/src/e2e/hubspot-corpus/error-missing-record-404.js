// Looks up the referrer contact given by id; a 404 is an expected outcome, not a failure.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  try {
    const referrer = await client.crm.contacts.basicApi.getById(String(event.inputFields.referrer_id), ['email']);
    callback({ outputFields: { referrer_found: true, referrer_email: referrer.properties.email } });
  } catch (err) {
    if (err.code === 404) {
      console.log(`referrer ${event.inputFields.referrer_id} not found`);
      callback({ outputFields: { referrer_found: false, referrer_email: '' } });
      return;
    }
    throw err;
  }
};
