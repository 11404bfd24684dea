// Finds the company for the contact's email domain (search), creates it when missing, and associates them.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const email = event.inputFields.email || '';
  const domain = email.split('@')[1];
  if (!domain) throw new Error(`No domain in email "${email}"`);
  const search = await client.crm.companies.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'EQ', value: domain }] }],
    properties: ['name', 'domain'],
    limit: 1,
  });
  let companyId;
  let created = false;
  if (search.total > 0) {
    companyId = search.results[0].id;
  } else {
    const company = await client.crm.companies.basicApi.create({ properties: { domain, name: domain.split('.')[0] }, associations: [] });
    companyId = company.id;
    created = true;
  }
  await client.crm.associations.v4.basicApi.createDefault('contacts', String(event.object.objectId), 'companies', companyId);
  callback({ outputFields: { company_id: companyId, company_created: created } });
};
