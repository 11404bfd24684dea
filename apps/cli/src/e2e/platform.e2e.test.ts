/**
 * End to end over the public HTTP API of the embedded platform, run as a real process:
 * workflows of custom code actions, chaining, failures, secrets, history, restart, tracing.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, differing, replayVerified, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const SCORE = `
exports.main = async (event) => {
  const email = event.inputFields.email;
  console.log('scoring', email, 'for object', event.object.objectId);
  console.warn('portal', event.origin.portalId, 'callback', typeof event.callbackId);
  return { outputFields: { score: email.endsWith('@example.com') ? 87 : 10, domain: email.split('@')[1] } };
};`;
const ROUTE = `
exports.main = (event, callback) => {
  const score = event.inputFields.score;
  callback({ outputFields: { tier: score > 50 ? 'gold' : 'basic', greeting: process.env.GREETING || 'unset' } });
};`;
const BOOM = `exports.main = async () => { throw new Error('the CRM said no'); };`;

interface Span {
  traceId: string;
  name: string;
}

describe('embedded platform, end to end over HTTP', () => {
  let dataDir: string;
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  let key: string;
  const spans: Span[] = [];
  let collector: Server;

  before(async () => {
    // A real OTLP/HTTP receiver: the platform exports its spans here.
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Span[] }> }> };
          for (const rs of parsed.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ traceId: s.traceId, name: s.name });
        } catch {}
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const port = (collector.address() as { port: number }).port;
    dataDir = mkdtempSync(join(tmpdir(), 'codestep-e2e-'));
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces` });
    assert.ok(platform.apiKey, `the first start prints an API key:\n${platform.output()}`);
    key = platform.apiKey!;
    call = api(platform.url, key);
  });

  after(async () => {
    await platform?.stop();
    collector?.close();
  });

  it('serves an OpenAPI document and refuses requests without a valid API key', async () => {
    const doc = await api(platform.url, undefined)('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    assert.ok(doc.body.paths['/v1/workflows/{id}/enrollments']);
    const anon = await api(platform.url, undefined)('GET', '/v1/workflows');
    assert.equal(anon.status, 401);
    assert.match(anon.body.error.message, /Authorization: Bearer/);
    const wrong = await api(platform.url, 'csk_wrong')('GET', '/v1/workflows');
    assert.equal(wrong.status, 401);
  });

  it('rejects a bad workflow with a message naming the field, and malformed JSON plainly', async () => {
    const bad = await call('POST', '/v1/workflows', { name: 'x', actions: [{ code: 'x', outputFields: [{ name: 'n', type: 'integer' }] }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /actions\[0\]\.outputFields\[0\]\.type: must be one of number, string/);
    const notJson = await call('POST', '/v1/workflows', '{"name": ');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.error.message, /not valid JSON/);
  });

  let chainId: string;
  let chainEnrollment: string;

  it('runs a chain of two custom code actions, the second taking the first one outputs, and shows outputs and logs in history', async () => {
    const secret = await call('PUT', '/v1/secrets/GREETING', { value: 'hello-from-secret' });
    assert.ok(secret.status === 200 || secret.status === 201, JSON.stringify(secret.body));
    const created = await call('POST', '/v1/workflows', {
      name: 'score then route',
      objectType: 'CONTACT',
      actions: [
        {
          id: 'score',
          code: SCORE,
          inputFields: [{ name: 'email', property: 'email' }],
          outputFields: [
            { name: 'score', type: 'number' },
            { name: 'domain', type: 'string' },
          ],
        },
        {
          id: 'route',
          code: ROUTE,
          inputFields: [{ name: 'score', fromAction: { actionId: 'score', field: 'score' } }],
          outputFields: [
            { name: 'tier', type: 'enum', options: ['gold', 'basic'] },
            { name: 'greeting', type: 'string' },
          ],
          secrets: ['GREETING'],
        },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    chainId = created.body.id;
    const enrolled = await call('POST', `/v1/workflows/${chainId}/enrollments`, { object: { objectType: 'CONTACT', objectId: '901', properties: { email: 'ada@example.com' } } });
    assert.equal(enrolled.status, 202, JSON.stringify(enrolled.body));
    chainEnrollment = enrolled.body.id;
    const done = await waitFor('the enrollment to finish', async () => {
      const r = await call('GET', `/v1/enrollments/${chainEnrollment}`);
      return r.status === 200 && r.body.status !== 'running' && r.body.executions.length === 2 && r.body.executions.every((x: { status: string }) => x.status !== 'running' && x.status !== 'requested')
        ? r.body
        : undefined;
    });
    assert.equal(done.status, 'completed', JSON.stringify(done, null, 2));
    const [first, second] = done.executions;
    assert.deepEqual(first.inputFields, { email: 'ada@example.com' });
    assert.deepEqual(first.outputFields, { score: 87, domain: 'example.com' });
    assert.deepEqual(
      first.logs.map((l: { level: string; message: string }) => [l.level, l.message]),
      [
        ['log', 'scoring ada@example.com for object 901'],
        ['warn', 'portal 0 callback string'],
      ],
    );
    assert.deepEqual(second.inputFields, { score: 87 });
    // An output equal to a selected secret is redacted in the sandbox, before it is stored.
    assert.deepEqual(second.outputFields, { tier: 'gold', greeting: '[REDACTED]' });
  });

  it('stores an output and an error message holding a selected secret redacted, in the enrollment and the execution', async () => {
    assert.ok([200, 201].includes((await call('PUT', '/v1/secrets/LEAKY', { value: 'leaky-secret-4711' })).status));
    const created = await call('POST', '/v1/workflows', {
      name: 'leaks',
      actions: [
        { id: 'out', code: `exports.main = async () => ({ outputFields: { token: 'Bearer ' + process.env.LEAKY } })`, outputFields: [{ name: 'token', type: 'string' }], secrets: ['LEAKY'] },
        { id: 'err', code: `exports.main = async () => { throw new Error('upstream refused ' + process.env.LEAKY) }`, secrets: ['LEAKY'] },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const enrolled = await call('POST', `/v1/workflows/${created.body.id}/enrollments`, { object: { objectId: 11 } });
    const failed = await waitFor('the enrollment to fail', async () => {
      const r = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return r.body.status === 'failed' && r.body.executions.length === 2 ? r.body : undefined;
    });
    assert.deepEqual(failed.executions[0].outputFields, { token: 'Bearer [REDACTED]' });
    assert.equal(failed.executions[1].error.message, 'Error: upstream refused [REDACTED]');
    const execution = await call('GET', `/v1/executions/${failed.executions[0].id}`);
    assert.ok(!JSON.stringify([failed, execution.body]).includes('leaky-secret-4711'));
  });

  it('keeps an action returning 150,000 undeclared outputs within its log caps, and its enrollment reads back with paged lines', async () => {
    const created = await call('POST', '/v1/workflows', {
      name: 'floods',
      actions: [
        {
          id: 'flood',
          code: `exports.main = async () => { const o = { kept: 'yes' }; for (let i = 0; i < 150000; i++) o['undeclared_' + i] = 1; console.log('returning'); return { outputFields: o }; }`,
          outputFields: [{ name: 'kept', type: 'string' }],
        },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const enrolled = await call('POST', `/v1/workflows/${created.body.id}/enrollments`, { object: { objectId: 12 } });
    const done = await waitFor('the enrollment to finish', async () => {
      const r = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
    });
    assert.equal(done.status, 'completed', JSON.stringify(done).slice(0, 2000));
    const [flood] = done.executions;
    assert.deepEqual(flood.outputFields, { kept: 'yes' });
    assert.deepEqual(
      flood.logs.map((l: { message: string }) => l.message.slice(0, 72)),
      ['returning', "150000 outputs are not declared in the action's outputs and were dropped"],
    );
    assert.deepEqual([flood.logsTotal, flood.logsOffset, flood.nextLinesAfter], [2, 0, null]);
    const page = await call('GET', `/v1/executions/${flood.id}?linesAfter=1&limit=1`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.deepEqual([page.body.logs.length, page.body.logsOffset, page.body.logsTotal, page.body.nextLinesAfter], [1, 1, 2, null]);
    const first = await call('GET', `/v1/executions/${flood.id}?limit=1`);
    assert.deepEqual([first.body.logs[0].message, first.body.nextLinesAfter, first.body.moreLogs], ['returning', 1, `/v1/executions/${flood.id}?linesAfter=1`]);
    const bad = await call('GET', `/v1/executions/${flood.id}?limit=0`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^limit must be a whole number from 1 to 1000/);
  });

  it('refuses secret names, workflow names and connection handles with control or bidirectional characters, naming the field', async () => {
    const secret = await call('PUT', `/v1/secrets/${encodeURIComponent('API\u202eKEY')}`, { value: 'v' });
    assert.equal(secret.status, 400);
    assert.match(secret.body.error.message, /^secret name contains the bidirectional formatting character U\+202E/);
    const workflow = await call('POST', '/v1/workflows', { name: 'invoice\u202efdp.exe', actions: [{ id: 'a', code: 'exports.main = async () => ({})' }] });
    assert.equal(workflow.status, 400);
    assert.match(workflow.body.error.message, /^name: contains the bidirectional formatting character U\+202E/);
    const action = await call('POST', '/v1/workflows', { name: 'ok', actions: [{ id: 'a', name: 'bell\u0007', code: 'exports.main = async () => ({})' }] });
    assert.equal(action.status, 400);
    assert.match(action.body.error.message, /^actions\[0\]\.name: contains the control character U\+0007/);
    const connection = await call('POST', '/v1/connections', { handle: 'my\u2066hubspot', provider: 'hubspot', permissions: ['contacts.read'] });
    assert.equal(connection.status, 400);
    assert.match(connection.body.error.message, /^connection handle contains the bidirectional formatting character U\+2066/);
    for (const body of [secret.body, workflow.body, action.body, connection.body]) assert.ok(!/[\u0007\u202e\u2066]/.test(JSON.stringify(body)));
  });

  it('marks the enrollment failed when the first action throws, with the error message in its history, and never runs the second', async () => {
    const created = await call('POST', '/v1/workflows', {
      name: 'fails',
      actions: [
        { id: 'boom', code: BOOM },
        { id: 'never', code: 'exports.main = async () => ({ outputFields: {} })' },
      ],
    });
    assert.equal(created.status, 201);
    const enrolled = await call('POST', `/v1/workflows/${created.body.id}/enrollments`, { object: { objectId: 5 } });
    const failed = await waitFor('the enrollment to fail', async () => {
      const r = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return r.body.status === 'failed' ? r.body : undefined;
    });
    assert.match(failed.error.message, /the CRM said no/);
    assert.equal(failed.error.actionId, 'boom');
    assert.equal(failed.executions.length, 1);
    assert.equal(failed.executions[0].status, 'failed');
    assert.match(failed.executions[0].error.message, /the CRM said no/);
  });

  it('enrolls once per Idempotency-Key', async () => {
    const a = await call('POST', `/v1/workflows/${chainId}/enrollments`, { object: { objectId: '77', properties: { email: 'x@y.z' } } }, { 'idempotency-key': 'order-77' });
    const b = await call('POST', `/v1/workflows/${chainId}/enrollments`, { object: { objectId: '77', properties: { email: 'x@y.z' } } }, { 'idempotency-key': 'order-77' });
    assert.equal(a.body.id, b.body.id);
    await waitFor('it to finish', async () => ((await call('GET', `/v1/enrollments/${a.body.id}`)).body.status === 'completed' ? true : undefined));
    const listed = await call('GET', `/v1/enrollments?workflowId=${chainId}`);
    assert.equal(listed.body.enrollments.filter((e: { id: string }) => e.id === a.body.id).length, 1);
  });

  it('records one trace per enrollment, from the HTTP request through the event log hops to the executions', async () => {
    const enrollment = (await call('GET', `/v1/enrollments/${chainEnrollment}`)).body;
    const traceId = enrollment.executions[0].traceId;
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.equal(enrollment.executions[1].traceId, traceId, 'both executions are in the enrollment trace');
    const inTrace = await waitFor(
      'spans to be exported',
      async () => {
        const names = spans.filter((s) => s.traceId === traceId).map((s) => s.name);
        // OpenTelemetry's conventions: the executor's and the enrollment service's consumer spans
        // are both `process codestep.actions.v1`, the request is named by its route.
        return names.filter((n) => n === 'process codestep.actions.v1').length >= 2 && names.includes('send codestep.actions.v1') && names.includes('POST /v1/workflows/:id/enrollments')
          ? names
          : undefined;
      },
      30_000,
    );
    assert.ok(inTrace.includes('codestep.enrollments.v1.Enrollments/Enroll'), `the gRPC Enroll call is in the trace: ${inTrace.join(', ')}`);
  });

  it('keeps the history, the workflows and the API key across a restart', async () => {
    const code = await platform.stop('SIGTERM');
    assert.equal(code, 0, platform.output());
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    assert.equal(platform.apiKey, undefined, 'no new tenant on the second start');
    call = api(platform.url, key);
    const again = await call('GET', `/v1/enrollments/${chainEnrollment}`);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'completed');
    assert.deepEqual(again.body.executions[1].outputFields, { tier: 'gold', greeting: '[REDACTED]' });
    const wf = await call('GET', `/v1/workflows/${chainId}`);
    assert.equal(wf.body.actions.length, 2);
    // And it still runs new enrollments.
    const enrolled = await call('POST', `/v1/workflows/${chainId}/enrollments`, { object: { objectId: '902', properties: { email: 'bob@other.org' } } });
    const done = await waitFor('the new enrollment', async () => {
      const r = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return r.body.status === 'completed' ? r.body : undefined;
    });
    assert.deepEqual(done.executions[1].outputFields.tier, 'basic');
  });

  it('rebuilds every history projection from the log and finds it equal to the live one', async () => {
    const report = await replayVerified({ CODESTEP_DATA_DIR: dataDir });
    assert.equal(report.equal, true, differing(report));
    assert.ok(report.collections['log/enrollments']!.live >= 4);
  });
});
