/**
 * JsWorkflows steps in the real sandbox: any method of the Workflow class as a step, the class
 * with or without `export`, `api.scheduleNextStep` (recorded with the result, checked against its
 * bounds where it is called), `api.log` and the global `env`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseStepDelay } from '@codestep/core';
import { createHash } from 'node:crypto';
import { createSandbox } from './sandbox.ts';
import type { ExecutionInput, ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { workflowRequest } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;
const scheduling = { minDelayMs: 10_000, maxDelayMs: 400 * 86_400_000, maxPayloadChars: 200, maxNextSteps: 5, maxWaitTimeoutMs: 30 * 86_400_000, resumeBaseUrl: 'https://codestep.example.com/' };

function runStep(code: string, step: string, data: unknown, secrets: Record<string, string> = {}): Promise<ExecutionResult> {
  const request = workflowRequest(code, data, { secrets });
  request.input = { ...(request.input as Extract<ExecutionInput, { runtime: 'jsworkflows' }>), step, scheduling };
  return sandbox.execute(request);
}

/** The host's side of `api.runStore` / `api.dedupe`: a map, and what was asked. */
const runStateRequests: Array<{ tenantId: string; executionId: string; request: { op: string; key: string; value?: unknown } }> = [];
const values = new Map<string, unknown>();

before(async () => {
  sandbox = await createSandbox({
    poolSize: 1,
    hostApi: {
      runState: async ({ tenantId, executionId, requestJson }) => {
        const request = JSON.parse(requestJson) as { op: string; key: string; value?: unknown };
        runStateRequests.push({ tenantId, executionId, request });
        if (request.key === 'boom') return { error: 'the store is down' };
        if (request.op === 'get') return { value: values.get(request.key) ?? null };
        if (request.op === 'set') return (values.set(request.key, request.value), { value: null });
        if (request.op === 'increment') return (values.set(request.key, ((values.get(request.key) as number) ?? 0) + (request.value as number)), { value: values.get(request.key) });
        if (request.op === 'dedupe') return { value: { locked: values.has(`dedupe:${request.key}`) || (values.set(`dedupe:${request.key}`, true), false) } };
        return { value: null };
      },
    },
  });
});
after(() => sandbox.close());

const CHAIN = `class Workflow {
  async start(data, headers, api) {
    await api.scheduleNextStep({ delay: '10 min', action: 'sendReminder', payload: { orderId: data.id } });
    return { accepted: data.id };
  }
  async sendReminder({ orderId }, headers, api) {
    api.log('Sending reminder for order', orderId);
    return { reminded: orderId };
  }
}`;

