// Records a WhatsApp message as a communication on the contact.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const message = await client.crm.objects.basicApi.create('communications', {
    properties: {
      hs_communication_channel_type: 'WHATS_APP',
      hs_communication_logged_from: 'CRM',
      hs_communication_body: event.inputFields.text,
      hs_timestamp: new Date().toISOString(),
    },
    associations: [{ to: { id: String(event.object.objectId) }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 81 }] }],
  });
  callback({ outputFields: { communication_id: message.id } });
};
