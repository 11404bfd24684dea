// Written for api-client 10: merges the duplicate into this contact with publicObjectApi.merge (renamed in 12).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const merged = await hubspotClient.crm.contacts.publicObjectApi.merge({ primaryObjectId: String(event.object.objectId), objectIdToMerge: String(event.inputFields.duplicate_id) });
  callback({ outputFields: { merged_into: merged.id } });
};
