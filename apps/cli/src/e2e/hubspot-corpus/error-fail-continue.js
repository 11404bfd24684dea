// Without a company to copy from, tells the workflow to continue on the failure branch.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const links = await client.crm.associations.v4.basicApi.getPage('contacts', String(event.object.objectId), 'companies');
  if (links.results.length === 0) {
    callback({ outputFields: { hs_execution_state: 'FAIL_CONTINUE', reason: 'no company' } });
    return;
  }
  callback({ outputFields: { reason: 'ok' } });
};
