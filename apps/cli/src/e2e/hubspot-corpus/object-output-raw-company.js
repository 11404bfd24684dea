// Returns the whole company record as an output (HubSpot stores it as JSON text for the next action).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const company = await client.crm.companies.basicApi.getById(String(event.inputFields.company_id), ['name', 'numberofemployees']);
  callback({ outputFields: { raw: { id: company.id, properties: { name: company.properties.name, numberofemployees: company.properties.numberofemployees } } } });
};
