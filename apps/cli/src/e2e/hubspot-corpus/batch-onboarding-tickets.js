// On closed-won, opens the onboarding tickets for the deal in the support pipeline (batch create with associations).
const hubspot = require('@hubspot/api-client');

const STEPS = ['Kick-off call', 'Data import', 'Training'];

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const dealId = String(event.object.objectId);
  const pipelines = await client.crm.pipelines.pipelinesApi.getAll('tickets');
  const pipeline = pipelines.results[0];
  const firstStage = pipeline.stages.sort((a, b) => a.displayOrder - b.displayOrder)[0];
  const result = await client.crm.tickets.batchApi.create({
    inputs: STEPS.map((step) => ({
      properties: { subject: `${event.inputFields.dealname}: ${step}`, hs_pipeline: pipeline.id, hs_pipeline_stage: firstStage.id, hs_ticket_priority: 'MEDIUM' },
      associations: [{ to: { id: dealId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 28 }] }],
    })),
  });
  callback({ outputFields: { tickets_created: result.results.length, stage: firstStage.label } });
};