describe('JsWorkflows steps', () => {
  it('runs start of a class declared without export, and records the next step it scheduled', async () => {
    const result = await runStep(CHAIN, 'start', { id: 7 });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, { accepted: 7 });
    assert.deepEqual(result.nextSteps, [{ action: 'sendReminder', delayMs: 600_000, payloadJson: '{"orderId":7}' }]);
  });

  it('runs a named step with its payload as data, api.log in its own logs', async () => {
    const result = await runStep(CHAIN, 'sendReminder', { orderId: 7 });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, { reminded: 7 });
    assert.equal(result.nextSteps, undefined);
    assert.deepEqual(
      result.logs.map((l) => l.message),
      ['Sending reminder for order 7'],
    );
  });

  it('runs the exported class the same way, and a fan-out records every call in order', async () => {
    const code = `export class Workflow {
      async start(data, headers, api) { for (const item of data.items) await api.scheduleNextStep({ delay: 10, action: 'processItem', payload: item }); }
      async processItem(item) {}
    }`;
    const result = await runStep(code, 'start', { items: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(
      result.nextSteps?.map((s) => [s.action, s.delayMs, s.payloadJson]),
      [
        ['processItem', 10_000, '{"n":1}'],
        ['processItem', 10_000, '{"n":2}'],
        ['processItem', 10_000, '{"n":3}'],
      ],
    );
  });

  it('fails the step with NO_ENTRY_POINT when the method to run does not exist', async () => {
    const result = await runStep(CHAIN, 'renamedStep', {});
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'NO_ENTRY_POINT');
    assert.match(result.error?.message ?? '', /no method renamedStep/);
  });

  const badCalls: Array<[string, string, RegExp]> = [
    ['an unknown action', `{ delay: 10, action: 'nope' }`, /has no method "nope"/],
    ['start', `{ delay: 10, action: 'start' }`, /"start" cannot be scheduled: start is the entry point/],
    ['a method of Object.prototype', `{ delay: 10, action: 'toString' }`, /has no method "toString"/],
    ['a delay under the minimum', `{ delay: 5, action: 'later' }`, /delay of 5 s is outside the allowed 10 s to 34560000 s/],
    ['a delay over the maximum', `{ delay: '401 days', action: 'later' }`, /delay of 34646400 s is outside/],
    ['a delay that is not a duration', `{ delay: 'soon', action: 'later' }`, /delay "soon" is not a duration/],
    ['a payload over the cap', `{ delay: 10, action: 'later', payload: { text: 'x'.repeat(300) } }`, /payload is over 200 characters of JSON/],
    ['a payload that is not JSON', `{ delay: 10, action: 'later', payload: { n: 1n } }`, /payload is not JSON/],
  ];
  for (const [what, call, message] of badCalls) {
    it(`fails the step with INVALID_STEP for ${what}`, async () => {
      const result = await runStep(`class Workflow { async start(d, h, api) { await api.scheduleNextStep(${call}); } async later() {} }`, 'start', {});
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'INVALID_STEP');
      assert.match(result.error?.message ?? '', message);
      assert.equal(result.nextSteps, undefined);
    });
  }

  it('fails the step when it schedules more next steps than a step may', async () => {
    const result = await runStep(`class Workflow { async start(d, h, api) { for (let i = 0; i < 6; i++) await api.scheduleNextStep({ delay: 10, action: 'later' }); } async later() {} }`, 'start', {});
    assert.equal(result.error?.code, 'INVALID_STEP');
    assert.match(result.error?.message ?? '', /at most 5 next steps/);
  });

  it('lets the step catch a refused call and go on, scheduling nothing', async () => {
    const result = await runStep(
      `class Workflow { async start(d, h, api) { try { await api.scheduleNextStep({ delay: 1, action: 'later' }); } catch (e) { return { caught: e.message }; } } async later() {} }`,
      'start',
      {},
    );
    assert.equal(result.status, 'succeeded');
    assert.match((result.returnValue as { caught: string }).caught, /outside the allowed/);
    assert.equal(result.nextSteps, undefined);
  });

  it('schedules nothing when the step fails after calling scheduleNextStep', async () => {
    const result = await runStep(`class Workflow { async start(d, h, api) { await api.scheduleNextStep({ delay: 10, action: 'later' }); throw new Error('boom'); } async later() {} }`, 'start', {});
    assert.equal(result.status, 'failed');
    assert.equal(result.nextSteps, undefined);
  });

  it('gives the selected secrets as the global env (and process.env), redacted from what leaves', async () => {
    const code = `class Workflow { async start() { console.log(typeof env, Object.keys(env).join(',')); return { same: env.API_KEY === process.env.API_KEY, value: env.API_KEY }; } }`;
    const result = await runStep(code, 'start', {}, { API_KEY: 'secret-value-1' });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, { same: true, value: '[REDACTED]' });
    assert.deepEqual(
      result.logs.map((l) => l.message),
      ['object API_KEY'],
    );
  });

  it('keeps no memory between two steps of the same class (a fresh context each)', async () => {
    const code = `let calls = 0; class Workflow { async start() { calls++; return { calls }; } }`;
    const first = await runStep(code, 'start', {});
    const second = await runStep(code, 'start', {});
    assert.deepEqual([first.returnValue, second.returnValue], [{ calls: 1 }, { calls: 1 }]);
  });
});

describe('api.runStore and api.dedupe in a step', () => {
  it('reaches the host with the operation and gives the step its answer', async () => {
    const code = `class Workflow { async start(d, h, api) {
      await api.runStore.set('order', { id: 7 });
      const order = await api.runStore.get('order');
      const missing = await api.runStore.get('missing');
      const n1 = await api.runStore.increment('count');
      const n2 = await api.runStore.increment('count', 5);
      const first = await api.dedupe('evt-1');
      const second = await api.dedupe('evt-1');
      return { order, missing, n1, n2, first, second };
    } }`;
    const result = await runStep(code, 'start', {});
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, { order: { id: 7 }, missing: null, n1: 1, n2: 6, first: { locked: false }, second: { locked: true } });
    assert.deepEqual(
      runStateRequests.slice(0, 4).map((r) => r.request),
      [
        { op: 'set', key: 'order', value: { id: 7 } },
        { op: 'get', key: 'order' },
        { op: 'get', key: 'missing' },
        { op: 'increment', key: 'count', value: 1 },
      ],
    );
    assert.equal(runStateRequests[0]?.tenantId, 'tenant_test');
  });

  it("rejects a bad key or delta in the step, and passes on the host's error as the rejection", async () => {
    const code = `class Workflow { async start(d, h, api) {
      const errors = [];
      for (const attempt of [() => api.runStore.get(''), () => api.runStore.increment('n', 'x'), () => api.runStore.set('k', { n: 1n }), () => api.runStore.get('boom')]) {
        try { await attempt(); } catch (e) { errors.push(e.message); }
      }
      return errors;
    } }`;
    const result = await runStep(code, 'start', {});
    assert.deepEqual(result.returnValue, [
      'api.runStore.get: key must be a non-empty string of at most 200 characters',
      'api.runStore.increment: delta must be a finite number',
      'api.runStore.set: the value is not JSON: Do not know how to serialize a BigInt',
      'the store is down',
    ]);
  });
});

