// After the contact's latest meeting, creates a follow-up task titled after it (v4 read, batch read, create).
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const contactId = String(event.object.objectId);
  const links = await client.crm.associations.v4.basicApi.getPage('contacts', contactId, 'meetings');
  if (links.results.length === 0) return { outputFields: { followup_created: false, meeting_title: '' } };
  const meetings = await client.crm.objects.meetings.batchApi.read({
    inputs: links.results.map((l) => ({ id: String(l.toObjectId) })),
    properties: ['hs_meeting_title', 'hs_meeting_start_time'],
    propertiesWithHistory: [],
  });
  const latest = meetings.results.sort((a, b) => Date.parse(b.properties.hs_meeting_start_time) - Date.parse(a.properties.hs_meeting_start_time))[0];
  await client.crm.objects.tasks.basicApi.create({
    properties: { hs_task_subject: `Follow up on "${latest.properties.hs_meeting_title}"`, hs_task_status: 'NOT_STARTED', hs_timestamp: Date.now() },
    associations: [{ to: { id: contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 204 }] }],
  });
  return { outputFields: { followup_created: true, meeting_title: latest.properties.hs_meeting_title } };
};
