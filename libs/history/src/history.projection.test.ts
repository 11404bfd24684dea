import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envelope, plainToFieldMap, type Envelope } from '@codestep/events';
import { CONSOLE_LINES_KEPT, applyToEnrollment, applyToExecution, applyToConsoleLines, type EnrollmentDoc, type ExecutionDoc } from './history.projection.ts';

const ctx = {
  enrollmentId: 'enr1',
  workflowId: 'wf1',
  workflowVersion: 1,
  stepIndex: 0,
  actionId: 'a',
  attempt: 1,
  object: undefined,
  priorOutputs: {},
  firstAttemptAt: 0,
  trigger: undefined,
  limits: undefined,
  step: undefined,
};
const meta = (eventId: string, aggregateId: string, occurredAt = 10) => ({ eventId, tenantId: 't1', aggregateId, occurredAt });
const fold = <D>(apply: (d: D | undefined, e: Envelope) => D | undefined, events: Envelope[]) => events.reduce<D | undefined>((d, e) => apply(d, e) ?? d, undefined);

const started = envelope(meta('e1', 'enr1'), {
  $case: 'enrollmentStarted',
  value: { enrollmentId: 'enr1', workflowId: 'wf1', workflowVersion: 1, object: { objectType: 'CONTACT', objectId: '1', properties: {} }, actionCount: 1, trigger: undefined },
});
const failed = envelope(meta('e2', 'enr1', 20), {
  $case: 'enrollmentFailed',
  value: { enrollmentId: 'enr1', failedActionId: 'a', error: { code: 'USER_CODE_ERROR', message: 'boom', retryable: false, retryAfterMs: 0 } },
});

