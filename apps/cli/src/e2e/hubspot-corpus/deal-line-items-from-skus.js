// Adds a line item to the deal for each SKU in the form: products by SKU (search IN), batch create with associations.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const skus = String(event.inputFields.skus || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const products = await client.crm.products.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'hs_sku', operator: 'IN', values: skus }] }],
    properties: ['name', 'price', 'hs_sku'],
  });
  const inputs = products.results.map((p) => ({
    properties: { name: p.properties.name, price: p.properties.price, quantity: '1', hs_product_id: p.id },
    associations: [{ to: { id: String(event.object.objectId) }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 20 }] }],
  }));
  const created = inputs.length ? await client.crm.lineItems.batchApi.create({ inputs }) : { results: [] };
  const missing = skus.filter((sku) => !products.results.some((p) => p.properties.hs_sku === sku));
  callback({ outputFields: { created: created.results.length, missing_skus: missing.join(',') } });
};
