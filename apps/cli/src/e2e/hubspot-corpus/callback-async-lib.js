// Uses the async library (seed library) to read the deal's line items one by one.
const async = require('async');
const hubspot = require('@hubspot/api-client');

exports.main = (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  client.crm.associations.v4.basicApi.getPage('deals', String(event.object.objectId), 'line_items').then((links) => {
    async.mapLimit(
      links.results,
      1,
      async (link) => (await client.crm.lineItems.basicApi.getById(String(link.toObjectId), ['name'])).properties.name,
      (err, names) => {
        if (err) throw err;
        callback({ outputFields: { products: names.sort().join(', ') } });
      },
    );
  });
};
