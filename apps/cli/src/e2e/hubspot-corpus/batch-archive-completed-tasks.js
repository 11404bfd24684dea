// Archives the contact's completed tasks (v4 association read, batch read, batch archive).
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const links = await client.crm.associations.v4.basicApi.getPage('contacts', String(event.object.objectId), 'tasks');
  if (!links.results.length) return { outputFields: { archived: 0, kept: 0 } };
  const tasks = await client.crm.objects.tasks.batchApi.read({ inputs: links.results.map((l) => ({ id: String(l.toObjectId) })), properties: ['hs_task_status'], propertiesWithHistory: [] });
  const done = tasks.results.filter((t) => t.properties.hs_task_status === 'COMPLETED');
  if (done.length) await client.crm.objects.tasks.batchApi.archive({ inputs: done.map((t) => ({ id: t.id })) });
  return { outputFields: { archived: done.length, kept: tasks.results.length - done.length } };
};