describe('history projections', () => {
  it('given a started and a failed enrollment, it shows failed with the error message', () => {
    const doc = fold<EnrollmentDoc>(applyToEnrollment, [started, failed]);
    assert.equal(doc?.status, 'failed');
    assert.equal(doc?.error?.message, 'boom');
    assert.equal(doc?.finishedAt, 20);
  });

  it('given a dry run, marks the enrollment and its execution, and keeps the ledger the result carried', () => {
    const dryStarted = envelope(meta('d1', 'enr2'), {
      $case: 'enrollmentStarted',
      value: { enrollmentId: 'enr2', workflowId: 'wf1', workflowVersion: 1, object: undefined, actionCount: 1, trigger: undefined, dryRun: true },
    });
    assert.equal(fold<EnrollmentDoc>(applyToEnrollment, [dryStarted])?.dryRun, true);
    assert.equal(fold<EnrollmentDoc>(applyToEnrollment, [started])?.dryRun, undefined);
    const dryCtx = { ...ctx, enrollmentId: 'enr2', dryRun: true };
    const ledger = { writes: [{ method: 'DELETE', url: 'https://x.test/1', headers: [{ name: 'x-a', value: '1' }], body: '', bodyBytes: 0, status: 204 }], dropped: 0 };
    const doc = fold<ExecutionDoc>(applyToExecution, [
      envelope(meta('d2', 'x9'), { $case: 'actionRequested', value: { executionId: 'x9', context: dryCtx, inputFields: {}, callbackId: 'cb9', limits: undefined } }),
      envelope(meta('d3', 'x9', 30), {
        $case: 'actionSucceeded',
        value: { executionId: 'x9', context: dryCtx, outputFields: {}, durationMs: 3, returnValueJson: '', nextSteps: [], httpResponseJson: '', waits: [], dryRun: ledger },
      }),
    ]);
    assert.equal(doc?.dryRun, true);
    assert.deepEqual(doc?.dryRunLedger, { writes: [{ method: 'DELETE', url: 'https://x.test/1', headers: [['x-a', '1']], body: '', bodyBytes: 0, status: 204 }], dropped: 0 });
  });

  it("given HubSpot refusing an enrollment's callback, shows its latest attempt, then that it gave up once the block expired", () => {
    const attempt = (n: number, gaveUp: boolean, occurredAt: number) =>
      envelope(meta(`cb-${n}`, 'enr1', occurredAt), {
        $case: 'hubspotCallbackAttempted',
        value: { callbackId: 'cb', enrollmentId: 'enr1', portalId: 7, attempt: n, error: 'HubSpot answered HTTP 503: down', nextAttemptAt: gaveUp ? 0 : occurredAt + 1000, expiresAt: 5000, gaveUp },
      });
    const retrying = fold<EnrollmentDoc>(applyToEnrollment, [started, failed, attempt(1, false, 30), attempt(2, false, 40)]);
    assert.deepEqual(retrying?.hubspotCallback, {
      callbackId: 'cb',
      enrollmentId: 'enr1',
      portalId: 7,
      attempt: 2,
      error: 'HubSpot answered HTTP 503: down',
      nextAttemptAt: 1040,
      expiresAt: 5000,
      gaveUp: false,
    });
    assert.equal(retrying?.status, 'failed', 'the enrollment keeps its own outcome');
    const gaveUp = fold<EnrollmentDoc>(applyToEnrollment, [started, failed, attempt(1, false, 30), attempt(3, true, 50), attempt(2, false, 40)]);
    assert.deepEqual([gaveUp?.hubspotCallback?.attempt, gaveUp?.hubspotCallback?.gaveUp], [3, true], 'an older attempt delivered late changes nothing');
  });

  it('applies a redelivered event once', () => {
    const once = fold<EnrollmentDoc>(applyToEnrollment, [started, failed]);
    const twice = fold<EnrollmentDoc>(applyToEnrollment, [started, started, failed, failed]);
    assert.deepEqual(twice, once);
    assert.equal(applyToEnrollment(once, failed), undefined);
  });

  it('shows the step of a wait as waiting, then requested once its URL was called (resumed by POST), or timed out', () => {
    const step = { name: 'onApproved', branchId: 'br2', depth: 1, dataJson: '{"o":1}', parentExecutionId: 'x0' };
    const stepCtx = { ...ctx, step };
    const waitStarted = envelope(meta('w1', 'x3', 10), {
      $case: 'waitStarted',
      value: { executionId: 'x3', context: stepCtx, dueAt: 90_000, tokenHash: 'h', redirectUrl: 'https://example.com/ok', startedBy: 'x0' },
    });
    const waiting = fold<ExecutionDoc>(applyToExecution, [waitStarted]);
    assert.equal(waiting?.status, 'waiting');
    assert.deepEqual(waiting?.wait, { state: 'waiting', timeoutAt: 90_000, endedAt: 0, resumedBy: '', redirectUrl: 'https://example.com/ok' });
    const resumed = fold<ExecutionDoc>(applyToExecution, [
      waitStarted,
      envelope(meta('w2', 'x3', 50), { $case: 'waitResumed', value: { executionId: 'x3', context: stepCtx, method: 'POST' } }),
      envelope(meta('w3', 'x3', 51), { $case: 'actionRequested', value: { executionId: 'x3', context: stepCtx, inputFields: {}, callbackId: 'cb3', limits: undefined } }),
    ]);
    assert.deepEqual([resumed?.status, resumed?.wait?.state, resumed?.wait?.endedAt, resumed?.wait?.resumedBy], ['requested', 'resumed', 50, 'POST']);
    const timedOut = fold<ExecutionDoc>(applyToExecution, [waitStarted, envelope(meta('w4', 'x3', 90_000), { $case: 'waitTimedOut', value: { executionId: 'x3', context: stepCtx, dueAt: 90_000 } })]);
    assert.deepEqual([timedOut?.status, timedOut?.wait?.state, timedOut?.finishedAt, timedOut?.requestedAt], ['timed_out', 'timed_out', 90_000, 0]);
  });

  it('shows a scheduled JsWorkflows step as scheduled until its request, with its place in the run and a returned Response', () => {
    const step = { name: 'remind', branchId: 'br1', depth: 1, dataJson: '{"o":1}', parentExecutionId: 'x0' };
    const stepCtx = { ...ctx, step };
    const scheduled = envelope(meta('s1', 'x2'), { $case: 'stepScheduled', value: { executionId: 'x2', context: stepCtx, dueAt: 600_000, scheduledBy: 'x0' } });
    const waiting = fold<ExecutionDoc>(applyToExecution, [scheduled]);
    assert.equal(waiting?.status, 'scheduled');
    assert.deepEqual(waiting?.step, { name: 'remind', branchId: 'br1', depth: 1, parentExecutionId: 'x0', dueAt: 600_000 });
    const response = JSON.stringify({ status: 201, headers: { 'content-type': 'text/html' }, body: '<p>ok</p>' });
    const done = fold<ExecutionDoc>(applyToExecution, [
      scheduled,
      envelope(meta('s2', 'x2'), { $case: 'actionRequested', value: { executionId: 'x2', context: stepCtx, inputFields: {}, callbackId: 'cb2', limits: undefined } }),
      envelope(meta('s3', 'x2', 40), {
        $case: 'actionSucceeded',
        value: { executionId: 'x2', context: stepCtx, outputFields: {}, durationMs: 3, returnValueJson: '', nextSteps: [], waits: [], httpResponseJson: response },
      }),
    ]);
    assert.equal(done?.status, 'succeeded');
    assert.equal(done?.step?.dueAt, 600_000);
    assert.equal(done?.httpResponseJson, response);
  });

  it('follows an execution from requested to succeeded with its inputs and outputs', () => {
    const events = [
      envelope(meta('a1', 'x1'), { $case: 'actionRequested', value: { executionId: 'x1', context: ctx, inputFields: plainToFieldMap({ email: 'a@b.c' }), callbackId: 'cb1', limits: undefined } }),
      envelope(meta('a2', 'x1'), { $case: 'actionStarted', value: { executionId: 'x1', context: ctx, executorId: 'ex', traceId: 'trace' } }),
      envelope(meta('a3', 'x1', 30), {
        $case: 'actionSucceeded',
        value: { executionId: 'x1', context: ctx, outputFields: plainToFieldMap({ n: 2 }), durationMs: 4, returnValueJson: '', nextSteps: [], waits: [], httpResponseJson: '' },
      }),
    ];
    const doc = fold<ExecutionDoc>(applyToExecution, events);
    assert.equal(doc?.status, 'succeeded');
    assert.deepEqual(doc?.inputFields, { email: 'a@b.c' });
    assert.deepEqual(doc?.outputFields, { n: 2 });
    assert.equal(doc?.traceId, 'trace');
  });

  it('keeps how many console lines the result said the execution logged, and nothing when it did not say (an older event)', () => {
    const requested = envelope(meta('a1', 'x1'), { $case: 'actionRequested', value: { executionId: 'x1', context: ctx, inputFields: {}, callbackId: 'cb1', limits: undefined } });
    const succeeded = envelope(meta('a3', 'x1', 30), {
      $case: 'actionSucceeded',
      value: { executionId: 'x1', context: ctx, outputFields: {}, durationMs: 4, returnValueJson: '', nextSteps: [], waits: [], httpResponseJson: '', linesLogged: 3 },
    });
    const failed = envelope(meta('a4', 'x2', 30), {
      $case: 'actionFailed',
      value: { executionId: 'x2', context: ctx, error: undefined, durationMs: 4, continueEnrollment: false, outputFields: {}, linesLogged: 0 },
    });
    const older = envelope(meta('a5', 'x3', 30), {
      $case: 'actionSucceeded',
      value: { executionId: 'x3', context: ctx, outputFields: {}, durationMs: 4, returnValueJson: '', nextSteps: [], waits: [], httpResponseJson: '' },
    });
    assert.equal(fold<ExecutionDoc>(applyToExecution, [requested])?.linesLogged, undefined, 'running: not known yet');
    assert.equal(fold<ExecutionDoc>(applyToExecution, [requested, succeeded])?.linesLogged, 3);
    assert.equal(fold<ExecutionDoc>(applyToExecution, [failed])?.linesLogged, 0);
    assert.ok(!('linesLogged' in fold<ExecutionDoc>(applyToExecution, [older])!));
  });

  it('appends log lines once per event', () => {
    const logged = envelope(meta('l1', 'x1'), { $case: 'actionLogged', value: { executionId: 'x1', context: ctx, lines: [{ level: 'log', message: 'hi', at: 1 }], truncated: false } });
    const doc = fold(applyToConsoleLines, [logged, logged]);
    assert.deepEqual(
      doc?.lines.map((l) => l.message),
      ['hi'],
    );
  });

  it('keeps a bounded number of lines and characters per execution, whatever the events carry, and marks the rest truncated', () => {
    const many = Array.from({ length: 150_000 }, (_, i) => ({ level: 'warn', message: `output "f${i}" is not declared`, at: i }));
    const huge = envelope(meta('l1', 'x1'), { $case: 'actionLogged', value: { executionId: 'x1', context: ctx, lines: many, truncated: false } });
    const long = envelope(meta('l2', 'x1'), { $case: 'actionLogged', value: { executionId: 'x1', context: ctx, lines: [{ level: 'log', message: 'q'.repeat(100_000), at: 1 }], truncated: false } });
    const doc = fold(applyToConsoleLines, [huge]);
    assert.equal(doc?.lines.length, CONSOLE_LINES_KEPT.lines);
    assert.equal(doc?.truncated, true);
    assert.deepEqual(doc?.lines[0], many[0]);
    const cut = fold(applyToConsoleLines, [long]);
    assert.equal(cut?.lines[0]?.message.length, CONSOLE_LINES_KEPT.lineChars + '… [line truncated: 100000 characters]'.length);
    assert.equal(cut?.truncated, false);
  });
});
