// Summarises the deal's line items with lodash (groupBy, sumBy, round), read with fetch.
const _ = require('lodash');

exports.main = async (event, callback) => {
  const headers = { authorization: `Bearer ${process.env.HUBSPOT_TOKEN}`, 'content-type': 'application/json' };
  const base = 'https://api.hubapi.com';
  const assoc = await (await fetch(`${base}/crm/v4/objects/deals/${event.object.objectId}/associations/line_items`, { headers })).json();
  const res = await fetch(`${base}/crm/v3/objects/line_items/batch/read`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ inputs: assoc.results.map((r) => ({ id: String(r.toObjectId) })), properties: ['name', 'amount', 'recurringbillingfrequency'] }),
  });
  const items = (await res.json()).results.map((r) => r.properties);
  const byFrequency = _.groupBy(items, (i) => i.recurringbillingfrequency || 'one_time');
  const recurring = _.round(_.sumBy(byFrequency.monthly || [], (i) => Number(i.amount)) * 12, 2);
  const oneTime = _.round(
    _.sumBy(byFrequency.one_time || [], (i) => Number(i.amount)),
    2,
  );
  callback({ outputFields: { annual_recurring: recurring, one_time: oneTime, biggest_item: _.maxBy(items, (i) => Number(i.amount)).name } });
};
