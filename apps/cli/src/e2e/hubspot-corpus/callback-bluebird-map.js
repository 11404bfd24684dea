// Reads the deal's contacts two at a time with bluebird's Promise.map, and returns through the callback.
const Promise = require('bluebird');
const hubspot = require('@hubspot/api-client');

exports.main = function (event, callback) {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  client.crm.associations.v4.basicApi
    .getPage('deals', String(event.object.objectId), 'contacts')
    .then((links) => Promise.map(links.results, (l) => client.crm.contacts.basicApi.getById(String(l.toObjectId), ['jobtitle']), { concurrency: 2 }))
    .then((contacts) => {
      const deciders = contacts.filter((c) => /chief|vp|director|head/i.test(c.properties.jobtitle || ''));
      callback({ outputFields: { decision_makers: deciders.length, has_champion: deciders.length > 0 } });
    });
};
