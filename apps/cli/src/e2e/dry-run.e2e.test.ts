/**
 * Dry runs, drafts, real records and save-time checks over the public API of an embedded
 * platform: a test action and a whole enrollment run as dry runs against a real local HTTP server
 * (its GETs reach it, its POSTs never do, and the ledger says what they would have sent with the
 * secret redacted); a draft not saved is tested; a real contact is read from the HubSpot fake
 * through the account's HubSpot connection; objectType is checked at save and at enrollment;
 * selected secrets and connections that do not exist are warned about at save and fail clearly
 * at run; a stack trace points at the user's line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { api, freeLoopbackPort, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const APP = { clientId: 'codestep-dry', clientSecret: 'dry-secret-1f2e' };
const TOKEN = 'sk-live-4f9a1c77b2';

// Reads a record, then writes two (one with the secret in a header, one with it in the body).
const SYNC = `exports.main = async (event) => {
  const read = await (await fetch('https://api.example.com/lookup?email=' + event.inputFields.email)).json();
  const created = await (await fetch('https://api.example.com/orders', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + process.env.SHOP_TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify({ email: event.inputFields.email, plan: read.plan }),
  })).json();
  await fetch('https://api.example.com/audit', { method: 'PUT', body: 'token=' + process.env.SHOP_TOKEN });
  return { outputFields: { plan: read.plan, orderId: created.id } };
};`;

const CLI = fileURLToPath(new URL('../main.ts', import.meta.url));
/** `codestep workflows …` as its own process: exit code and stdout. */
async function cli(url: string, key: string | undefined, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'workflows', ...args], { env: { ...process.env, CODESTEP_URL: url, CODESTEP_API_KEY: key ?? '' } });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

interface Seen {
  method: string;
  url: string;
}

