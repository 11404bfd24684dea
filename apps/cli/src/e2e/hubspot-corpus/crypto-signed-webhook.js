// Signs a payload for an outside webhook with an HMAC secret (crypto); outputs the signature prefix and a request id.
const crypto = require('crypto');

exports.main = async (event, callback) => {
  const payload = JSON.stringify({ email: event.inputFields.email, event: event.inputFields.event_name });
  const signature = crypto.createHmac('sha256', process.env.WEBHOOK_SECRET).update(payload).digest('hex');
  const requestId = crypto.createHash('sha1').update(event.inputFields.email).digest('hex').slice(0, 12);
  callback({ outputFields: { signature: signature.slice(0, 16), request_id: requestId } });
};
