// Weighted amount = amount × the probability of the deal's stage, read from the pipelines API.
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const deal = await client.crm.deals.basicApi.getById(String(event.object.objectId), ['amount', 'pipeline', 'dealstage']);
  const pipeline = await client.crm.pipelines.pipelinesApi.getById('deals', deal.properties.pipeline || 'default');
  const stage = pipeline.stages.find((s) => s.id === deal.properties.dealstage);
  const probability = stage ? parseFloat(stage.metadata.probability) : 0;
  const weighted = Math.round(parseFloat(deal.properties.amount || '0') * probability);
  await client.crm.deals.basicApi.update(deal.id, { properties: { weighted_amount: String(weighted) } });
  return { outputFields: { stage_label: stage ? stage.label : 'unknown', probability, weighted_amount: weighted, is_closed: stage ? stage.metadata.isClosed === 'true' : false } };
};
