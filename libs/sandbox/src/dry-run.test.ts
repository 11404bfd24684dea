/**
 * Dry runs through the real sandbox: the action's reads reach a local server, its writes never
 * do, whichever client makes them (fetch, `https`, the HubSpot client), and the result carries
 * the ledger of what was held back with credentials and secret values redacted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest, startLocalServer, type LocalServer } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;
let server: LocalServer;

before(async () => {
  server = await startLocalServer(({ url }) => {
    if (url.startsWith('/crm/v3/objects/contacts/')) return { body: { id: url.split('/')[5]?.split('?')[0], properties: { email: 'ada@example.com' } } };
    return { body: { url } };
  });
  sandbox = await createSandbox({ poolSize: 1, egress: { allowHosts: [], mapHosts: { 'api.example.com': server.url, 'api.hubapi.com': server.url }, allowSockets: ['127.0.0.1:1'] } });
});

after(async () => {
  await sandbox.close();
  await server.close();
});

const ACTION = `
const hubspot = require('@hubspot/api-client');
const https = require('https');
exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const contact = await client.crm.contacts.basicApi.getById('4');
  const created = await client.crm.contacts.basicApi.create({ properties: { email: contact.properties.email, note: 'key ' + process.env.HUBSPOT_TOKEN } });
  const read = await (await fetch('https://api.example.com/read?x=1')).json();
  const posted = await fetch('https://api.example.com/hooks?api_key=abc', { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 't1' }, body: JSON.stringify({ hello: 'world' }) });
  const answer = await posted.json();
  const deleted = await new Promise((resolve, reject) => {
    const req = https.request('https://api.example.com/things/9', { method: 'DELETE' }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  });
  return { outputFields: { createdId: created.id, readUrl: read.url, answerId: answer.id, dryRunHeader: posted.headers.get('x-codestep-dry-run'), deleted } };
};`;

describe('a dry run', () => {
  it('sends the GETs, holds back the POST and DELETE of fetch, https and the HubSpot client, and returns the ledger redacted', async () => {
    const before = server.requests.length;
    const result = await sandbox.execute(hubspotRequest(ACTION, { secrets: { HUBSPOT_TOKEN: 'pat-na1-secret-token' }, dryRun: true, limits: { timeoutMs: 15_000, memoryMb: 256 } }));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error) + JSON.stringify(result.logs));
    assert.deepEqual(
      server.requests.slice(before).map((r) => `${r.method} ${r.url}`),
      ['GET /crm/v3/objects/contacts/4', 'GET /read?x=1'],
    );
    assert.deepEqual(result.outputFields, { createdId: 'dry-run-1', readUrl: '/read?x=1', answerId: 'dry-run-2', dryRunHeader: 'true', deleted: 204 });
    const writes = result.dryRun?.writes ?? [];
    assert.deepEqual(
      writes.map((w) => `${w.method} ${w.url}`),
      ['POST https://api.hubapi.com/crm/v3/objects/contacts', 'POST https://api.example.com/hooks?api_key=%5BREDACTED%5D', 'DELETE https://api.example.com/things/9'],
    );
    const create = writes[0]!;
    assert.equal(create.headers.find(([k]) => k === 'authorization')?.[1], '[REDACTED]');
    assert.deepEqual(JSON.parse(create.body), { properties: { email: 'ada@example.com', note: 'key [REDACTED]' } });
    assert.ok(!JSON.stringify(result).includes('pat-na1-secret-token'), 'the secret appears nowhere in the result');
    assert.equal(writes[1]!.body, '{"hello":"world"}');
    assert.deepEqual(
      writes[1]!.headers.filter(([k]) => k === 'x-trace'),
      [['x-trace', 't1']],
    );
    assert.equal(result.dryRun?.dropped, 0);
  });

  it('refuses sockets, even allow-listed ones, with a message saying why', async () => {
    const result = await sandbox.execute(
      hubspotRequest(
        `const net = require('net');
        exports.main = async () => {
          const message = await new Promise((resolve) => { const s = net.connect(1, '127.0.0.1'); s.on('error', (e) => resolve(e.code + ' ' + e.message)); s.on('connect', () => resolve('connected')); });
          return { outputFields: { message } };
        };`,
        { dryRun: true },
      ),
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.match(String(result.outputFields.message), /^EGRESS_BLOCKED .*dry run/);
    assert.deepEqual(result.dryRun, { writes: [], dropped: 0 });
  });

  it('is off unless asked for: a POST goes out and the result has no ledger', async () => {
    const before = server.requests.length;
    const result = await sandbox.execute(hubspotRequest(`exports.main = async () => { await fetch('https://api.example.com/w', { method: 'POST', body: 'x' }); return { outputFields: {} }; };`));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(
      server.requests.slice(before).map((r) => r.method),
      ['POST'],
    );
    assert.equal(result.dryRun, undefined);
  });
});
