// Builds a query string with qs (a dependency of the seed libraries HubSpot lets code require).
const qs = require('qs');
const axios = require('axios');

exports.main = async (event, callback) => {
  const query = qs.stringify({ properties: ['email', 'firstname'], archived: false }, { arrayFormat: 'comma' });
  const { data } = await axios.get(`https://api.hubapi.com/crm/v3/objects/contacts/${event.object.objectId}?${query}`, { headers: { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` } });
  callback({ outputFields: { email: data.properties.email, firstname: data.properties.firstname } });
};
