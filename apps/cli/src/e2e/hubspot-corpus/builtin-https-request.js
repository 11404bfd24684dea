// Node's https module, as older actions call the API without a library.
const https = require('https');

exports.main = (event, callback) => {
  const req = https.request(
    { hostname: 'api.hubapi.com', path: `/crm/v3/objects/contacts/${event.object.objectId}?properties=email`, method: 'GET', headers: { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` } },
    (res) => {
      let data = '';
      res.on('data', (chunk) => (data += chunk));
      res.on('end', () => callback({ outputFields: { status: res.statusCode, email: JSON.parse(data).properties.email } }));
    },
  );
  req.on('error', (e) => {
    throw e;
  });
  req.end();
};
