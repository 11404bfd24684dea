// Routes the contact to the territory owner: HubDB row for the state, owner by email, then the contact's owner.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const state = (event.inputFields.state || '').toUpperCase();
  const rows = await client.cms.hubdb.rowsApi.getTableRows('territories');
  const row = rows.results.find((r) => String(r.values.state).toUpperCase() === state);
  if (!row) {
    callback({ outputFields: { territory: 'unassigned', owner_id: '' } });
    return;
  }
  const owners = await client.crm.owners.ownersApi.getPage(row.values.owner_email);
  const owner = owners.results[0];
  await client.crm.contacts.basicApi.update(String(event.object.objectId), { properties: { hubspot_owner_id: owner.id } });
  callback({ outputFields: { territory: row.values.territory, owner_id: owner.id } });
};
