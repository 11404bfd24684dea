// Returns the ids of the deal's contacts as an array output.
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const links = await client.crm.associations.v4.basicApi.getPage('deals', String(event.object.objectId), 'contacts');
  return { outputFields: { contact_ids: links.results.map((l) => String(l.toObjectId)) } };
};