describe('dry runs, drafts and real records', () => {
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  let server: http.Server;
  let fake: HubSpotFake;
  const seen: Seen[] = [];
  let wfId = '';

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '' });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ plan: 'pro', id: 'real-order' })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const port = await freeLoopbackPort();
    const publicUrl = `http://127.0.0.1:${port}`;
    fake = await startHubSpotFake({ oauthClients: [{ ...APP, redirectUris: [`${publicUrl}/oauth/callback`] }], rateLimitPerSecond: 0 });
    platform = await startPlatform({
      CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-dry-run-')),
      CODESTEP_HTTP_PORT: String(port),
      CODESTEP_PUBLIC_URL: publicUrl,
      HUBSPOT_CLIENT_ID: APP.clientId,
      HUBSPOT_CLIENT_SECRET: APP.clientSecret,
      HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
      HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
      HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
      HUBSPOT_API_BASE_URL: fake.url,
      CODESTEP_EGRESS_MAP_HOSTS: `api.example.com=${serverUrl},api.hubapi.com=${fake.url}`,
    });
    call = api(platform.url, platform.apiKey);
    assert.equal((await call('PUT', '/v1/secrets/SHOP_TOKEN', { value: TOKEN })).status, 200);
    const wf = await call('POST', '/v1/workflows', {
      name: 'sync order',
      objectType: 'contacts',
      actions: [
        {
          id: 'sync',
          code: SYNC,
          secrets: ['SHOP_TOKEN'],
          inputFields: [{ name: 'email', property: 'email' }],
          outputFields: [
            { name: 'plan', type: 'string' },
            { name: 'orderId', type: 'string' },
          ],
        },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    assert.equal(wf.body.objectType, 'CONTACT', 'saved as the canonical name');
    assert.equal(wf.body.warnings, undefined, 'no warning: the secret exists');
    wfId = wf.body.id;
  });

  after(async () => {
    await platform?.stop();
    await fake?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('a dry-run test sends the GET to the real server, not the POST or PUT, and returns their ledger with the secret redacted', async () => {
    const before = seen.length;
    const tested = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, { object: { objectId: 9, properties: { email: 'ada@example.com' } }, dryRun: true });
    assert.equal(tested.status, 200, JSON.stringify(tested.body));
    assert.equal(tested.body.status, 'succeeded', JSON.stringify(tested.body));
    assert.deepEqual(seen.slice(before), [{ method: 'GET', url: '/lookup?email=ada@example.com' }], 'only the read reached the server');
    assert.deepEqual(tested.body.outputFields, { plan: 'pro', orderId: 'dry-run-1' });
    assert.equal(tested.body.dryRun, true);
    const { writes, dropped } = tested.body.dryRunLedger;
    assert.equal(dropped, 0);
    assert.deepEqual(
      writes.map((w: { method: string; url: string; status: number }) => [w.method, w.url, w.status]),
      [
        ['POST', 'https://api.example.com/orders', 201],
        ['PUT', 'https://api.example.com/audit', 200],
      ],
    );
    // The platform's own traceparent joins the action's headers.
    assert.deepEqual(
      writes[0].headers.filter(([name]: [string]) => name !== 'traceparent'),
      [
        ['authorization', '[REDACTED]'],
        ['content-type', 'application/json'],
      ],
    );
    assert.deepEqual(JSON.parse(writes[0].body), { email: 'ada@example.com', plan: 'pro' });
    assert.equal(writes[1].body, 'token=[REDACTED]');
    assert.ok(!JSON.stringify(tested.body).includes(TOKEN), 'the secret is nowhere in the answer');
    const execution = await call('GET', `/v1/executions/${tested.body.executionId}`);
    assert.equal(execution.body.dryRun, true);
    assert.deepEqual(execution.body.dryRunLedger, tested.body.dryRunLedger, 'the history keeps the ledger');

    const real = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, { object: { objectId: 9, properties: { email: 'ada@example.com' } } });
    assert.deepEqual(real.body.outputFields, { plan: 'pro', orderId: 'real-order' });
    assert.equal(real.body.dryRun, undefined);
    assert.deepEqual(
      seen.slice(before + 1).map((s) => s.method),
      ['GET', 'POST', 'PUT'],
      'without dryRun the writes go out',
    );
  });

  it('enrolls as a dry run: the enrollment is marked, its execution holds the ledger, and no write is sent', async () => {
    const before = seen.length;
    const enrolled = await call('POST', `/v1/workflows/${wfId}/enrollments?dryRun=true`, { object: { objectType: 'CONTACT', objectId: '31', properties: { email: 'bo@example.com' } } });
    assert.equal(enrolled.status, 202, JSON.stringify(enrolled.body));
    assert.equal(enrolled.body.dryRun, true);
    const done = await waitFor('the dry-run enrollment', async () => {
      const e = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return e.body.status === 'completed' || e.body.status === 'failed' ? e.body : undefined;
    });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.dryRun, true);
    assert.equal(done.executions[0].dryRun, true);
    assert.deepEqual(
      done.executions[0].dryRunLedger.writes.map((w: { method: string }) => w.method),
      ['POST', 'PUT'],
    );
    assert.deepEqual(
      seen.slice(before).map((s) => s.method),
      ['GET'],
    );
    const bad = await call('POST', `/v1/workflows/${wfId}/enrollments?dryRun=yes`, { object: { objectId: '1' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /dryRun/);
  });

  it('codestep workflows test --dry-run lists what was not sent; --code tests a local draft', async () => {
    const before = seen.length;
    const event = join(mkdtempSync(join(tmpdir(), 'codestep-dry-cli-')), 'event.json');
    writeFileSync(event, JSON.stringify({ object: { objectId: 4, properties: { email: 'di@example.com' } } }));
    const dry = await cli(platform.url, platform.apiKey, ['test', wfId, 'sync', '--event', event, '--dry-run']);
    assert.equal(dry.code, 0, dry.stdout);
    assert.match(dry.stdout, /^✔ succeeded in \d+ ms \(v1, dry run, execution exe_\S+\)$/m);
    assert.match(dry.stdout, /^ {2}not sent: POST https:\/\/api\.example\.com\/orders \(\d+ bytes; answered 201\)$/m);
    assert.match(dry.stdout, /^ {2}not sent: PUT https:\/\/api\.example\.com\/audit/m);
    assert.deepEqual(
      seen.slice(before).map((x) => x.method),
      ['GET'],
    );
    const draftFile = join(mkdtempSync(join(tmpdir(), 'codestep-dry-cli-')), 'draft.js');
    writeFileSync(draftFile, 'exports.main = async (event) => ({ outputFields: { plan: "local", orderId: String(event.object.objectId) } });');
    const draft = await cli(platform.url, platform.apiKey, ['test', wfId, 'sync', '--event', event, '--code', draftFile, '--json']);
    assert.equal(draft.code, 0, draft.stdout);
    const out = JSON.parse(draft.stdout) as { draft: boolean; outputFields: Record<string, unknown> };
    assert.deepEqual([out.draft, out.outputFields], [true, { plan: 'local', orderId: '4' }]);
  });

  it('tests a draft not saved, checked as a save checks it', async () => {
    const draft = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, {
      object: { objectId: 9, properties: { email: 'cy@example.com' } },
      action: {
        code: 'exports.main = async (event) => ({ outputFields: { plan: "draft-" + event.inputFields.email, orderId: process.env.SHOP_TOKEN.length } });',
        secrets: ['SHOP_TOKEN'],
        inputFields: [{ name: 'email', property: 'email' }],
        outputFields: [
          { name: 'plan', type: 'string' },
          { name: 'orderId', type: 'string' },
        ],
      },
    });
    assert.equal(draft.status, 200, JSON.stringify(draft.body));
    assert.equal(draft.body.draft, true);
    assert.deepEqual(draft.body.outputFields, { plan: 'draft-cy@example.com', orderId: String(TOKEN.length) });
    assert.equal((await call('GET', `/v1/workflows/${wfId}`)).body.version, 1, 'nothing was saved');

    const broken = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, { action: { code: 'exports.main = async () => {\n  return { outputFields: { a: } };\n};' } });
    assert.equal(broken.status, 400);
    assert.match(broken.body.error.message, /^action\.code: SyntaxError: .* at line 2, column \d+/);
    const typo = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, { action: { code: 'exports.main = async () => ({});', outputFeilds: [] } });
    assert.equal(typo.status, 400);
    assert.match(typo.body.error.message, /action\.outputFeilds: is not a field here \(did you mean "outputFields"\?\)/);
  });

  it("reads a real record's properties from HubSpot through the account's connection", async () => {
    const contact = fake.seed('contacts', { email: 'real@example.com', firstname: 'Real' });
    const noConnection = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, { object: { objectId: contact.id, connection: 'hubspot' }, dryRun: true });
    assert.equal(noConnection.status, 400);
    assert.match(noConnection.body.error.message, /no HubSpot connection "hubspot"/);

    const created = await call('POST', '/v1/connections', { handle: 'hubspot', provider: 'hubspot', permissions: ['contacts.write'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
    const callback = await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
    assert.equal(callback.status, 200, await callback.text());

    const tested = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, { object: { objectId: contact.id }, dryRun: true });
    assert.equal(tested.status, 200, JSON.stringify(tested.body));
    assert.equal(tested.body.object.source, 'hubspot:hubspot');
    assert.equal(tested.body.object.properties.email, 'real@example.com');
    assert.equal(tested.body.object.objectType, 'CONTACT');
    assert.equal(tested.body.status, 'succeeded', JSON.stringify(tested.body));
    assert.equal(seen.at(-1)?.url, '/lookup?email=real@example.com', "the action got the record's email");

    const missing = await call('POST', `/v1/workflows/${wfId}/actions/sync/test`, { object: { objectId: '999999' } });
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /HubSpot has no contacts record 999999/);
  });
});

