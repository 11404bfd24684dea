// Gives every contact of the company the company's owner, in one batch update.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const companyId = String(event.object.objectId);
  const company = await client.crm.companies.basicApi.getById(companyId, ['hubspot_owner_id']);
  const ownerId = company.properties.hubspot_owner_id;
  const contacts = await client.crm.associations.v4.basicApi.getPage('companies', companyId, 'contacts');
  const inputs = contacts.results.map((r) => ({ id: String(r.toObjectId), properties: { hubspot_owner_id: ownerId } }));
  if (inputs.length) await client.crm.contacts.batchApi.update({ inputs });
  callback({ outputFields: { updated: inputs.length, owner_id: ownerId } });
};
