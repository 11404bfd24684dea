// Counts the company's contacts by lifecycle stage with a search on associations.company.
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const companyId = String(event.object.objectId);
  const result = await client.crm.contacts.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'associations.company', operator: 'EQ', value: companyId }] }],
    properties: ['lifecyclestage'],
    limit: 100,
  });
  const customers = result.results.filter((c) => c.properties.lifecyclestage === 'customer').length;
  return { outputFields: { contacts_total: result.total, customers } };
};
