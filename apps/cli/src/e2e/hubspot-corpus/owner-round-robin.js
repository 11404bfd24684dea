// Round robin over the active owners, by contact id, skipping owners on the "support" team.
const hubspot = require('@hubspot/api-client');

exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const page = await client.crm.owners.ownersApi.getPage(undefined, undefined, 100, false);
  const pool = page.results.filter((o) => !(o.teams || []).some((t) => t.name === 'Support')).sort((a, b) => Number(a.id) - Number(b.id));
  if (pool.length === 0) throw new Error('No owners to assign');
  const owner = pool[Number(event.object.objectId) % pool.length];
  await client.crm.contacts.basicApi.update(String(event.object.objectId), { properties: { hubspot_owner_id: owner.id } });
  return { outputFields: { owner_email: owner.email, pool_size: pool.length } };
};
