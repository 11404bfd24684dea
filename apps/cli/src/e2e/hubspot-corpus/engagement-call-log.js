// Logs a completed call from a telephony integration's data onto the contact.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const seconds = parseInt(event.inputFields.duration_seconds, 10) || 0;
  const call = await client.crm.objects.calls.basicApi.create({
    properties: {
      hs_timestamp: event.inputFields.started_at,
      hs_call_title: `Inbound call from ${event.inputFields.from_number}`,
      hs_call_body: event.inputFields.summary,
      hs_call_direction: 'INBOUND',
      hs_call_duration: String(seconds * 1000),
      hs_call_from_number: event.inputFields.from_number,
      hs_call_status: 'COMPLETED',
    },
    associations: [{ to: { id: String(event.object.objectId) }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 194 }] }],
  });
  callback({ outputFields: { call_id: call.id, minutes: Math.ceil(seconds / 60) } });
};
