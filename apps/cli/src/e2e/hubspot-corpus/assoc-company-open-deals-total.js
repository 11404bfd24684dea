// Sums the amount of the company's open deals (v4 batch read of associations, then deals).
const hubspot = require('@hubspot/api-client');
const CLOSED = ['closedwon', 'closedlost'];

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const companyId = String(event.object.objectId);
  const assoc = await client.crm.associations.v4.batchApi.getPage('companies', 'deals', { inputs: [{ id: companyId }] });
  const dealIds = assoc.results.length ? assoc.results[0].to.map((t) => String(t.toObjectId)) : [];
  let total = 0;
  let open = 0;
  if (dealIds.length) {
    const deals = await client.crm.deals.batchApi.read({ inputs: dealIds.map((id) => ({ id })), properties: ['amount', 'dealstage'], propertiesWithHistory: [] });
    for (const deal of deals.results) {
      if (CLOSED.includes(deal.properties.dealstage)) continue;
      open += 1;
      total += parseFloat(deal.properties.amount || '0');
    }
  }
  await client.crm.companies.basicApi.update(companyId, { properties: { open_deal_total: String(total) } });
  callback({ outputFields: { open_total: total, open_count: open } });
};
