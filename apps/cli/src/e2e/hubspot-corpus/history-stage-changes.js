// How many times the deal changed stage, and its previous stage (propertiesWithHistory).
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const id = String(event.object.objectId);
  await client.crm.deals.basicApi.update(id, { properties: { dealstage: event.inputFields.new_stage } });
  const deal = await client.crm.deals.basicApi.getById(id, ['dealstage'], ['dealstage']);
  const history = deal.propertiesWithHistory.dealstage;
  return { outputFields: { stage_changes: history.length - 1, previous_stage: history[1] ? history[1].value : '' } };
};