describe('lifecycle hooks in the sandbox', () => {
  const HOOKS = `class Workflow {
    async start() {}
    async onWorkflowComplete(api) { api.log('complete', typeof api.scheduleNextStep, typeof api.waitForEvent, typeof api.runStore.get, arguments.length); return { hook: 'complete' }; }
    async onWorkflowError(err, api) { api.log('error', err instanceof Error, err.message, err.code, err.actionId, typeof api.scheduleNextStep); }
  }`;

  it('calls onWorkflowComplete(api) with a restricted api: no scheduling, no waits', async () => {
    const result = await runStep(HOOKS, 'onWorkflowComplete', null);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.returnValue, { hook: 'complete' });
    assert.deepEqual(
      result.logs.map((l) => l.message),
      ['complete undefined undefined function 1'],
    );
  });

  it('calls onWorkflowError(err, api) with an Error carrying the failure', async () => {
    const result = await runStep(HOOKS, 'onWorkflowError', { error: { code: 'USER_CODE_ERROR', message: 'boom' }, failedActionId: 'flow' });
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(
      result.logs.map((l) => l.message),
      ['error true boom USER_CODE_ERROR flow undefined'],
    );
  });

  it('succeeds doing nothing when the class has no such hook', async () => {
    const result = await runStep('class Workflow { async start() {} }', 'onWorkflowComplete', null);
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.logs, []);
  });
});

describe('a Response returned by a step', () => {
  it('is read and sent back as status, headers and body, not as a return value', async () => {
    const code = `class Workflow { async start() { return new Response('<h1>thanks</h1>', { status: 201, headers: { 'Content-Type': 'text/html', 'X-Order': '7' } }); } }`;
    const result = await runStep(code, 'start', {});
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(result.returnValue, undefined);
    assert.deepEqual(result.httpResponse, { status: 201, headers: { 'content-type': 'text/html', 'x-order': '7' }, body: '<h1>thanks</h1>' });
  });

  it('reads a JSON Response too (Response.json)', async () => {
    const result = await runStep(`class Workflow { async start() { return Response.json({ ok: true }, { status: 202 }); } }`, 'start', {});
    assert.equal(result.httpResponse?.status, 202);
    assert.equal(result.httpResponse?.body, '{"ok":true}');
    assert.match(result.httpResponse?.headers['content-type'] ?? '', /application\/json/);
  });
});

describe('step delays', () => {
  it('reads seconds and the documented duration strings', () => {
    const cases: Array<[unknown, number]> = [
      [10, 10_000],
      [0.5, 500],
      ['30 sec', 30_000],
      ['30 seconds', 30_000],
      ['5 min', 300_000],
      ['5 minutes', 300_000],
      ['2 hr', 7_200_000],
      ['2 hours', 7_200_000],
      ['1 day', 86_400_000],
      ['3 days', 259_200_000],
      ['1 week', 604_800_000],
      ['2 weeks', 1_209_600_000],
      ['45', 45_000],
    ];
    for (const [delay, ms] of cases) assert.equal(parseStepDelay(delay), ms, String(delay));
    for (const bad of [-1, Number.NaN, 'soon', '5 fortnights', null, {}]) assert.equal(typeof parseStepDelay(bad), 'string', String(bad));
  });

  it('agrees with the check inside the sandbox on every documented form', async () => {
    const forms = ['30 sec', '5 minutes', '2 hr', '3 days', '2 weeks', 12];
    const code = `class Workflow { async start(d, h, api) { for (const delay of d.forms) await api.scheduleNextStep({ delay, action: 'later' }); } async later() {} }`;
    const result = await runStep(code, 'start', { forms: forms.slice(0, 5) });
    assert.deepEqual(
      result.nextSteps?.map((s) => s.delayMs),
      forms.slice(0, 5).map((f) => parseStepDelay(f)),
    );
  });
});

