// Recomputes the deal amount from its line items (v4 associations, batch read) and writes it back.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const dealId = String(event.object.objectId);
  const assoc = await client.crm.associations.v4.basicApi.getPage('deals', dealId, 'line_items');
  const ids = assoc.results.map((r) => ({ id: String(r.toObjectId) }));
  const items = ids.length ? (await client.crm.lineItems.batchApi.read({ inputs: ids, properties: ['amount', 'quantity', 'price'], propertiesWithHistory: [] })).results : [];
  const total = Math.round(items.reduce((sum, item) => sum + Number(item.properties.amount || 0), 0) * 100) / 100;
  const units = items.reduce((sum, item) => sum + Number(item.properties.quantity || 0), 0);
  await client.crm.deals.basicApi.update(dealId, { properties: { amount: String(total) } });
  callback({ outputFields: { amount: total, units, line_items: items.length } });
};
