// Keeps the oldest company per domain: merges the newer duplicates into it.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const me = await client.crm.companies.basicApi.getById(String(event.object.objectId), ['domain']);
  const same = await client.crm.companies.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'EQ', value: me.properties.domain }] }],
    sorts: [{ propertyName: 'createdate', direction: 'ASCENDING' }],
    properties: ['domain', 'name'],
  });
  if (same.total < 2) {
    callback({ outputFields: { kept_id: me.id, merged: 0 } });
    return;
  }
  const [keep, ...rest] = same.results.sort((a, b) => Number(a.id) - Number(b.id));
  for (const dup of rest) await client.crm.companies.basicApi.merge({ primaryObjectId: keep.id, objectIdToMerge: dup.id });
  callback({ outputFields: { kept_id: keep.id, merged: rest.length } });
};
