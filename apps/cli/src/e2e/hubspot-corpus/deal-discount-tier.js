// Sets the deal's discount tier from its amount (inputs only, one update).
const hubspot = require('@hubspot/api-client');

const TIERS = [
  { min: 100000, tier: 'platinum', discount: 15 },
  { min: 25000, tier: 'gold', discount: 10 },
  { min: 5000, tier: 'silver', discount: 5 },
  { min: 0, tier: 'standard', discount: 0 },
];

exports.main = async (event, callback) => {
  const amount = parseFloat(event.inputFields.amount) || 0;
  const { tier, discount } = TIERS.find((t) => amount >= t.min);
  const net = +(amount * (1 - discount / 100)).toFixed(2);
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  await client.crm.deals.basicApi.update(String(event.object.objectId), { properties: { discount_tier: tier, net_amount: String(net) } });
  callback({ outputFields: { tier, discount_percent: discount, net_amount: net } });
};
