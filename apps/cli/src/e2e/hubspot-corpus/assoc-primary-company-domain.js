// Copies the contact's primary company name and domain into outputs (v4 associations, "Primary" label).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const contactId = String(event.object.objectId);
  const links = await client.crm.associations.v4.basicApi.getPage('contacts', contactId, 'companies', undefined, 500);
  const primary = links.results.find((r) => r.associationTypes.some((t) => t.label === 'Primary')) || links.results[0];
  if (!primary) {
    callback({ outputFields: { company_name: '', company_domain: '', company_count: 0 } });
    return;
  }
  const company = await client.crm.companies.basicApi.getById(String(primary.toObjectId), ['name', 'domain']);
  callback({
    outputFields: {
      company_name: company.properties.name,
      company_domain: company.properties.domain,
      company_count: links.results.length,
    },
  });
};
