/**
 * Realistic actions using the Node built-ins, run through the real sandbox (host process,
 * workers, egress to a local server standing in for the internet through `mapHosts`).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest, startLocalServer, type LocalServer } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;
let server: LocalServer;
const report = zlib
  .gzipSync(
    JSON.stringify([
      { email: 'ada@example.com', score: 7 },
      { email: 'alan@example.com', score: 9 },
    ]),
  )
  .toString('base64');

before(async () => {
  server = await startLocalServer(({ url, body }) => {
    if (url.startsWith('/reports/latest')) return { headers: { 'content-type': 'text/plain' }, body: report };
    if (url.startsWith('/crm/v3/objects/contacts/')) return { body: { id: url.split('/').pop(), properties: { email: 'ada@example.com', lifecyclestage: 'lead' } } };
    return { body: { received: body } };
  });
  sandbox = await createSandbox({ poolSize: 1, egress: { allowHosts: [], mapHosts: { 'api.hubapi.com': server.url, 'reports.example.com': server.url } } });
});

after(async () => {
  await sandbox.close();
  await server.close();
});

describe('actions written against Node built-ins', () => {
  it('https.get a contact, gunzip a report, HMAC-sign it, keep a CSV in /tmp: async form', async () => {
    const secret = 'webhook-secret-value';
    const code = `
const https = require('https');
const crypto = require('crypto');
const zlib = require('zlib');
const fs = require('fs');
const path = require('path');
const os = require('os');

function getJson(url, headers) {
  return new Promise((resolve, reject) => {
    https.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}

exports.main = async (event) => {
  const contact = await getJson('https://api.hubapi.com/crm/v3/objects/contacts/' + event.object.objectId, { Authorization: 'Bearer ' + process.env.TOKEN });
  const report = await getJson('https://reports.example.com/reports/latest');
  const rows = JSON.parse(zlib.gunzipSync(Buffer.from(report.body, 'base64')).toString('utf8'));
  const file = path.join(os.tmpdir(), 'report.csv');
  fs.writeFileSync(file, 'email,score\\n');
  for (const row of rows) fs.appendFileSync(file, row.email + ',' + row.score + '\\n');
  const csv = fs.readFileSync(file, 'utf8');
  const signature = crypto.createHmac('sha256', process.env.SECRET).update(csv).digest('hex');
  return { outputFields: { stage: JSON.parse(contact.body).properties.lifecyclestage, status: contact.status, csv, signature, id: crypto.randomUUID().length } };
};`;
    const result = await sandbox.execute(hubspotRequest(code, { secrets: { TOKEN: 'token-1234', SECRET: secret } }));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    const csv = 'email,score\nada@example.com,7\nalan@example.com,9\n';
    assert.deepEqual(result.outputFields, { stage: 'lead', status: 200, csv, signature: crypto.createHmac('sha256', secret).update(csv).digest('hex'), id: 36 });
    assert.equal(server.requests.find((r) => r.url.startsWith('/crm/'))?.headers.authorization, 'Bearer token-1234');
  });

  it('callback form: callback once an https.request POST and a dns lookup have both answered', async () => {
    const code = `
const https = require('https');
const dns = require('dns');
exports.main = (event, callback) => {
  const outputs = {};
  let pending = 2;
  const done = () => { if (--pending === 0) callback({ outputFields: outputs }); };
  const req = https.request({ hostname: 'api.hubapi.com', path: '/webhooks/v1/notify', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
    let text = '';
    res.on('data', (c) => (text += c));
    res.on('end', () => { outputs.posted = JSON.parse(text).received; done(); });
  });
  req.on('error', (e) => { outputs.posted = e.code; done(); });
  req.end(JSON.stringify({ objectId: event.object.objectId }));
  dns.lookup('localhost', (error) => { outputs.dns = error ? error.code : 'resolved'; done(); });
};`;
    const result = await sandbox.execute(hubspotRequest(code));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { posted: '{"objectId":4}', dns: 'EGRESS_BLOCKED' });
  });

  it('callback form: a request still in flight when callback is called is completed before the result is delivered', async () => {
    const before = server.requests.length;
    const code = `
exports.main = (event, callback) => {
  require('http').get('http://api.hubapi.com/crm/v3/objects/contacts/99', (res) => res.resume());
  callback({ outputFields: { sent: true } });
};`;
    const result = await sandbox.execute(hubspotRequest(code));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(server.requests.length, before + 1);
  });

  it('an AWS Signature V4 key chain and an AES-GCM round trip give what Node computes', async () => {
    const code = `
const crypto = require('crypto');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
exports.main = async () => {
  const kDate = hmac('AWS4' + 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830');
  const kSigning = hmac(hmac(hmac(kDate, 'us-east-1'), 'iam'), 'aws4_request');
  const key = crypto.scryptSync('passphrase', 'salt', 32, { N: 1024 });
  const iv = Buffer.alloc(12, 1);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([c.update('pii: ada@example.com', 'utf8'), c.final()]);
  const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
  d.setAuthTag(c.getAuthTag());
  return { outputFields: { signing: kSigning.toString('hex'), sealed: sealed.toString('base64'), opened: d.update(sealed, undefined, 'utf8') + d.final('utf8') } };
};`;
    const result = await sandbox.execute(hubspotRequest(code));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac('sha256', key).update(data).digest();
    const kSigning = hmac(hmac(hmac(hmac('AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830'), 'us-east-1'), 'iam'), 'aws4_request');
    const c = crypto.createCipheriv('aes-256-gcm', crypto.scryptSync('passphrase', 'salt', 32, { N: 1024 }), Buffer.alloc(12, 1));
    const sealed = Buffer.concat([c.update('pii: ada@example.com', 'utf8'), c.final()]);
    assert.deepEqual(result.outputFields, { signing: kSigning.toString('hex'), sealed: sealed.toString('base64'), opened: 'pii: ada@example.com' });
  });
});
