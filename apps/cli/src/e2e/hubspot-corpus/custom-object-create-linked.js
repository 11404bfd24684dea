// Creates a subscription record (custom object) for the deal's contact and links both (schema look-up by name).
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const schemas = await client.crm.schemas.coreApi.getAll();
  const schema = schemas.results.find((s) => s.name === 'subscriptions');
  const record = await client.crm.objects.basicApi.create(schema.objectTypeId, { properties: { plan: event.inputFields.plan, seats: event.inputFields.seats }, associations: [] });
  await client.crm.associations.v4.basicApi.createDefault(schema.objectTypeId, record.id, 'contacts', String(event.object.objectId));
  callback({ outputFields: { subscription_id: record.id, object_type: schema.objectTypeId.startsWith('2-') ? 'custom' : 'standard' } });
};
