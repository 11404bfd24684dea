// Written for the Node 20 runtime's @hubspot/api-client 10: crm.objects.associationsApi.getAll
// (v3 associations, gone in 11), returning the ids as an array output (stored as JSON text).
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const contactId = String(event.object.objectId);
  const companies = await hubspotClient.crm.objects.associationsApi.getAll('contacts', contactId, 'companies');
  // v3 lists an associated record once per association type (primary and unlabeled): dedupe.
  const companyIds = [...new Set(companies.results.map((r) => r.id))];
  let primaryName = '';
  if (companyIds.length) {
    const company = await hubspotClient.crm.companies.basicApi.getById(companyIds[0], ['name']);
    primaryName = company.properties.name;
  }
  return { outputFields: { company_ids: companyIds, primary_company: primaryName } };
};
