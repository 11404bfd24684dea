// Finds the buyer by email (search) or creates them, then associates them with the deal.
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const email = String(event.inputFields.buyer_email).trim().toLowerCase();
  const search = await hubspotClient.crm.contacts.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email }] }],
    properties: ['email', 'firstname'],
    limit: 1,
  });
  let contactId;
  let created = false;
  if (search.results.length > 0) {
    contactId = search.results[0].id;
  } else {
    const contact = await hubspotClient.crm.contacts.basicApi.create({ properties: { email, firstname: event.inputFields.buyer_name }, associations: [] });
    contactId = contact.id;
    created = true;
  }
  await hubspotClient.crm.associations.v4.basicApi.create('deals', String(event.object.objectId), 'contacts', contactId, [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }]);
  callback({ outputFields: { contact_id: contactId, created } });
};
