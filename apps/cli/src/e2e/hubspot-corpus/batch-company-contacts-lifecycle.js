// When a company becomes a customer, marks all its contacts as customers (batch update, 100 at a time).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const companyId = String(event.object.objectId);
  const ids = [];
  let after;
  do {
    const page = await client.crm.associations.v4.basicApi.getPage('companies', companyId, 'contacts', after, 500);
    ids.push(...page.results.map((r) => String(r.toObjectId)));
    after = page.paging && page.paging.next ? page.paging.next.after : undefined;
  } while (after);
  for (let i = 0; i < ids.length; i += 100) {
    await client.crm.contacts.batchApi.update({ inputs: ids.slice(i, i + 100).map((id) => ({ id, properties: { lifecyclestage: 'customer' } })) });
  }
  callback({ outputFields: { contacts_updated: ids.length } });
};
