// Sets the renewal date one year after the close date (YYYY-MM-DD, UTC), and a human label.
const hubspot = require('@hubspot/api-client');

function ymd(d) {
  return d.toISOString().slice(0, 10);
}

exports.main = async (event, callback) => {
  const closed = new Date(Number(event.inputFields.closedate) || event.inputFields.closedate);
  const renewal = new Date(Date.UTC(closed.getUTCFullYear() + 1, closed.getUTCMonth(), closed.getUTCDate()));
  const label = renewal.toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  await client.crm.deals.basicApi.update(String(event.object.objectId), { properties: { renewal_date: ymd(renewal) } });
  callback({ outputFields: { renewal_date: ymd(renewal), renewal_label: label } });
};
