import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { envelope, fieldMapToPlain, plainToFieldMap, type Envelope } from '@codestep/events';
import { DEFAULT_RETRY_POLICY, onActionResult, onRetryDue, retryDelay, startEnrollment } from './enrollment.decider.ts';
import { parseWorkflowInput } from './workflow-definition.ts';

const input = parseWorkflowInput({
  name: 'two steps',
  objectType: 'contact',
  actions: [
    {
      id: 'score',
      code: 'exports.main = async () => ({ outputFields: { score: 1 } })',
      inputFields: [
        { name: 'email', property: 'email' },
        { name: 'tier', value: 'gold' },
      ],
      outputFields: [{ name: 'score', type: 'number' }],
    },
    { id: 'route', code: 'exports.main = async () => ({ outputFields: {} })', inputFields: [{ name: 'score', fromAction: { actionId: 'score', field: 'score' } }] },
  ],
});
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };
const object = { objectType: 'CONTACT', objectId: '42', properties: { email: 'a@example.com' } };

function given(): Envelope[] {
  return startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr1', object, portalId: 7 }, 1000);
}

function succeeded(request: Envelope, outputs: Record<string, string | number | boolean>): Envelope {
  assert.equal(request.event.$case, 'actionRequested');
  const req = request.event.value as { executionId: string; context: NonNullable<unknown> };
  return envelope(
    { eventId: `ok-${req.executionId}`, tenantId: 't1', aggregateId: req.executionId, occurredAt: 2000 },
    {
      $case: 'actionSucceeded',
      value: {
        executionId: req.executionId,
        context: (request.event.value as never as { context: never }).context,
        outputFields: plainToFieldMap(outputs),
        durationMs: 5,
        returnValueJson: '',
        nextSteps: [],
        waits: [],
        httpResponseJson: '',
      },
    },
  );
}

function failed(request: Envelope, error: { code: string; message: string; retryable: boolean; retryAfterMs: number }, continueEnrollment = false): Envelope {
  const value = request.event.value as unknown as { executionId: string; context: never };
  return envelope(
    { eventId: `fail-${value.executionId}`, tenantId: 't1', aggregateId: value.executionId, occurredAt: 2000 },
    { $case: 'actionFailed', value: { executionId: value.executionId, context: value.context, error, durationMs: 5, continueEnrollment, outputFields: {} } },
  );
}

