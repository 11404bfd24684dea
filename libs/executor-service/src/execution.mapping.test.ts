/** The executor's pure translations: action request to sandbox request, sandbox result to events. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionDefinition, ActionRequested } from '@codestep/contracts';
import { fieldMapToPlain, plainToFieldMap, type Envelope } from '@codestep/events';
import type { ExecutionResult } from '@codestep/sandbox';
import { executionRequestOf, failure, lostEvent, resultEvents, startedEvent } from './execution.mapping.ts';

const clock = () => 1_234;
const limits = { timeoutMs: 2_000, memoryMb: 64 };

function action(overrides: Partial<ActionDefinition> = {}): ActionDefinition {
  return {
    actionId: 'act1',
    name: 'a',
    runtime: 'hubspot',
    code: 'exports.main = async () => ({})',
    inputFields: [],
    outputFields: [
      { name: 'n', type: 'number', options: [] },
      { name: 'tier', type: 'enum', options: ['gold', 'silver'] },
    ],
    secretNames: [],
    timeoutMs: 0,
    memoryMb: 0,
    connectionHandles: [],
    runtimeVersion: 'node20',
    ...overrides,
  };
}

function request(overrides: { objectId?: string; trigger?: { dataJson: string; headers: Record<string, string> } } = {}): ActionRequested {
  return {
    executionId: 'ex1',
    callbackId: 'cb1',
    inputFields: plainToFieldMap({ email: 'a@b.c', score: 3 }),
    limits: undefined,
    context: {
      enrollmentId: 'enr1',
      workflowId: 'wf1',
      workflowVersion: 2,
      stepIndex: 0,
      actionId: 'act1',
      attempt: 1,
      object: { objectType: 'CONTACT', objectId: overrides.objectId ?? '42', properties: {} },
      priorOutputs: {},
      firstAttemptAt: 0,
      trigger: overrides.trigger,
      limits: undefined,
      step: undefined,
    },
  };
}

const succeeded = (over: Partial<ExecutionResult> = {}): ExecutionResult => ({ status: 'succeeded', outputFields: { n: 1 }, logs: [], logsTruncated: false, error: null, durationMs: 12.6, ...over });
const cases = (events: Envelope[]) => events.map((e) => e.event.$case);

describe('execution mapping: request to the sandbox', () => {
  it('given a HubSpot action of a numeric tenant, sends the portal, the numeric object id, the plain input fields and the output specs', () => {
    const built = executionRequestOf({ req: request(), tenantId: '777', action: action(), secrets: { KEY: 'v' }, limits });
    assert.deepEqual(built.input, {
      runtime: 'hubspot',
      event: { origin: { portalId: 777, actionDefinitionId: 'act1' }, object: { objectType: 'CONTACT', objectId: 42 }, inputFields: { email: 'a@b.c', score: 3 }, callbackId: 'cb1' },
    });
    assert.deepEqual(built.outputFields, [
      { name: 'n', type: 'number' },
      { name: 'tier', type: 'enum', options: ['gold', 'silver'] },
    ]);
    assert.deepEqual({ id: built.executionId, tenant: built.tenantId, secrets: built.secrets, limits: built.limits }, { id: 'ex1', tenant: '777', secrets: { KEY: 'v' }, limits });
    assert.equal('traceparent' in built, false, 'no trace, no traceparent');
  });

  it('given a non-numeric tenant and an object id too long for a number, sends portal 0 and the id as a string', () => {
    const built = executionRequestOf({ req: request({ objectId: '1234567890123456' }), tenantId: 'acme', action: action(), secrets: {}, limits, traceparent: '00-abc-def-01' });
    assert.ok(built.input.runtime === 'hubspot');
    assert.equal(built.input.event.origin.portalId, 0);
    assert.equal(built.input.event.object.objectId, '1234567890123456');
    assert.equal(built.traceparent, '00-abc-def-01');
  });

  it('given a JsWorkflows action with a trigger payload, sends the payload and its headers', () => {
    const built = executionRequestOf({
      req: request({ trigger: { dataJson: '{"deal":7}', headers: { 'x-a': '1' } } }),
      tenantId: '1',
      action: action({ runtime: 'jsworkflows' }),
      secrets: {},
      limits,
    });
    assert.deepEqual(built.input, { runtime: 'jsworkflows', data: { deal: 7 }, headers: { 'x-a': '1' }, step: 'start' });
  });

  it('given a scheduled JsWorkflows step, sends its payload as data, the trigger headers, the method and the scheduling bounds', () => {
    const req = request({ trigger: { dataJson: '{"deal":7}', headers: { 'x-a': '1' } } });
    req.context!.step = { name: 'processItem', branchId: 'br_1', depth: 1, dataJson: '{"item":3}', parentExecutionId: 'ex0' };
    const steps = { minDelayMs: 0, maxDelayMs: 1000, maxPayloadChars: 10, maxNextSteps: 2, maxWaitTimeoutMs: 5000 };
    const built = executionRequestOf({ req, tenantId: '1', action: action({ runtime: 'jsworkflows' }), secrets: {}, limits, steps });
    assert.deepEqual(built.input, { runtime: 'jsworkflows', data: { item: 3 }, headers: { 'x-a': '1' }, step: 'processItem', scheduling: steps });
  });

  it('given a JsWorkflows action without a trigger payload, sends the input fields and the object as its data', () => {
    const built = executionRequestOf({ req: request(), tenantId: '1', action: action({ runtime: 'jsworkflows' }), secrets: {}, limits });
    assert.deepEqual(built.input, { runtime: 'jsworkflows', data: { email: 'a@b.c', score: 3, object: { objectType: 'CONTACT', objectId: '42', properties: {} } }, headers: {}, step: 'start' });
  });
});

describe('execution mapping: runtime version', () => {
  it('given an action saved with a runtime version, sends that version', () => {
    assert.equal(executionRequestOf({ req: request(), tenantId: '777', action: action({ runtimeVersion: 'node20' }), secrets: {}, limits }).runtimeVersion, 'node20');
    assert.equal(executionRequestOf({ req: request(), tenantId: '777', action: action({ runtimeVersion: 'node24' }), secrets: {}, limits }).runtimeVersion, 'node24');
  });

  it('given an action saved before runtime versions existed (none in its event), sends node24, the libraries it ran then', () => {
    assert.equal(executionRequestOf({ req: request(), tenantId: '777', action: action({ runtimeVersion: '' }), secrets: {}, limits }).runtimeVersion, 'node24');
  });
});

describe('execution mapping: result to events', () => {
  it('given a success without logs, reports only the success, with rounded duration, outputs and return value', () => {
    const events = resultEvents(request(), 't1', succeeded({ returnValue: { ok: true } }), clock);
    assert.deepEqual(cases(events), ['actionSucceeded']);
    const e = events[0]!;
    assert.equal(e.event.$case, 'actionSucceeded');
    if (e.event.$case !== 'actionSucceeded') return;
    assert.deepEqual(fieldMapToPlain(e.event.value.outputFields), { n: 1 });
    assert.equal(e.event.value.durationMs, 13);
    assert.equal(e.event.value.returnValueJson, '{"ok":true}');
    assert.deepEqual(
      { tenant: e.tenantId, aggregate: e.aggregateId, at: e.occurredAt, causation: e.causationId, correlation: e.correlationId },
      { tenant: 't1', aggregate: 'ex1', at: 1_234, causation: 'ex1', correlation: 'enr1' },
    );
  });

  it('given a JsWorkflows success with next steps, reports them in call order', () => {
    const nextSteps = [
      { action: 'a', delayMs: 10_000, payloadJson: '{"n":1}' },
      { action: 'b', delayMs: 0, payloadJson: 'null' },
    ];
    const [e] = resultEvents(request(), 't1', succeeded({ nextSteps }), clock);
    assert.equal(e?.event.$case, 'actionSucceeded');
    if (e?.event.$case === 'actionSucceeded') assert.deepEqual(e.event.value.nextSteps, nextSteps);
  });

  it('given a dry run, asks the sandbox for one, and reports its ledger on the success and on the failure', () => {
    const req = request();
    req.context!.dryRun = true;
    assert.equal(executionRequestOf({ req, tenantId: 't1', action: action(), secrets: {}, limits }).dryRun, true);
    assert.equal(executionRequestOf({ req: request(), tenantId: 't1', action: action(), secrets: {}, limits }).dryRun, undefined);
    const dryRun = { writes: [{ method: 'POST', url: 'https://x.test/a', headers: [['authorization', '[REDACTED]']] as Array<[string, string]>, body: '{}', bodyBytes: 2, status: 201 }], dropped: 1 };
    const ledger = { writes: [{ method: 'POST', url: 'https://x.test/a', headers: [{ name: 'authorization', value: '[REDACTED]' }], body: '{}', bodyBytes: 2, status: 201 }], dropped: 1 };
    const [ok] = resultEvents(req, 't1', succeeded({ dryRun }), clock);
    assert.ok(ok?.event.$case === 'actionSucceeded');
    assert.deepEqual(ok.event.value.dryRun, ledger);
    const [failed] = resultEvents(req, 't1', { ...succeeded({ dryRun }), status: 'failed', error: { code: 'USER_CODE_ERROR', message: 'x' } }, clock);
    assert.ok(failed?.event.$case === 'actionFailed');
    assert.deepEqual(failed.event.value.dryRun, ledger);
    const [real] = resultEvents(request(), 't1', succeeded(), clock);
    assert.ok(real?.event.$case === 'actionSucceeded' && real.event.value.dryRun === undefined);
  });

  it('given a success with no return value, reports an empty return value', () => {
    const [e] = resultEvents(request(), 't1', succeeded(), clock);
    assert.ok(e!.event.$case === 'actionSucceeded');
    assert.equal(e!.event.value.returnValueJson, '');
  });

  it('given a result with logs (or truncated ones), reports them first', () => {
    const logs = [{ level: 'info' as const, message: 'hi', at: 5 }];
    const events = resultEvents(request(), 't1', succeeded({ logs, logsTruncated: true }), clock);
    assert.deepEqual(cases(events), ['actionLogged', 'actionSucceeded']);
    assert.ok(events[0]!.event.$case === 'actionLogged');
    assert.deepEqual(events[0]!.event.value.lines, logs);
    assert.equal(events[0]!.event.value.truncated, true);
    assert.deepEqual(cases(resultEvents(request(), 't1', succeeded({ logsTruncated: true }), clock)), ['actionLogged', 'actionSucceeded']);
  });

  it('counts the lines logged on the success or failure (0 when none), so a reader knows how many lines to wait for', () => {
    const logs = [
      { level: 'info' as const, message: 'a', at: 5 },
      { level: 'warn' as const, message: 'b', at: 6 },
    ];
    const [, ok] = resultEvents(request(), 't1', succeeded({ logs }), clock);
    assert.ok(ok?.event.$case === 'actionSucceeded');
    assert.equal(ok.event.value.linesLogged, 2);
    const [none] = resultEvents(request(), 't1', succeeded(), clock);
    assert.ok(none?.event.$case === 'actionSucceeded');
    assert.equal(none.event.value.linesLogged, 0);
    const [, failed] = resultEvents(request(), 't1', { ...succeeded({ logs }), status: 'failed', error: { code: 'USER_CODE_ERROR', message: 'x' } }, clock);
    assert.ok(failed?.event.$case === 'actionFailed');
    assert.equal(failed.event.value.linesLogged, 2);
    const lost = lostEvent(request(), 't1', clock);
    assert.ok(lost.event.$case === 'actionFailed');
    assert.equal(lost.event.value.linesLogged, undefined, 'an executor that did not see the end does not know');
  });

  it('given a TIMEOUT with the lines logged before it, reports those lines before the failure', () => {
    const logs = [{ level: 'log' as const, message: 'before', at: 5 }];
    const timedOut = succeeded({ status: 'failed', outputFields: {}, logs, error: { code: 'TIMEOUT', message: 'The action did not finish within its time limit of 300 ms' } });
    const events = resultEvents(request(), 't1', timedOut, clock);
    assert.deepEqual(cases(events), ['actionLogged', 'actionFailed']);
    assert.ok(events[0]!.event.$case === 'actionLogged');
    assert.deepEqual(events[0]!.event.value.lines, logs);
  });

  it('given a failure, reports its error with defaults, its outputs, and whether the enrollment continues', () => {
    const failed: ExecutionResult = {
      status: 'failed',
      outputFields: { n: 2 },
      executionState: 'FAIL_CONTINUE',
      logs: [],
      logsTruncated: false,
      error: { code: 'RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 500 },
      durationMs: 3,
    };
    const [e] = resultEvents(request(), 't1', failed, clock);
    assert.ok(e!.event.$case === 'actionFailed');
    assert.deepEqual(e!.event.value.error, { code: 'RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 500 });
    assert.equal(e!.event.value.continueEnrollment, true);
    assert.deepEqual(fieldMapToPlain(e!.event.value.outputFields), { n: 2 });
    const [plain] = resultEvents(request(), 't1', failure('EXECUTOR_ERROR', 'broken'), clock);
    assert.ok(plain!.event.$case === 'actionFailed');
    assert.deepEqual(plain!.event.value.error, { code: 'EXECUTOR_ERROR', message: 'broken', retryable: false, retryAfterMs: 0 });
    assert.equal(plain!.event.value.continueEnrollment, false);
  });

  it('given a failure without an error, reports it as UNKNOWN', () => {
    const [e] = resultEvents(request(), 't1', { ...failure('INTERNAL', 'x'), error: null }, clock);
    assert.ok(e!.event.$case === 'actionFailed');
    assert.deepEqual(e!.event.value.error, { code: 'UNKNOWN', message: 'the action failed', retryable: false, retryAfterMs: 0 });
  });

  it('gives the same event the same id every time it is produced, and different events different ids', () => {
    const ids = () =>
      [
        ...resultEvents(request(), 't1', succeeded({ logs: [{ level: 'info', message: 'x', at: 1 }] }), clock),
        startedEvent(request(), 't1', 'x1', 'trace', clock),
        lostEvent(request(), 't1', clock),
      ].map((e) => e.eventId);
    assert.deepEqual(ids(), ids());
    assert.equal(new Set(ids()).size, 4);
  });

  it('reports a lost execution as a retryable EXECUTOR_LOST failure that does not continue the enrollment', () => {
    const e = lostEvent(request(), 't1', clock);
    assert.ok(e.event.$case === 'actionFailed');
    assert.equal(e.event.value.error?.code, 'EXECUTOR_LOST');
    assert.equal(e.event.value.error?.retryable, true);
    assert.equal(e.event.value.continueEnrollment, false);
  });

  it('reports a start with the executor and the trace', () => {
    const e = startedEvent(request(), 't1', 'x1', 'trace-1', clock);
    assert.ok(e.event.$case === 'actionStarted');
    assert.deepEqual({ executorId: e.event.value.executorId, traceId: e.event.value.traceId, at: e.occurredAt }, { executorId: 'x1', traceId: 'trace-1', at: 1_234 });
  });
});
