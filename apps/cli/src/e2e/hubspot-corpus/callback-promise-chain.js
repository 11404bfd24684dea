// Callback style with a promise chain (no async/await), as many older actions are written.
const hubspot = require('@hubspot/api-client');

exports.main = (event, callback) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  hubspotClient.crm.contacts.basicApi
    .getById(event.object.objectId, ['firstname', 'lastname'])
    .then((contact) => {
      const full = [contact.properties.firstname, contact.properties.lastname].filter(Boolean).join(' ');
      return hubspotClient.crm.contacts.basicApi.update(contact.id, { properties: { full_name: full } }).then(() => full);
    })
    .then((full) => callback({ outputFields: { full_name: full } }))
    .catch((err) => {
      console.error(err.message);
      throw err;
    });
};