describe('api.waitForEvent in the sandbox', () => {
  const APPROVAL = `class Workflow {
    async start(data, headers, api) {
      const { token, resumeUrl } = await api.waitForEvent({ action: 'onApproved', payload: { orderId: data.id }, timeout: '2 days', redirect_url: 'https://shop.example.com/thanks' });
      api.log(resumeUrl === 'https://codestep.example.com/resume/' + token);
      return { resumeUrl };
    }
    async onApproved(data, headers, api) {}
  }`;

  it('returns a fresh unguessable token and its resume URL, and records the wait with the token hashed', async () => {
    const first = await runStep(APPROVAL, 'start', { id: 7 });
    assert.equal(first.status, 'succeeded', JSON.stringify(first.error));
    const url = (first.returnValue as { resumeUrl: string }).resumeUrl;
    const token = url.slice(url.lastIndexOf('/') + 1);
    assert.match(token, /^rt_[A-Za-z0-9_-]{32}$/, '192 random bits, base64url');
    assert.deepEqual(
      first.logs.map((l) => l.message),
      ['true'],
    );
    assert.deepEqual(first.waits, [
      { action: 'onApproved', payloadJson: '{"orderId":7}', timeoutMs: 2 * 86_400_000, redirectUrl: 'https://shop.example.com/thanks', tokenHash: createHash('sha256').update(token).digest('hex') },
    ]);
    assert.ok(!JSON.stringify(first.waits).includes(token), 'the token itself is not in the recorded wait');
    const second = await runStep(APPROVAL, 'start', { id: 7 });
    assert.notEqual((second.returnValue as { resumeUrl: string }).resumeUrl, url);
  });

  it('defaults the timeout to a day and the payload to {}', async () => {
    const result = await runStep(`class Workflow { async start(d, h, api) { await api.waitForEvent({ action: 'next' }); } async next() {} }`, 'start', null);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(
      result.waits?.map((w) => [w.timeoutMs, w.payloadJson, w.redirectUrl]),
      [[86_400_000, '{}', '']],
    );
  });

  const bad: Array<[string, string, RegExp]> = [
    ['an unknown action', `{ action: 'nope' }`, /api\.waitForEvent: the Workflow class has no method "nope"/],
    ['start', `{ action: 'start' }`, /"start" cannot be scheduled/],
    ['a timeout over 30 days', `{ action: 'next', timeout: '31 days' }`, /timeout of 2678400 s is outside the allowed 10 s to 2592000 s/],
    ['a timeout that is no duration', `{ action: 'next', timeout: 'soon' }`, /timeout "soon" is not a duration/],
    ['a payload that is not an object', `{ action: 'next', payload: [1] }`, /payload must be an object/],
    ['a payload over the cap', `{ action: 'next', payload: { x: 'x'.repeat(500) } }`, /payload is over 200 characters/],
    ['a redirect that is not an http(s) URL', `{ action: 'next', redirect_url: 'javascript:alert(1)' }`, /redirect_url must be an absolute http\(s\) URL/],
  ];
  for (const [what, options, message] of bad) {
    it(`fails the step with INVALID_STEP for ${what}`, async () => {
      const result = await runStep(`class Workflow { async start(d, h, api) { await api.waitForEvent(${options}); } async next() {} }`, 'start', null);
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'INVALID_STEP');
      assert.match(result.error?.message ?? '', message);
    });
  }

  it('counts waits with next steps against the per-step cap, and records nothing when the step fails after waiting', async () => {
    const many = await runStep(
      `class Workflow { async start(d, h, api) { for (let i = 0; i < 3; i++) await api.scheduleNextStep({ delay: 10, action: 'next' }); for (let i = 0; i < 3; i++) await api.waitForEvent({ action: 'next' }); } async next() {} }`,
      'start',
      null,
    );
    assert.equal(many.error?.code, 'INVALID_STEP');
    assert.match(many.error?.message ?? '', /at most 5 next steps/);
    const failing = await runStep(`class Workflow { async start(d, h, api) { await api.waitForEvent({ action: 'next' }); throw new Error('after'); } async next() {} }`, 'start', null);
    assert.equal(failing.status, 'failed');
    assert.equal(failing.waits, undefined);
  });
});
