// Logs a note on the contact with what the form said (notes API, inline association 202).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const body = `<p>Form <strong>${event.inputFields.form_name}</strong>: ${event.inputFields.message}</p>`;
  const note = await client.crm.objects.notes.basicApi.create({
    properties: { hs_note_body: body, hs_timestamp: new Date().toISOString() },
    associations: [{ to: { id: String(event.object.objectId) }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }],
  });
  callback({ outputFields: { note_id: note.id } });
};
