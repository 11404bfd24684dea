// Gives the ticket the owner of its deal, through the v3 associations endpoint with axios.
const axios = require('axios');

exports.main = async (event, callback) => {
  const api = axios.create({ baseURL: 'https://api.hubapi.com', headers: { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` } });
  const ticketId = event.object.objectId;
  const { data } = await api.get(`/crm/v3/objects/tickets/${ticketId}/associations/deals`);
  if (!data.results.length) {
    callback({ outputFields: { owner_id: '', assigned: false } });
    return;
  }
  const deal = await api.get(`/crm/v3/objects/deals/${data.results[0].id}`, { params: { properties: 'hubspot_owner_id' } });
  const ownerId = deal.data.properties.hubspot_owner_id;
  await api.patch(`/crm/v3/objects/tickets/${ticketId}`, { properties: { hubspot_owner_id: ownerId } });
  callback({ outputFields: { owner_id: ownerId, assigned: true } });
};
