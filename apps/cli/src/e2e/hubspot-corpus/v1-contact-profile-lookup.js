// Reads the contact's legacy v1 profile by email (vid and first name).
const axios = require('axios');

exports.main = async (event, callback) => {
  try {
    const { data } = await axios.get(`https://api.hubapi.com/contacts/v1/contact/email/${event.inputFields.email}/profile`, {
      headers: { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` },
    });
    callback({ outputFields: { vid: data.vid, firstname: data.properties.firstname ? data.properties.firstname.value : '' } });
  } catch (error) {
    if (error.response && error.response.status === 404) return callback({ outputFields: { vid: 0, firstname: '' } });
    throw error;
  }
};
