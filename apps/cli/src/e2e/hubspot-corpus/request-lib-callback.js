// The request library (a seed library on HubSpot's runtime), callback style.
const request = require('request');

exports.main = (event, callback) => {
  request(
    {
      url: `https://api.hubapi.com/crm/v3/objects/contacts/${event.object.objectId}?properties=email`,
      headers: { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` },
      json: true,
    },
    (err, res, body) => {
      if (err) throw err;
      callback({ outputFields: { status: res.statusCode, email: body.properties.email } });
    },
  );
};
