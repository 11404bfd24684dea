/**
 * The sandbox contract, end to end: a real host process, real workers, the real runtime and
 * egress, a local HTTP server standing in for the internet (through `egress.mapHosts`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest, startLocalServer, workflowRequest, type LocalServer } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;
let server: LocalServer;
const tokenRequests: Array<{ tenantId: string; executionId: string; handle: string }> = [];

const run = (code: string, overrides: Parameters<typeof hubspotRequest>[1] = {}): Promise<ExecutionResult> => sandbox.execute(hubspotRequest(code, overrides));
const messages = (result: ExecutionResult): string[] => result.logs.map((line) => line.message);

before(async () => {
  server = await startLocalServer(({ url }) => {
    if (url.startsWith('/status/')) {
      const status = Number(url.split('/')[2]);
      const headers: Record<string, string> = status === 429 ? { 'retry-after': '7' } : {};
      return { status, headers, body: { status } };
    }
    if (url.startsWith('/crm/v3/objects/contacts/429')) return { status: 429, headers: { 'retry-after': '3' }, body: { status: 'error', category: 'RATE_LIMITS' } };
    if (url.startsWith('/crm/v3/objects/contacts/')) return { body: { id: url.split('/')[5]?.split('?')[0], properties: { email: 'ada@example.com' } } };
    if (url === '/slow') return { body: { slow: true } };
    return { body: { url } };
  });
  sandbox = await createSandbox({
    poolSize: 2,
    egress: { allowHosts: [], mapHosts: { 'api.example.com': server.url, 'api.hubapi.com': server.url, 'sheets.googleapis.com': server.url } },
    hostApi: {
      getOAuthToken: async (request) => {
        tokenRequests.push(request);
        if (request.handle === 'my-hubspot') return { token: 'tok-abcdef-123456' };
        if (request.handle === 'explodes') throw new Error('broker down');
        return { error: `No connection named ${request.handle}` };
      },
    },
  });
});

after(async () => {
  await sandbox.close();
  await server.close();
});

describe('HubSpot handler forms', () => {
  it('runs exports.main = async (event) => ({ outputFields }) with the event it was given', async () => {
    const result = await run(`exports.main = async (event) => ({ outputFields: { name: event.inputFields.firstname, id: event.object.objectId, portal: event.origin.portalId } })`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { name: 'Ada', id: 4, portal: 62515 });
    assert.equal(result.error, null);
  });

  it("gives event.fields the same values as event.inputFields, as practitioners' actions read them", async () => {
    const result = await run(
      `exports.main = async (event) => ({ outputFields: { same: JSON.stringify(event.fields) === JSON.stringify(event.inputFields), name: event.fields.firstname, separate: event.fields !== event.inputFields } })`,
    );
    assert.deepEqual(result.outputFields, { same: true, name: 'Ada', separate: true }, JSON.stringify(result.error));
  });

  it('stores an object or array output as its JSON text', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { raw: { properties: { name: 'Acme' } }, ids: ['1', '2'] } })`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { raw: '{"properties":{"name":"Acme"}}', ids: '["1","2"]' });
  });

  it('runs the callback form', async () => {
    const result = await run(`exports.main = (event, callback) => callback({ outputFields: { amount: event.inputFields.amount * 2 } })`);
    assert.deepEqual(result.outputFields, { amount: 24 });
  });

  it('accepts the Lambda-style callback(null, result) too', async () => {
    const result = await run(`exports.main = (event, callback) => callback(null, { outputFields: { lambda: true } })`);
    assert.deepEqual(result.outputFields, { lambda: true });
  });

  it('fails when callback is given an Error', async () => {
    const result = await run(`exports.main = (event, callback) => callback(new Error('could not find the deal'))`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.equal(result.error?.message, 'Error: could not find the deal');
  });

  it('runs module.exports.main and a synchronous main returning the result', async () => {
    const result = await run(`module.exports = { main: (event) => ({ outputFields: { ok: true } }) }`);
    assert.deepEqual(result.outputFields, { ok: true });
  });

  it('delivers a callback result only after the timers still pending have run', async () => {
    const result = await run(`exports.main = (event, callback) => {
      callback({ outputFields: { done: 'yes' } });
      setTimeout(() => console.log('cleanup after callback'), 30);
    }`);
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.outputFields, { done: 'yes' });
    assert.ok(messages(result).includes('cleanup after callback'), JSON.stringify(result.logs));
  });

  it('waits for a callback called later, after an async main resolved with nothing', async () => {
    const result = await run(`exports.main = async (event, callback) => {
      fetch('https://api.example.com/later').then((r) => r.json()).then((body) => callback({ outputFields: { url: body.url } }));
    }`);
    assert.deepEqual(result.outputFields, { url: '/later' });
  });

  it('ignores a second callback call and says so in the logs', async () => {
    const result = await run(`exports.main = (event, callback) => { callback({ outputFields: { n: 1 } }); callback({ outputFields: { n: 2 } }); }`);
    assert.deepEqual(result.outputFields, { n: 1 });
    assert.ok(
      messages(result).some((m) => m.includes('callback() was called more than once')),
      JSON.stringify(result.logs),
    );
  });

  it('succeeds with no outputs and a warning when main neither returns nor calls back', async () => {
    const result = await run(`exports.main = async () => { console.log('did some work') }`);
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.outputFields, {});
    assert.ok(messages(result).some((m) => m.includes('without returning a result or calling callback')));
  });

  it('fails with NO_ENTRY_POINT when the code exports no main', async () => {
    const result = await run(`exports.handler = async () => ({})`);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'NO_ENTRY_POINT');
    assert.match(result.error?.message ?? '', /export a function named main/);
  });

  it('fails with USER_CODE_ERROR when main throws, with the stack in the logs', async () => {
    const result = await run(`exports.main = async () => { throw new TypeError('bad input') }`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.equal(result.error?.message, 'TypeError: bad input');
    assert.equal(result.error?.retryable, undefined);
    assert.ok(
      result.logs.some((l) => l.level === 'error' && l.message.includes('/action/index.js:1')),
      JSON.stringify(result.logs),
    );
    assert.ok(!messages(result).join('\n').includes('codestep:bootstrap'), 'platform frames are hidden');
  });

  it('reports a syntax error with its location', async () => {
    const result = await run(`exports.main = async () => {\n  return {{ \n}`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.match(result.error?.message ?? '', /^SyntaxError: .*index\.js:\d+/);
  });

  it('fails when a timer callback throws, as an uncaught exception would in Node', async () => {
    const result = await run(`exports.main = (event, callback) => { setTimeout(() => { throw new Error('boom in timer') }, 5) }`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.match(result.error?.message ?? '', /Uncaught exception in timer callback: Error: boom in timer/);
  });

  it('fails on an unhandled promise rejection', async () => {
    const result = await run(`exports.main = (event, callback) => { Promise.reject(new Error('nobody listens')); setTimeout(() => callback({}), 50) }`);
    assert.equal(result.status, 'failed');
    assert.match(result.error?.message ?? '', /unhandled rejection.*nobody listens/);
  });
});

describe('JsWorkflows', () => {
  it('runs export class Workflow and returns what start returned', async () => {
    const result = await sandbox.execute(
      workflowRequest(
        `export class Workflow {
          helper(x) { return x * 2 }
          async start(data, headers, api) { return { doubled: this.helper(data.n), type: headers['content-type'] } }
        }`,
        { n: 21 },
      ),
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, { doubled: 42, type: 'application/json' });
  });

  it('gets OAuth tokens through the host API, never throwing, and redacts them from logs', async () => {
    const request = workflowRequest(
      `export class Workflow {
        async start(data, headers, api) {
          const good = await api.getOAuthToken('my-hubspot');
          const missing = await api.getOAuthToken('nope');
          const failing = await api.getOAuthToken('explodes');
          console.log('token is', good.token);
          return { good, missing, failing };
        }
      }`,
      {},
    );
    const result = await sandbox.execute(request);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, {
      good: { token: 'tok-abcdef-123456', error: null },
      missing: { token: null, error: 'No connection named nope' },
      failing: { token: null, error: 'Could not get a token for connection "explodes"' },
    });
    assert.deepEqual(messages(result), ['token is [REDACTED]']);
    assert.deepEqual(
      tokenRequests.find((r) => r.handle === 'my-hubspot'),
      { tenantId: 'tenant_test', executionId: request.executionId, handle: 'my-hubspot' },
    );
  });

  it('calls the HubSpot API with the token as in the JsWorkflows example', async () => {
    const result = await sandbox.execute(
      workflowRequest(
        `export class Workflow {
          async start(data, _headers, api) {
            const { token, error } = await api.getOAuthToken('my-hubspot');
            if (error || !token) throw new Error(error || 'Missing HubSpot token');
            const response = await fetch('https://api.hubapi.com/crm/v3/objects/contacts/' + data.id, { headers: { Authorization: 'Bearer ' + token } });
            if (!response.ok) throw new Error('HubSpot API ' + response.status);
            return (await response.json()).properties;
          }
        }`,
        { id: 77 },
      ),
    );
    assert.deepEqual(result.returnValue, { email: 'ada@example.com' });
    assert.equal(server.requests.at(-1)?.headers.authorization, 'Bearer tok-abcdef-123456');
  });
});

describe('outputs', () => {
  const outputFields = [
    { name: 'score', type: 'number' as const },
    { name: 'when', type: 'datetime' as const },
    { name: 'tier', type: 'enum' as const, options: ['gold', 'silver'] },
  ];

  it('converts declared outputs to their type', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { score: '42', when: '2024-05-01T10:00:00Z', tier: 'gold' } })`, { outputFields });
    assert.deepEqual(result.outputFields, { score: 42, when: Date.UTC(2024, 4, 1, 10), tier: 'gold' });
  });

  it('fails with INVALID_OUTPUT naming the field whose value does not match its type', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { score: 'lots', tier: 'bronze' } })`, { outputFields });
    assert.equal(result.error?.code, 'INVALID_OUTPUT');
    assert.match(result.error?.message ?? '', /score: expected a number/);
    assert.match(result.error?.message ?? '', /tier: "bronze" is not one of the options/);
  });

  it('drops an undeclared output with a warning line', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { score: 1, surprise: 'x' } })`, { outputFields });
    assert.deepEqual(result.outputFields, { score: 1 });
    assert.ok(result.logs.some((l) => l.level === 'warn' && l.message.includes('"surprise" is not declared')));
  });

  it('fails with OUTPUT_VALUES_TOO_LARGE for a string over 65,000 characters', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { big: 'x'.repeat(65001) } })`);
    assert.equal(result.error?.code, 'OUTPUT_VALUES_TOO_LARGE');
    assert.match(result.error?.message ?? '', /big \(65001 characters\)/);
  });

  it('honours hs_execution_state FAIL_CONTINUE as a failure the workflow continues past', async () => {
    const result = await run(`exports.main = (event, callback) => callback({ outputFields: { hs_execution_state: 'FAIL_CONTINUE', reason: 'not found' } })`);
    assert.equal(result.status, 'failed');
    assert.equal(result.executionState, 'FAIL_CONTINUE');
    assert.equal(result.error?.code, 'FAIL_CONTINUE');
    assert.deepEqual(result.outputFields, { reason: 'not found' });
  });

  it('fails with INVALID_OUTPUT when the result cannot become JSON', async () => {
    const result = await run(`exports.main = async () => { const a = {}; a.self = a; return { outputFields: a } }`);
    assert.equal(result.error?.code, 'INVALID_OUTPUT');
    assert.match(result.error?.message ?? '', /could not be converted to JSON/);
  });
});

describe('secrets', () => {
  it('exposes exactly the selected secrets as process.env', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { keys: Object.keys(process.env).join(','), key: process.env.HAPIKEY.length } })`, {
      secrets: { HAPIKEY: 'hk-0123456789', OTHER: 'other-secret' },
    });
    assert.deepEqual(result.outputFields, { keys: 'HAPIKEY,OTHER', key: 13 });
  });

  it('redacts secret values from logs and from error messages', async () => {
    const result = await run(
      `exports.main = async () => { console.log('using', process.env.HAPIKEY); console.error({ auth: process.env.HAPIKEY }); throw new Error('rejected key ' + process.env.HAPIKEY) }`,
      {
        secrets: { HAPIKEY: 'hk-0123456789' },
      },
    );
    const everything = JSON.stringify(result);
    assert.ok(!everything.includes('hk-0123456789'), everything);
    assert.equal(result.error?.message, 'Error: rejected key [REDACTED]');
    assert.equal(result.logs[0]?.message, 'using [REDACTED]');
  });

  it('redacts secret values from outputs before the result leaves the sandbox', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { key: process.env.HAPIKEY, header: 'Bearer ' + process.env.HAPIKEY, short: process.env.PIN, n: 7 } })`, {
      secrets: { HAPIKEY: 'hk-0123456789', PIN: '123' },
    });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { key: '[REDACTED]', header: 'Bearer [REDACTED]', short: '123', n: 7 });
  });

  it('redacts secret values from a JsWorkflows return value, at any depth and in keys', async () => {
    const request = workflowRequest(`export class Workflow { async start() { const k = process.env.HAPIKEY; return { deep: [{ auth: k }], [k]: 'as a key', list: [k, 'ok'] } } }`, {});
    const result = await sandbox.execute({ ...request, secrets: { HAPIKEY: 'hk-0123456789' } });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, { deep: [{ auth: '[REDACTED]' }], '[REDACTED]': 'as a key', list: ['[REDACTED]', 'ok'] });
  });

  it('never shows a secret in an output validation message, even cut where the message shortens the value', async () => {
    const result = await run(`exports.main = async () => ({ outputFields: { score: 'x'.repeat(30) + process.env.HAPIKEY } })`, {
      secrets: { HAPIKEY: 'hk-0123456789' },
      outputFields: [{ name: 'score', type: 'number' }],
    });
    assert.equal(result.error?.code, 'INVALID_OUTPUT');
    assert.ok(!JSON.stringify(result).includes('hk-01'), JSON.stringify(result.error));
  });

  it('refuses secrets totalling more than 1,000 characters with a clear error', async () => {
    const result = await run(`exports.main = async () => ({})`, { secrets: { A: 'a'.repeat(600), B: 'b'.repeat(401) } });
    assert.equal(result.error?.code, 'SECRETS_TOO_LARGE');
    assert.match(result.error?.message ?? '', /1001 characters; the limit is 1000/);
  });
});

describe('console', () => {
  it('captures each level with its time and formats values as Node does', async () => {
    const result = await run(`exports.main = async () => {
      console.log('a %s and %d', 'string', 42);
      console.info({ nested: { list: [1, 'two'] } });
      console.warn('warned');
      console.error(new Error('shown with stack'));
      console.debug(null, undefined, 3n);
    }`);
    assert.deepEqual(
      result.logs.map((l) => l.level),
      ['log', 'info', 'warn', 'error', 'debug', 'warn'],
    );
    assert.equal(result.logs[0]?.message, 'a string and 42');
    assert.equal(result.logs[1]?.message, "{ nested: { list: [ 1, 'two' ] } }");
    assert.match(result.logs[3]?.message ?? '', /^Error: shown with stack\n\s+at /);
    assert.equal(result.logs[4]?.message, 'null undefined 3n');
    assert.ok(result.logs.every((l) => typeof l.at === 'number' && l.at > 0));
  });

  it('caps the number of lines and marks the truncation', async () => {
    const result = await run(`exports.main = async () => { for (let i = 0; i < 2000; i++) console.log('line', i); return { outputFields: { ok: true } } }`);
    assert.equal(result.status, 'succeeded');
    assert.equal(result.logsTruncated, true);
    assert.equal(result.logs.length, 501);
    assert.match(result.logs[500]?.message ?? '', /logs truncated: 1500 more line\(s\) dropped/);
  });

  it('cuts a very long line', async () => {
    const result = await run(`exports.main = async () => { console.log('x'.repeat(100000)) }`);
    assert.match(result.logs[0]?.message ?? '', /… \[line truncated: 16384 characters\]$/);
    assert.ok((result.logs[0]?.message.length ?? 0) < 4200);
  });
});

describe('limits', () => {
  it('stops an execution at its time limit with TIMEOUT naming the limit, while another carries on', async () => {
    const [looping, normal] = await Promise.all([
      run(`exports.main = async () => { while (true) {} }`, { limits: { timeoutMs: 300, memoryMb: 128 } }),
      run(`exports.main = async () => { await new Promise((r) => setTimeout(r, 50)); return { outputFields: { ok: true } } }`),
    ]);
    assert.equal(looping.error?.code, 'TIMEOUT');
    assert.equal(looping.error?.message, 'The action did not finish within its time limit of 300 ms');
    assert.deepEqual(normal.outputFields, { ok: true });
  });

  it('stops an execution that exceeds its memory with MEMORY_LIMIT naming the limit', async () => {
    const result = await run(`exports.main = async () => { const keep = []; while (true) keep.push(new Array(100000).fill({ a: 1 })) }`, {
      limits: { timeoutMs: 10000, memoryMb: 64 },
    });
    assert.equal(result.error?.code, 'MEMORY_LIMIT');
    assert.equal(result.error?.message, 'The action exceeded its memory limit of 64 MB');
    const after = await run(`exports.main = async () => ({ outputFields: { ok: true } })`, { limits: { timeoutMs: 5000, memoryMb: 64 } });
    assert.deepEqual(after.outputFields, { ok: true });
  });

  it('keeps what a timed-out execution logged before it got stuck', async () => {
    const result = await run(`exports.main = async () => { console.log('starting'); await new Promise((r) => setTimeout(r, 200)); for (;;) {} }`, {
      limits: { timeoutMs: 1000, memoryMb: 128 },
    });
    assert.equal(result.error?.code, 'TIMEOUT');
    assert.deepEqual(messages(result), ['starting']);
  });

  it('replaces a worker that timed out instead of reusing it', async () => {
    const before = await sandbox.stats();
    await run(`exports.main = async () => { while (true) {} }`, { limits: { timeoutMs: 200, memoryMb: 128 } });
    const later = await sandbox.stats();
    assert.ok(later.replaced > before.replaced, JSON.stringify({ before, later }));
  });

  it('delivers the callback result at the time limit when timers are still pending, with a warning', async () => {
    const result = await run(`exports.main = (event, callback) => { setInterval(() => {}, 20); callback({ outputFields: { early: true } }) }`, {
      limits: { timeoutMs: 300, memoryMb: 128 },
    });
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.outputFields, { early: true });
    assert.ok(messages(result).some((m) => m.includes('still pending at the time limit of 300 ms')));
  });

  it('uses 20 s and 128 MB when the request sets no limits', async () => {
    const request = hubspotRequest(`exports.main = async () => ({ outputFields: { ok: true } })`);
    delete (request as { limits?: unknown }).limits;
    const result = await sandbox.execute(request);
    assert.deepEqual(result.outputFields, { ok: true });
  });

  it('refuses limits outside the allowed bounds', async () => {
    const result = await run(`exports.main = async () => ({})`, { limits: { timeoutMs: 0, memoryMb: 128 } });
    assert.equal(result.error?.code, 'INVALID_REQUEST');
    assert.match(result.error?.message ?? '', /limits\.timeoutMs must be an integer from 50/);
  });
});

describe('randomness and module state', () => {
  it('gives each of 1,000 executions started at once its own Math.random sequence', async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, () => run(`exports.main = async () => ({ outputFields: { r: String(Math.random()) + String(Math.random()) } })`)));
    assert.ok(results.every((r) => r.status === 'succeeded'));
    const values = new Set(results.map((r) => r.outputFields.r));
    assert.equal(values.size, 1000);
  });

  it('isolates module-scope state and globals between executions', async () => {
    const code = `let count = 0; globalThis.leaked = (globalThis.leaked || 0) + 1; Object.prototype.polluted = 'yes';
      exports.main = async () => ({ outputFields: { count: ++count, leaked: globalThis.leaked, polluted: ({}).polluted === 'yes' } })`;
    const first = await run(code);
    const second = await run(code);
    const clean = await run(`exports.main = async () => ({ outputFields: { polluted: 'polluted' in {} } })`);
    assert.deepEqual(first.outputFields, { count: 1, leaked: 1, polluted: true });
    assert.deepEqual(second.outputFields, { count: 1, leaked: 1, polluted: true });
    assert.deepEqual(clean.outputFields, { polluted: false });
  });
});

describe('require', () => {
  it('loads the allow-listed libraries and Node shims, with or without node:', async () => {
    const result = await run(`const _ = require('lodash'); const { URL } = require('node:url'); const qs = require('querystring');
      exports.main = async () => ({ outputFields: { s: _.kebabCase('Hello World'), h: new URL('https://a.example/x').host, q: qs.stringify({ a: 1 }) } })`);
    assert.deepEqual(result.outputFields, { s: 'hello-world', h: 'a.example', q: 'a=1' });
  });

  it('loads each library in every worker that needs it: again and again, and in workers started later', async () => {
    // A worker gets a library's source from the host on its first require of it (not at start).
    const code = `const _ = require('lodash'); const b = require('bluebird'); exports.main = async () => ({ outputFields: { s: _.camelCase('a b'), ok: typeof b.map === 'function' } })`;
    const first = await Promise.all(Array.from({ length: 6 }, () => run(code)));
    await run(`exports.main = async () => { while (true) {} }`, { limits: { timeoutMs: 100, memoryMb: 128 } });
    const later = await Promise.all(Array.from({ length: 6 }, () => run(code, { limits: { timeoutMs: 5000, memoryMb: 96 } })));
    for (const result of [...first, ...later]) assert.deepEqual(result.outputFields, { s: 'aB', ok: true }, JSON.stringify(result.error));
  });

  it('fails with MODULE_NOT_ALLOWED naming the module, the runtime version and the allowed list', async () => {
    const result = await run(`const cp = require('cluster'); exports.main = async () => ({})`);
    assert.equal(result.error?.code, 'MODULE_NOT_ALLOWED');
    assert.match(result.error?.message ?? '', /Cannot require "cluster": it is not available to actions on runtime node20: actions cannot start processes\. Available modules: .*lodash/);
    const other = await run(`const x = require('left-pad'); exports.main = async () => ({})`, { runtimeVersion: 'node24' });
    assert.match(other.error?.message ?? '', /Cannot require "left-pad": it is not available to actions on runtime node24\. Available modules: .*zlib/);
  });

  it("refuses the runtime's internal web runtime module like any unknown module, and lists no internal module", async () => {
    for (const name of ['codestep:web-runtime', 'node:codestep:web-runtime']) {
      const result = await run(`const m = require(${JSON.stringify(name)}); exports.main = async () => ({ outputFields: { got: typeof m } })`);
      assert.equal(result.status, 'failed', JSON.stringify(result));
      assert.equal(result.error?.code, 'MODULE_NOT_ALLOWED');
      assert.match(result.error?.message ?? '', new RegExp(`Cannot require "${name}": it is not available to actions on runtime node20\\. Available modules: `));
      assert.doesNotMatch(result.error?.message ?? '', /Available modules: .*codestep:/);
    }
    // Still refused once the context has loaded it for its own globals.
    const after = await run(
      `exports.main = async () => { const u = new URL('https://a.example/x').pathname; try { require('codestep:web-runtime'); return { outputFields: { u, got: 'loaded' } }; } catch (e) { return { outputFields: { u, got: e.code } }; } }`,
    );
    assert.deepEqual(after.outputFields, { u: '/x', got: 'MODULE_NOT_ALLOWED' }, JSON.stringify(after.error));
  });
});

describe('retryable failures', () => {
  it('marks a failure after a 429 from fetch as retryable, with Retry-After', async () => {
    const result = await run(`exports.main = async () => { const r = await fetch('https://api.example.com/status/429'); if (!r.ok) throw new Error('HTTP ' + r.status) }`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.equal(result.error?.retryable, true);
    assert.equal(result.error?.retryAfterMs, 7000);
  });

  it('marks a failure after a 5XX from axios as retryable', async () => {
    const result = await run(`const axios = require('axios'); exports.main = async () => { await axios.get('https://api.example.com/status/503') }`);
    assert.equal(result.error?.retryable, true);
    assert.equal(result.error?.retryAfterMs, undefined);
  });

  it('marks a failure after a 429 from the HubSpot client as retryable', async () => {
    const result = await run(`const hubspot = require('@hubspot/api-client');
      exports.main = async () => { const client = new hubspot.Client({ accessToken: 'x' }); await client.crm.contacts.basicApi.getById('429') }`);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.retryable, true, JSON.stringify(result));
    assert.equal(result.error?.retryAfterMs, 3000);
  });

  it('does not mark a failure after a 404 as retryable', async () => {
    const result = await run(`exports.main = async () => { const r = await fetch('https://api.example.com/status/404'); if (!r.ok) throw new Error('HTTP ' + r.status) }`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.equal(result.error?.retryable, undefined);
  });
});

describe('tracing', () => {
  it("adds the caller's traceparent to outbound requests that have none, as it is when the trace is not sampled", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const result = await run(
      `exports.main = async () => { await fetch('https://api.example.com/traced'); await fetch('https://api.example.com/own', { headers: { traceparent: 'mine' } }); return { outputFields: {} } }`,
      { traceparent },
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(server.requests.find((r) => r.url === '/traced')?.headers.traceparent, traceparent);
    assert.equal(server.requests.find((r) => r.url === '/own')?.headers.traceparent, 'mine');
    assert.equal(result.egressCalls, undefined, 'nothing recorded for an unsampled trace');
  });

  it('gives each outbound request of a sampled trace a span id of its own and reports it for its client span, without query or secrets', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const result = await run(
      `exports.main = async () => { await fetch('https://api.example.com/traced/' + process.env.TOKEN + '?q=1', { method: 'post', body: '{}' }); return { outputFields: {} } }`,
      { traceparent, secrets: { TOKEN: 'sekrit-value' } },
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    const sent = server.requests.find((r) => r.url?.startsWith('/traced/'))?.headers.traceparent;
    const [version, traceId, spanId, flags] = String(sent).split('-');
    assert.deepEqual([version, traceId, flags], ['00', '4bf92f3577b34da6a3ce929d0e0e4736', '01'], 'the same trace');
    assert.match(spanId!, /^[0-9a-f]{16}$/);
    assert.notEqual(spanId, '00f067aa0ba902b7', "a span of its own, not the caller's");
    assert.equal(result.egressCalls?.length, 1);
    const call = result.egressCalls![0]!;
    assert.equal(call.spanId, spanId);
    assert.equal(call.method, 'POST');
    assert.equal(call.url, 'https://api.example.com/traced/[REDACTED]');
    assert.equal(call.status, 200);
    assert.ok(call.startedAt > 0 && call.durationMs >= 0);
  });
});

describe('the HubSpot client', () => {
  it('reads a contact through the mapped api.hubapi.com, in the callback form of the docs', async () => {
    const result = await run(
      `const hubspot = require('@hubspot/api-client');
      exports.main = (event, callback) => {
        const hubspotClient = new hubspot.Client({ accessToken: process.env.HAPIKEY });
        hubspotClient.crm.contacts.basicApi.getById(String(event.object.objectId), ['email']).then((results) => {
          callback({ outputFields: { email: results.properties.email } });
        });
      };`,
      { secrets: { HAPIKEY: 'pat-na1-0000' } },
    );
    assert.deepEqual(result.outputFields, { email: 'ada@example.com' });
    assert.equal(server.requests.at(-1)?.headers.authorization, 'Bearer pat-na1-0000');
  });
});

describe('the host process', () => {
  it('fails the executions of a host that dies with a clear error and starts a new host', async () => {
    const { hostPid, hostStarts } = await sandbox.stats();
    assert.ok(hostPid);
    const pending = run(`exports.main = async () => { await new Promise((r) => setTimeout(r, 2000)); return { outputFields: {} } }`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(hostPid, 'SIGKILL');
    const result = await pending;
    assert.equal(result.error?.code, 'SANDBOX_CRASHED');
    assert.equal(result.error?.retryable, true);
    assert.match(result.error?.message ?? '', /The sandbox process ended while the action ran/);
    const next = await run(`exports.main = async () => ({ outputFields: { ok: true } })`);
    assert.deepEqual(next.outputFields, { ok: true });
    const stats = await sandbox.stats();
    assert.notEqual(stats.hostPid, hostPid);
    assert.equal(stats.hostStarts, hostStarts + 1);
  });
});

describe('runtime versions', () => {
  const versions = `
    const hubspot = require('@hubspot/api-client');
    const client = new hubspot.Client({ accessToken: 'x' });
    exports.main = async () => ({ outputFields: {
      objectsAssociationsApi: typeof client.crm.objects.associationsApi,
      mongoose: require('mongoose').version,
      redis: typeof require('redis').createClient,
      googleapis: typeof require('googleapis').google.sheets,
      lodash: require('lodash').VERSION,
    } })`;

  it("gives HubSpot's documented Node 20 set by default: api-client 10 (crm.objects.associationsApi), mongoose 6", async () => {
    const result = await run(versions, { limits: { timeoutMs: 30_000, memoryMb: 256 } });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { objectsAssociationsApi: 'object', mongoose: '6.13.11', redis: 'function', googleapis: 'function', lodash: '4.18.1' });
  });

  it("gives today's versions on node24 and on its alias latest: api-client 13 (no crm.objects.associationsApi), mongoose 9", async () => {
    for (const runtimeVersion of ['node24', 'latest']) {
      // The first require of each library reads, compiles and runs megabytes: room for a loaded machine.
      const result = await run(versions, { runtimeVersion, limits: { timeoutMs: 30_000, memoryMb: 256 } });
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
      assert.deepEqual(result.outputFields, { objectsAssociationsApi: 'undefined', mongoose: '9.13.2', redis: 'function', googleapis: 'function', lodash: '4.18.1' });
    }
  });

  it('keeps each execution to its own version when the same worker runs both, one after the other', async () => {
    const code = `exports.main = async () => ({ outputFields: { v: require('mongoose').version } })`;
    const got: unknown[] = [];
    for (const runtimeVersion of ['node20', 'node24', 'node20', 'node24']) got.push((await run(code, { runtimeVersion, limits: { timeoutMs: 30_000, memoryMb: 256 } })).outputFields.v);
    assert.deepEqual(got, ['6.13.11', '9.13.2', '6.13.11', '9.13.2']);
  });

  it('refuses an unknown runtime version with INVALID_REQUEST naming the field and the allowed values', async () => {
    const result = await run(`exports.main = async () => ({})`, { runtimeVersion: 'node18' });
    assert.equal(result.error?.code, 'INVALID_REQUEST');
    assert.match(result.error?.message ?? '', /runtimeVersion: "node18" is not a runtime version; use one of node20, node24, latest/);
  });

  it('does not let code require a library by its versioned key', async () => {
    const result = await run(`exports.main = async () => { try { require('mongoose@9.13.2'); return { outputFields: { got: 'loaded' } }; } catch (e) { return { outputFields: { got: e.code } }; } }`);
    assert.deepEqual(result.outputFields, { got: 'MODULE_NOT_ALLOWED' });
  });
});

describe("the seed libraries' own dependencies and sub-paths", () => {
  it("requires qs, uuid, form-data, mime-types, tslib, debug, node-fetch, xml2js, url-parse and bottleneck as on HubSpot's runtime", async () => {
    const result = await run(
      `exports.main = async () => {
        const qs = require('qs');
        const FormData = require('form-data');
        const form = new FormData();
        form.append('name', 'Ada');
        const parsed = await require('xml2js').parseStringPromise('<a><b>1</b></a>');
        return { outputFields: {
          qs: qs.stringify({ filter: { email: 'a@b.c' } }),
          uuid: /^[0-9a-f-]{36}$/.test(require('uuid').v4()),
          form: typeof form.getHeaders()['content-type'],
          mime: require('mime-types').lookup('report.csv'),
          tslib: typeof require('tslib').__awaiter,
          debug: typeof require('debug')('codestep'),
          fetch: typeof require('node-fetch'),
          xml: parsed.a.b[0],
          url: new (require('url-parse'))('https://a.example/x?y=1').pathname,
          bottleneck: typeof new (require('bottleneck'))({ maxConcurrent: 1 }).schedule,
        } };
      }`,
      { limits: { timeoutMs: 30_000, memoryMb: 128 } },
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, {
      qs: 'filter%5Bemail%5D=a%40b.c',
      uuid: true,
      form: 'string',
      mime: 'text/csv',
      tslib: 'function',
      debug: 'function',
      fetch: 'function',
      xml: '1',
      url: '/x',
      bottleneck: 'function',
    });
  });

  it('answers lodash/<fn>, async/<fn> and aws-sdk/clients/<service> from the library, and refuses other sub-paths', async () => {
    const result = await run(
      `exports.main = async () => {
        const refused = (name) => { try { require(name); return 'loaded'; } catch (e) { return e.code; } };
        return { outputFields: {
          get: require('lodash/get')({ a: { b: 2 } }, 'a.b'),
          same: require('lodash/get') === require('lodash').get,
          waterfall: typeof require('async/waterfall'),
          s3: require('aws-sdk/clients/s3') === require('aws-sdk').S3,
          dynamodb: require('aws-sdk/clients/dynamodb') === require('aws-sdk').DynamoDB,
          missing: refused('lodash/noSuchFunction'),
          deep: refused('lodash/fp/get'),
          other: refused('axios/lib/core'),
        } };
      }`,
      { limits: { timeoutMs: 30_000, memoryMb: 256 } },
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, {
      get: 2,
      same: true,
      waterfall: 'function',
      s3: true,
      dynamodb: true,
      missing: 'MODULE_NOT_ALLOWED',
      deep: 'MODULE_NOT_ALLOWED',
      other: 'MODULE_NOT_ALLOWED',
    });
  });

  it('calls a Google API with googleapis 67 (node20) and 171 (node24), over the sandbox egress', async () => {
    for (const runtimeVersion of ['node20', 'node24']) {
      const result = await run(
        `const { google } = require('googleapis');
        exports.main = async () => {
          const sheets = google.sheets({ version: 'v4', auth: 'api-key-1' });
          const res = await sheets.spreadsheets.get({ spreadsheetId: 'sheet-1' });
          return { outputFields: { status: res.status, url: res.data.url } };
        };`,
        { runtimeVersion, limits: { timeoutMs: 60_000, memoryMb: 512 } },
      );
      assert.equal(result.status, 'succeeded', `${runtimeVersion}: ${JSON.stringify(result.error)} ${JSON.stringify(result.logs)}`);
      assert.equal(result.outputFields.status, 200);
      assert.match(String(result.outputFields.url), /^\/v4\/spreadsheets\/sheet-1\?key=api-key-1$/);
    }
  });

  it('loads every seed library of both runtime versions in the sandbox', async () => {
    const names = ['@hubspot/api-client', 'async', 'aws-sdk', 'axios', 'bluebird', 'googleapis', 'lodash', 'mongoose', 'mysql', 'random-number-csprng', 'redis', 'request'];
    for (const runtimeVersion of ['node20', 'node24']) {
      const result = await run(`exports.main = async () => { const got = {}; for (const n of ${JSON.stringify(names)}) { const m = require(n); got[n] = typeof m; } return { outputFields: got }; }`, {
        runtimeVersion,
        limits: { timeoutMs: 60_000, memoryMb: 512 },
      });
      assert.equal(result.status, 'succeeded', `${runtimeVersion}: ${JSON.stringify(result.error)}`);
      for (const n of names) assert.ok(['function', 'object'].includes(String(result.outputFields[n])), `${runtimeVersion} ${n}: ${String(result.outputFields[n])}`);
    }
  });
});
