// Creates a follow-up task for the deal owner, due in three days, on the deal.
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const dealId = String(event.object.objectId);
  const deal = await client.crm.deals.basicApi.getById(dealId, ['dealname', 'hubspot_owner_id']);
  const due = new Date(Date.now() + 3 * 24 * 60 * 60 * 1000);
  const task = await client.crm.objects.tasks.basicApi.create({
    properties: {
      hs_task_subject: `Follow up: ${deal.properties.dealname}`,
      hs_task_body: 'Check the proposal was received.',
      hs_task_status: 'NOT_STARTED',
      hs_task_priority: 'HIGH',
      hs_timestamp: due.getTime(),
      hubspot_owner_id: deal.properties.hubspot_owner_id,
    },
    associations: [{ to: { id: dealId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 216 }] }],
  });
  return { outputFields: { task_id: task.id, owner_id: deal.properties.hubspot_owner_id } };
};
