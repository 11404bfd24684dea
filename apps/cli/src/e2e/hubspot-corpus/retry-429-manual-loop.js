// Updates the contact, retrying 429s itself with a growing wait (the pattern most production actions use).
const axios = require('axios');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function withRetry(fn, attempts = 4) {
  for (let attempt = 1; ; attempt++) {
    try {
      return { result: await fn(), attempt };
    } catch (err) {
      const status = err.response && err.response.status;
      if ((status !== 429 && !(status >= 500)) || attempt >= attempts) throw err;
      await sleep(200 * attempt);
    }
  }
}

exports.main = async (event, callback) => {
  const headers = { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}` };
  const { attempt } = await withRetry(() => axios.patch(`https://api.hubapi.com/crm/v3/objects/contacts/${event.object.objectId}`, { properties: { lead_status_synced: 'true' } }, { headers }));
  callback({ outputFields: { attempts: attempt } });
};
