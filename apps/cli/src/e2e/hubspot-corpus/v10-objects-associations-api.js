// Written for the Node 20 runtime's @hubspot/api-client 10: crm.objects.associationsApi (removed in 11).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const result = await hubspotClient.crm.objects.associationsApi.getAll('contacts', String(event.object.objectId), 'companies');
  const ids = [...new Set(result.results.map((r) => r.id))];
  if (ids.length) await hubspotClient.crm.objects.associationsApi.create('contacts', String(event.object.objectId), 'deals', event.inputFields.deal_id, 'contact_to_deal');
  callback({ outputFields: { company_count: ids.length } });
};
