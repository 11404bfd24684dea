// On a hard bounce, unsubscribes the email from marketing, if it was subscribed.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const email = event.inputFields.email;
  const status = await client.communicationPreferences.statusApi.getEmailStatus(email);
  const marketing = status.subscriptionStatuses.find((s) => s.name === 'Marketing Information');
  if (!marketing || marketing.status !== 'SUBSCRIBED') {
    callback({ outputFields: { previous_status: marketing ? marketing.status : 'NONE', unsubscribed: false } });
    return;
  }
  await client.communicationPreferences.statusApi.unsubscribe({
    emailAddress: email,
    subscriptionId: marketing.id,
    legalBasis: 'LEGITIMATE_INTEREST_OTHER',
    legalBasisExplanation: 'Hard bounce',
  });
  callback({ outputFields: { previous_status: marketing.status, unsubscribed: true } });
};