describe('enrollment decider', () => {
  it('starts an enrollment with the first action, its inputs taken from literals and object properties', () => {
    const [started, request] = given();
    assert.equal(started?.event.$case, 'enrollmentStarted');
    assert.equal(request?.event.$case, 'actionRequested');
    if (request?.event.$case !== 'actionRequested') return;
    assert.deepEqual(fieldMapToPlain(request.event.value.inputFields), { email: 'a@example.com', tier: 'gold' });
    assert.equal(request.event.value.context?.stepIndex, 0);
  });

  it('given a dry run, marks EnrollmentStarted and every action’s context, the next step’s too', () => {
    const [started, request] = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr2', object, portalId: 7, dryRun: true }, 1000);
    assert.ok(started?.event.$case === 'enrollmentStarted' && started.event.value.dryRun === true);
    assert.ok(request?.event.$case === 'actionRequested' && request.event.value.context?.dryRun === true);
    const [next] = onActionResult(wf, 't1', succeeded(request, { score: 87 }), DEFAULT_RETRY_POLICY, 3000);
    assert.ok(next?.event.$case === 'actionRequested' && next.event.value.context?.dryRun === true);
    const [real] = given();
    assert.ok(real?.event.$case === 'enrollmentStarted' && real.event.value.dryRun === undefined);
  });

  it('gives the second action the first action outputs as inputs', () => {
    const [, request] = given();
    const [next] = onActionResult(wf, 't1', succeeded(request!, { score: 87 }), DEFAULT_RETRY_POLICY, 3000);
    assert.equal(next?.event.$case, 'actionRequested');
    if (next?.event.$case !== 'actionRequested') return;
    assert.deepEqual(fieldMapToPlain(next.event.value.inputFields), { score: 87 });
    assert.equal(next.event.value.context?.actionId, 'route');
  });

  it('completes the enrollment after the last action, with every action outputs', () => {
    const [, r1] = given();
    const [r2] = onActionResult(wf, 't1', succeeded(r1!, { score: 87 }), DEFAULT_RETRY_POLICY, 3000);
    const [done] = onActionResult(wf, 't1', succeeded(r2!, {}), DEFAULT_RETRY_POLICY, 4000);
    assert.equal(done?.event.$case, 'enrollmentCompleted');
    if (done?.event.$case !== 'enrollmentCompleted') return;
    assert.deepEqual(fieldMapToPlain(done.event.value.outputs.score?.fields), { score: 87 });
  });

  it('fails the enrollment at once when an action throws a non-retryable error', () => {
    const [, r1] = given();
    const out = onActionResult(wf, 't1', failed(r1!, { code: 'USER_CODE_ERROR', message: 'boom', retryable: false, retryAfterMs: 0 }), DEFAULT_RETRY_POLICY, 3000);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.event.$case, 'enrollmentFailed');
    if (out[0]?.event.$case !== 'enrollmentFailed') return;
    assert.equal(out[0].event.value.error?.message, 'boom');
    assert.equal(out[0].event.value.failedActionId, 'score');
  });

  it('goes on to the next action when the action failed with FAIL_CONTINUE', () => {
    const [, r1] = given();
    const [next] = onActionResult(wf, 't1', failed(r1!, { code: 'FAIL_CONTINUE', message: 'x', retryable: false, retryAfterMs: 0 }, true), DEFAULT_RETRY_POLICY, 3000);
    assert.equal(next?.event.$case, 'actionRequested');
  });

  it('schedules a retry after a rate limit, honouring Retry-After, and runs it as attempt 2 with a new execution id', () => {
    const [, r1] = given();
    const [scheduled] = onActionResult(wf, 't1', failed(r1!, { code: 'USER_CODE_ERROR', message: '429', retryable: true, retryAfterMs: 120_000 }), DEFAULT_RETRY_POLICY, 3000);
    assert.equal(scheduled?.event.$case, 'actionRetryScheduled');
    if (scheduled?.event.$case !== 'actionRetryScheduled') return;
    assert.equal(scheduled.event.value.dueAt, 3000 + 120_000);
    const [retry] = onRetryDue(wf, 't1', scheduled, 200_000);
    assert.equal(retry?.event.$case, 'actionRequested');
    if (retry?.event.$case !== 'actionRequested' || r1?.event.$case !== 'actionRequested') return;
    assert.equal(retry.event.value.context?.attempt, 2);
    assert.notEqual(retry.event.value.executionId, r1.event.value.executionId);
  });

  it('retries an execution whose executor was lost at once the first time, then with the usual back-off, and asks for its request where the reporting executor consumes', () => {
    const lost = { code: 'EXECUTOR_LOST', message: 'lost', retryable: true, retryAfterMs: 0 };
    const [, r1] = given();
    const report = failed(r1!, lost);
    if (report.event.$case !== 'actionFailed') return;
    report.event.value.retryLanePartition = 2;
    const [scheduled] = onActionResult(wf, 't1', report, DEFAULT_RETRY_POLICY, 3000);
    if (scheduled?.event.$case !== 'actionRetryScheduled') return assert.fail(`expected a retry, got ${scheduled?.event.$case}`);
    assert.equal(scheduled.event.value.dueAt, 3000, 'no back-off for the first loss');
    assert.equal(scheduled.event.value.lanePartition, 2, 'in the retry lane, where the reporting executor consumes');
    assert.equal(scheduled.event.value.requestPartition, undefined);
    const [r2] = onRetryDue(wf, 't1', scheduled, 3000);
    const [again] = onActionResult(wf, 't1', failed(r2!, lost), DEFAULT_RETRY_POLICY, 4000);
    if (again?.event.$case !== 'actionRetryScheduled') return assert.fail(`expected a retry, got ${again?.event.$case}`);
    assert.equal(again.event.value.dueAt, 4000 + retryDelay(DEFAULT_RETRY_POLICY, 2, 0), 'an action lost again backs off (it may be what kills executors)');
    assert.equal(again.event.value.lanePartition, undefined, 'no partition asked for: its key decides');
  });

  it('given an execution reported lost before the retry lane (a partition of the actions topic named), asks for its retry there as it did then', () => {
    const [, r1] = given();
    const report = failed(r1!, { code: 'EXECUTOR_LOST', message: 'lost', retryable: true, retryAfterMs: 0 });
    if (report.event.$case !== 'actionFailed') return;
    report.event.value.retryPartition = 1;
    const [scheduled] = onActionResult(wf, 't1', report, DEFAULT_RETRY_POLICY, 3000);
    if (scheduled?.event.$case !== 'actionRetryScheduled') return assert.fail(`expected a retry, got ${scheduled?.event.$case}`);
    assert.equal(scheduled.event.value.requestPartition, 1);
    assert.equal(scheduled.event.value.lanePartition, undefined);
  });

  it('grows the delay from 1 minute up to 8 hours', () => {
    assert.equal(retryDelay(DEFAULT_RETRY_POLICY, 1, 0), 60_000);
    assert.equal(retryDelay(DEFAULT_RETRY_POLICY, 2, 0), 120_000);
    assert.equal(retryDelay(DEFAULT_RETRY_POLICY, 20, 0), 8 * 3600_000);
  });

  it('gives up when the next attempt would fall more than 3 days after the first', () => {
    const [, r1] = given();
    const out = onActionResult(wf, 't1', failed(r1!, { code: 'X', message: '503', retryable: true, retryAfterMs: 0 }), DEFAULT_RETRY_POLICY, 1000 + 3 * 24 * 3600_000);
    assert.equal(out[0]?.event.$case, 'enrollmentFailed');
  });

  it('derives the same events from the same input, so a redelivery changes nothing', () => {
    const a = given().map((e) => e.eventId);
    const b = given().map((e) => e.eventId);
    assert.deepEqual(a, b);
  });

  it('rejects a workflow whose input takes an output no earlier action declares, naming the field', () => {
    assert.throws(
      () => parseWorkflowInput({ name: 'x', actions: [{ id: 'a', code: 'x', inputFields: [{ name: 'v', fromAction: { actionId: 'a', field: 'nope' } }] }] }),
      /actions\[0\]\.inputFields\[0\]\.fromAction\.actionId: no earlier action/,
    );
  });
});
