/**
 * Property-based fuzzing of every operation of the OpenAPI document, against an embedded
 * platform started here: hostile paths, query values, bodies and keys (`api-fuzz.arbitraries.ts`)
 * never get a 5xx; every error is a 4xx whose body is `{ error: { code, message } }` with a code of
 * the catalogue and the catalogue's status; and the process still answers /healthz afterwards.
 *
 * Bounded: FUZZ_RUNS runs per operation (150 unless set) and at most 4 s per operation. The seed
 * is printed, and fast-check names it with the failing request; FUZZ_SEED=<seed> replays a run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CATALOGUE, isErrorCode } from '@codestep/core';
import { requestsFor, type FuzzContext, type FuzzRequest, type Operation } from './api-fuzz.arbitraries.ts';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PER_OPERATION_MS = 4_000;

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Sends the request as generated (the path is not normalised); a stream is cut after its headers. */
function send(base: string, r: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(base + r.path, { method: r.method, headers: { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) }, agent: false }, (res) => {
      const contentType = String(res.headers['content-type'] ?? '');
      if (contentType.startsWith('text/event-stream')) {
        res.destroy();
        return resolve({ status: res.statusCode ?? 0, contentType, text: '' });
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType, text }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (e) => reject(new Error(`${r.method} ${r.path.slice(0, 200)}: ${e.message}`)));
    req.end(r.body);
  });
}

/** What must hold of every answer: no 5xx, and an error is a catalogue code with its own status and a message. */
function checkAnswer(r: FuzzRequest, a: Answer): void {
  const what = `${r.method} ${r.path.slice(0, 200)} (body ${r.body ? `${r.body.length} bytes: ${r.body.subarray(0, 120).toString()}` : 'none'}) → ${a.status} ${a.text.slice(0, 300)}`;
  assert.ok(a.status < 500, `a 5xx: ${what}`);
  if (a.status < 400) return;
  assert.match(a.contentType, /^application\/json/, `an error that is not JSON: ${what}`);
  const body = JSON.parse(a.text) as { error?: { code?: unknown; message?: unknown } };
  const code = body.error?.code;
  assert.ok(typeof code === 'string' && isErrorCode(code), `an error code outside the catalogue: ${what}`);
  assert.equal(ERROR_CATALOGUE[code].http, a.status, `the status is not the catalogue's for ${code}: ${what}`);
  assert.ok(typeof body.error?.message === 'string' && body.error.message.length > 0, `an error without a message: ${what}`);
}

/** The operations of the document; the webhook first and the tenant's limits last (other runs must not change them under a hook). */
function operationsOf(doc: { paths: Record<string, Record<string, unknown>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'delete'] as const) {
      const op = item[method] as { parameters?: Array<{ name: string; in: string; schema: Operation['query'][number]['schema'] }> } | undefined;
      if (!op) continue;
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema }));
      ops.push({ method: method.toUpperCase() as Operation['method'], path, query });
    }
  }
  const rank = (o: Operation) => (o.path.startsWith('/hooks/') ? 0 : o.path === '/v1/tenant/limits' ? 2 : 1);
  return ops.sort((a, b) => rank(a) - rank(b));
}

const QUICK = 'exports.main = async () => ({ outputFields: {} });';

describe('API fuzz: every operation of the OpenAPI document', () => {
  let platform: PlatformProcess;
  let ctx: FuzzContext;
  let operations: Operation[] = [];

  before(async () => {
    platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-fuzz-e2e-')), HUBSPOT_CLIENT_ID: 'fuzz', HUBSPOT_CLIENT_SECRET: 'fuzz' });
    const key = platform.apiKey!;
    const call = api(platform.url, key);
    const wf = await call('POST', '/v1/workflows', { name: 'fuzz', actions: [{ id: 'a', code: QUICK }] });
    const hookWf = await call('POST', '/v1/workflows', { name: 'fuzz hook', actions: [{ id: 'h', runtime: 'jsworkflows', code: 'export class Workflow { async start() { return { ok: true }; } }' }] });
    const hook = await call('POST', `/v1/workflows/${hookWf.body.id}/webhook`);
    const enr = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType: 'CONTACT', objectId: '1' } });
    const done = await waitFor('the fixture enrollment', async () => {
      const r = await call('GET', `/v1/enrollments/${enr.body.id}`);
      return r.body.status === 'completed' ? r.body : undefined;
    });
    assert.equal((await call('PUT', '/v1/secrets/FUZZ_SECRET', { value: 'fuzz' })).status, 200);
    assert.equal((await call('POST', '/v1/connections', { handle: 'fuzz-conn', provider: 'hubspot', permissions: ['contacts.read'] })).status, 201);
    const real: Record<string, string> = {
      '/v1/enrollments/{id}': enr.body.id,
      '/v1/executions/{id}': done.executions[0].id,
      '/hooks/{token}': String(hook.body.path).slice('/hooks/'.length),
    };
    ctx = {
      apiKey: key,
      realParam: (path, name) => real[path] ?? ({ id: wf.body.id, name: 'FUZZ_SECRET', handle: 'fuzz-conn' } as Record<string, string>)[name] ?? 'x',
      validBody: (op) => validBody(op),
    };
    operations = operationsOf((await call('GET', '/openapi.json')).body);
    console.log(`API fuzz: ${operations.length} operations, ${RUNS} runs each, seed ${SEED} (FUZZ_SEED=${SEED} replays it)`);
  });
  after(async () => {
    await platform?.stop();
  });

  it('answers every generated request to every operation without a 5xx, each error a catalogue code with a message, and still answers /healthz', async () => {
    assert.ok(operations.length >= 20, `the document lists ${operations.length} operations`);
    const counts = new Map<number, number>();
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(requestsFor(op, ctx), async (r) => {
          const answer = await send(platform.url, r);
          counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
          checkAnswer(r, answer);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: PER_OPERATION_MS, markInterruptAsFailure: false },
      );
    }
    console.log(`API fuzz statuses: ${JSON.stringify(Object.fromEntries([...counts].sort(([a], [b]) => a - b)))}`);
    const health = await api(platform.url, undefined)('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(platform.child.exitCode, null, 'the process is still running');
  });
});

/** A valid body of each operation that takes one, for the generators to mutate. */
function validBody(op: Operation): unknown {
  const key = `${op.method} ${op.path}`;
  const workflow = { name: 'fuzzed', objectType: 'CONTACT', actions: [{ id: 'a', code: QUICK, inputFields: [{ name: 'email', property: 'email' }], outputFields: [{ name: 'n', type: 'number' }] }] };
  const bodies: Record<string, unknown> = {
    'POST /v1/workflows': workflow,
    'PUT /v1/workflows/{id}': workflow,
    'POST /v1/workflows/{id}/enrollments': { object: { objectType: 'CONTACT', objectId: '7', properties: { email: 'a@example.com' } } },
    'PUT /v1/secrets/{name}': { value: 'fuzzed' },
    'POST /v1/connections': { handle: 'fuzz-two', provider: 'hubspot', permissions: ['contacts.read'] },
    'PUT /v1/tenant/limits': { defaultTimeoutMs: 10_000, maxTimeoutMs: 30_000, defaultMemoryMb: null, maxMemoryMb: 256 },
    'POST /hooks/{token}': { name: '#1001', lines: [{ sku: 'a', qty: 1 }] },
  };
  return bodies[key] ?? {};
}
