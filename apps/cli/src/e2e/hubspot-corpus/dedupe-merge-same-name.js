// Merges other contacts with the same first name, last name and company into this one (search, then merge).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const { firstname, lastname, company } = event.inputFields;
  const id = String(event.object.objectId);
  const found = await client.crm.contacts.searchApi.doSearch({
    filterGroups: [
      {
        filters: [
          { propertyName: 'firstname', operator: 'EQ', value: firstname },
          { propertyName: 'lastname', operator: 'EQ', value: lastname },
          { propertyName: 'company', operator: 'EQ', value: company },
          { propertyName: 'hs_object_id', operator: 'NEQ', value: id },
        ],
      },
    ],
    properties: ['email'],
  });
  for (const dup of found.results) {
    await client.crm.contacts.basicApi.merge({ primaryObjectId: id, objectIdToMerge: dup.id });
  }
  callback({ outputFields: { merged: found.results.length } });
};
