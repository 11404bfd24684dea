// Logs an email sent by an outside system on the contact (emails object over axios).
const axios = require('axios');

exports.main = async (event, callback) => {
  const res = await axios({
    method: 'post',
    url: 'https://api.hubapi.com/crm/v3/objects/emails',
    headers: { Authorization: 'Bearer ' + process.env.HUBSPOT_TOKEN },
    data: {
      properties: {
        hs_timestamp: new Date().toISOString(),
        hs_email_direction: 'EMAIL',
        hs_email_status: 'SENT',
        hs_email_subject: event.inputFields.subject,
        hs_email_text: event.inputFields.text,
      },
      associations: [{ to: { id: event.object.objectId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 198 }] }],
    },
  });
  callback({ outputFields: { email_id: res.data.id, status: res.status } });
};
