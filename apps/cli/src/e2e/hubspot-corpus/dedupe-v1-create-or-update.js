// The legacy createOrUpdate endpoint: one call that dedupes by email.
const axios = require('axios');

exports.main = async (event, callback) => {
  const email = event.inputFields.email;
  const { data } = await axios.post(
    `https://api.hubapi.com/contacts/v1/contact/createOrUpdate/email/${encodeURIComponent(email)}`,
    {
      properties: [
        { property: 'firstname', value: event.inputFields.firstname },
        { property: 'lead_source', value: 'partner-portal' },
      ],
    },
    { headers: { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` } },
  );
  callback({ outputFields: { vid: data.vid, is_new: data.isNew } });
};
