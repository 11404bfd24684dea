// Creates a recurring line item on the deal and reads back the amount HubSpot computed (price × quantity less discount).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const seats = Number(event.inputFields.seats);
  const item = await client.crm.lineItems.basicApi.create({
    properties: {
      name: 'Seats (monthly)',
      price: event.inputFields.seat_price,
      quantity: String(seats),
      hs_discount_percentage: event.inputFields.discount_percent,
      recurringbillingfrequency: 'monthly',
    },
    associations: [{ to: { id: String(event.object.objectId) }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 20 }] }],
  });
  const mrr = Number(item.properties.amount);
  await client.crm.deals.basicApi.update(String(event.object.objectId), { properties: { mrr: String(mrr), arr: String(mrr * 12) } });
  callback({ outputFields: { mrr, arr: mrr * 12 } });
};
