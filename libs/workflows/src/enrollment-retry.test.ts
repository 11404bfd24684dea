import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionContext, WorkflowDefinition } from '@codestep/contracts';
import { envelope, fieldMapToPlain, fieldValue, type Envelope } from '@codestep/events';
import { DEFAULT_RETRY_POLICY, executionIdFor, onActionResult, retryFailedEnrollment, startEnrollment } from './enrollment.decider.ts';
import { parseWorkflowInput } from './workflow-definition.ts';

const input = parseWorkflowInput({
  name: 'two steps',
  actions: [
    { id: 'score', code: 'exports.main = async () => ({ outputFields: { score: 1 } })', outputFields: [{ name: 'score', type: 'number' }] },
    {
      id: 'route',
      code: 'exports.main = async () => ({ outputFields: {} })',
      inputFields: [
        { name: 'score', fromAction: { actionId: 'score', field: 'score' } },
        { name: 'email', property: 'email' },
      ],
    },
    { id: 'last', code: 'exports.main = async () => ({ outputFields: {} })' },
  ],
});
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };
const object = { objectType: 'CONTACT', objectId: '42', properties: { email: 'bad' } };

const contextOf = (env: Envelope | undefined): ActionContext => {
  const ctx = (env?.event.value as { context?: ActionContext } | undefined)?.context;
  if (!ctx) throw new Error('no context');
  return ctx;
};
const result = (request: Envelope, ok: boolean, outputs: Record<string, number> = {}): Envelope => {
  if (request.event.$case !== 'actionRequested') throw new Error('not a request');
  const { executionId, context } = request.event.value;
  const meta = { eventId: `r-${executionId}`, tenantId: 't1', aggregateId: executionId, occurredAt: 5 };
  return ok
    ? envelope(meta, {
        $case: 'actionSucceeded',
        value: {
          executionId,
          context,
          outputFields: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, fieldValue(v)])),
          durationMs: 1,
          returnValueJson: '',
          nextSteps: [],
          waits: [],
          httpResponseJson: '',
        },
      })
    : envelope(meta, {
        $case: 'actionFailed',
        value: { executionId, context, error: { code: 'USER_CODE_ERROR', message: 'bad email', retryable: false, retryAfterMs: 0 }, continueEnrollment: false, outputFields: {}, durationMs: 1 },
      });
};

/** An enrollment whose second step failed: the EnrollmentFailed event. */
function failedAtRoute(): Envelope {
  const [, first] = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr1', object, portalId: 0 }, 1);
  const [second] = onActionResult(wf, 't1', result(first!, true, { score: 7 }), DEFAULT_RETRY_POLICY, 2);
  const [failed] = onActionResult(wf, 't1', result(second!, false), DEFAULT_RETRY_POLICY, 3);
  assert.equal(failed?.event.$case, 'enrollmentFailed');
  return failed!;
}

describe('retrying a failed enrollment', () => {
  it('given a failure at step 2, then EnrollmentFailed carries the failed step’s context, earlier outputs included', () => {
    const ctx = contextOf(failedAtRoute());
    assert.deepEqual([ctx.actionId, ctx.stepIndex, ctx.attempt], ['route', 1, 1]);
    assert.deepEqual(fieldMapToPlain(ctx.priorOutputs.score!.fields), { score: 7 });
  });

  it('when retried with an edited input, then EnrollmentRetried and the step’s next attempt follow, with a round-specific execution id and the earlier output kept', () => {
    const [retried, request] = retryFailedEnrollment(wf, contextOf(failedAtRoute()), { tenantId: 't1', inputFields: { email: fieldValue('ok@example.com') }, reason: 'fixed' }, 10);
    assert.equal(retried?.type, 'EnrollmentRetried');
    assert.equal(request?.event.$case, 'actionRequested');
    if (retried?.event.$case !== 'enrollmentRetried' || request?.event.$case !== 'actionRequested') return;
    const ctx = contextOf(request);
    assert.deepEqual([ctx.attempt, ctx.retryRound, ctx.stepIndex, retried.event.value.round], [2, 1, 1, 1]);
    assert.notEqual(request.event.value.executionId, executionIdFor('enr1', 1, 2), 'a manual retry never reuses an id of the automatic attempts');
    assert.equal(retried.event.value.executionId, request.event.value.executionId);
    assert.deepEqual(fieldMapToPlain(request.event.value.inputFields), { score: 7, email: 'ok@example.com' });
    // Deciding the same retry again gives the same events (ids and payloads).
    const again = retryFailedEnrollment(wf, contextOf(failedAtRoute()), { tenantId: 't1', inputFields: { email: fieldValue('ok@example.com') }, reason: 'fixed' }, 10);
    assert.deepEqual(again, [retried, request]);
  });

  it('given the retried step succeeds, then the next step has the round but not the edited inputs; failing again is a new EnrollmentFailed', () => {
    const [, request] = retryFailedEnrollment(wf, contextOf(failedAtRoute()), { tenantId: 't1', inputFields: { email: fieldValue('x@y.z') } }, 10);
    const [next] = onActionResult(wf, 't1', result(request!, true), DEFAULT_RETRY_POLICY, 11);
    const ctx = contextOf(next);
    assert.deepEqual([ctx.actionId, ctx.retryRound, ctx.inputOverrides], ['last', 1, undefined]);
    const [failedAgain] = onActionResult(wf, 't1', result(next!, false), DEFAULT_RETRY_POLICY, 12);
    assert.equal(failedAgain?.event.$case, 'enrollmentFailed');
    assert.notEqual(failedAgain?.eventId, failedAtRoute().eventId, 'the second failure is its own event, not a duplicate of the first');
  });

  it('given a later version without the failed action, when retried on it, then it is refused naming the action', () => {
    const later: WorkflowDefinition = { ...wf, version: 2, actions: wf.actions.filter((a) => a.actionId !== 'route') };
    assert.throws(() => retryFailedEnrollment(later, contextOf(failedAtRoute()), { tenantId: 't1' }, 10), { code: 'FAILED_PRECONDITION', message: /version 2 of workflow wf1 has no action "route"/ });
    const moved: WorkflowDefinition = { ...wf, version: 3, actions: [wf.actions[1]!, wf.actions[0]!, wf.actions[2]!] };
    const [, request] = retryFailedEnrollment(moved, contextOf(failedAtRoute()), { tenantId: 't1' }, 10);
    assert.deepEqual([contextOf(request).stepIndex, contextOf(request).workflowVersion], [0, 3]);
  });
});
