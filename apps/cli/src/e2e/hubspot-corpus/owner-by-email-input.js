// Assigns the deal to the owner named by email in the form, via the owners API with axios.
const axios = require('axios');

exports.main = async (event, callback) => {
  const headers = { Authorization: `Bearer ${process.env.PRIVATE_APP_TOKEN}`, 'Content-Type': 'application/json' };
  const ownerEmail = event.inputFields.owner_email;
  const res = await axios.get('https://api.hubapi.com/crm/v3/owners/', { headers, params: { email: ownerEmail, limit: 1 } });
  const owner = res.data.results[0];
  if (!owner) throw new Error(`No HubSpot owner with email ${ownerEmail}`);
  await axios.patch(`https://api.hubapi.com/crm/v3/objects/deals/${event.object.objectId}`, { properties: { hubspot_owner_id: owner.id } }, { headers });
  callback({ outputFields: { owner_id: owner.id, owner_name: `${owner.firstName} ${owner.lastName}` } });
};