describe('save-time checks of objectType, secrets and connections', () => {
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;

  before(async () => {
    platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-save-checks-')) });
    call = api(platform.url, platform.apiKey);
  });
  after(async () => {
    await platform?.stop();
  });

  const action = { id: 'a', code: 'exports.main = async () => ({ outputFields: {} });' };

  it('accepts the CRM object types in their spellings, refuses anything else naming objectType', async () => {
    for (const [given, saved] of [
      ['deals', 'DEAL'],
      ['LINE_ITEM', 'LINE_ITEM'],
      ['0-5', 'TICKET'],
      ['2-1234567', '2-1234567'],
      ['p_cars', 'p_cars'],
      ['WEBHOOK', 'WEBHOOK'],
    ]) {
      const wf = await call('POST', '/v1/workflows', { name: given, objectType: given, actions: [action] });
      assert.equal(wf.status, 201, `${given}: ${JSON.stringify(wf.body)}`);
      assert.equal(wf.body.objectType, saved);
    }
    const bad = await call('POST', '/v1/workflows', { name: 'x', objectType: 'CONTAKT', actions: [action] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^objectType: "CONTAKT" is not a CRM object type: use one of contacts, companies, deals/);
  });

  it('refuses an enrollment of another object type with a 400 saying which; any spelling of the same type is enrolled', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'contacts only', objectType: 'CONTACT', actions: [action] });
    const deal = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType: 'DEAL', objectId: '5' } });
    assert.equal(deal.status, 400);
    assert.match(deal.body.error.message, /object\.objectType: "DEAL" does not match workflow wf_\S+, which enrolls CONTACT objects/);
    for (const objectType of ['contacts', '0-1', 'CONTACT']) {
      const ok = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType, objectId: '5' } });
      assert.equal(ok.status, 202, `${objectType}: ${JSON.stringify(ok.body)}`);
    }
    assert.equal((await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: '6' } })).status, 202, "no objectType: the workflow's");
    const trigger = await call('PUT', `/v1/workflows/${wf.body.id}/hubspot-trigger`, { subscription: 'deal.creation' });
    assert.equal(trigger.status, 400);
    assert.match(trigger.body.error.message, /"deal\.creation" enrolls DEAL objects but workflow wf_\S+ enrolls CONTACT objects/);
    assert.equal((await call('PUT', `/v1/workflows/${wf.body.id}/hubspot-trigger`, { subscription: 'contact.creation' })).status, 200);
  });

  it('warns at save about selected secrets and connections that do not exist; the run fails naming the secret', async () => {
    const wf = await call('POST', '/v1/workflows', {
      name: 'missing',
      actions: [
        { ...action, secrets: ['NOT_THERE', 'HUBSPOT_ACCESS_TOKEN'] },
        { id: 'b', runtime: 'jsworkflows', code: 'export class Workflow { async start(d, h, api) { return api.getOAuthToken("nowhere"); } }', connections: ['nowhere'] },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    assert.deepEqual(
      wf.body.warnings.map((w: { field: string }) => w.field),
      ['actions[0].secrets', 'actions[1].connections'],
    );
    assert.match(wf.body.warnings[0].message, /selects "NOT_THERE", which this account does not have: it will fail with SECRET_NOT_FOUND/);
    assert.match(wf.body.warnings[1].message, /declares "nowhere", which this account has no \(active or pending\) connection named/);
    const tested = await call('POST', `/v1/workflows/${wf.body.id}/actions/a/test`, {});
    assert.equal(tested.body.status, 'failed');
    assert.equal(tested.body.error.code, 'SECRET_NOT_FOUND');
    assert.match(tested.body.error.message, /NOT_THERE/);
    const put = await call('PUT', `/v1/secrets/NOT_THERE`, { value: 'here now' });
    assert.equal(put.status, 200);
    const again = await call('PUT', `/v1/workflows/${wf.body.id}`, { name: 'missing', actions: [{ ...action, secrets: ['NOT_THERE'] }] });
    assert.equal(again.body.warnings, undefined);
  });

  it("shows a thrown error's stack at the user's file and line, without the platform's frames", async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'throws', actions: [{ id: 't', code: 'exports.main = async () => {\n  const x = 1;\n  throw new Error("bad " + x);\n};' }] });
    const tested = await call('POST', `/v1/workflows/${wf.body.id}/actions/t/test`, {});
    assert.equal(tested.body.status, 'failed');
    const stack = tested.body.logs.map((l: { message: string }) => l.message).join('\n');
    assert.match(stack, /Error: bad 1\n\s+at exports\.main \(\/action\/index\.js:3:9\)/);
    assert.doesNotMatch(stack, /codestep|node:internal|worker|sandbox/i);
  });
});
