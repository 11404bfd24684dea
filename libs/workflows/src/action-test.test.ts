import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { envelope, fieldMapToPlain, fieldValue } from '@codestep/events';
import { testActionRequested } from './action-test.ts';
import { DEFAULT_RETRY_POLICY, onActionResult } from './enrollment.decider.ts';
import { parseWorkflowInput } from './workflow-definition.ts';

const input = parseWorkflowInput({
  name: 'two steps',
  actions: [
    { id: 'score', code: 'exports.main = async () => ({ outputFields: { score: 1 } })', outputFields: [{ name: 'score', type: 'number' }] },
    {
      id: 'route',
      code: 'exports.main = async () => ({ outputFields: {} })',
      timeoutMs: 900,
      inputFields: [
        { name: 'score', fromAction: { actionId: 'score', field: 'score' } },
        { name: 'email', property: 'email' },
        { name: 'tier', value: 'gold' },
      ],
    },
  ],
});
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 3, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };
const object = { objectType: 'CONTACT', objectId: '42', properties: { email: 'a@example.com' } };
const policy = { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 };

describe('testing one action', () => {
  it('given a later action, when tested, then its request is marked test, resolves its inputs from the object and takes the caller’s over them', () => {
    const env = testActionRequested(wf, { tenantId: 't1', testId: 'tst_1', actionId: 'route', object, inputFields: { score: fieldValue(9), tier: fieldValue('silver') }, limits: policy }, 1000);
    assert.equal(env.event.$case, 'actionRequested');
    if (env.event.$case !== 'actionRequested') return;
    const req = env.event.value;
    assert.deepEqual([req.context?.test, req.context?.enrollmentId, req.context?.stepIndex, req.context?.workflowVersion, req.context?.attempt], [true, 'tst_1', 1, 3, 1]);
    assert.deepEqual(fieldMapToPlain(req.inputFields), { score: 9, email: 'a@example.com', tier: 'silver' });
    assert.deepEqual(req.limits, { timeoutMs: 900, memoryMb: 128 });
    assert.equal(env.correlationId, 'tst_1');
  });

  it('given an action id the version lacks, then it is refused naming the actions there are', () => {
    assert.throws(() => testActionRequested(wf, { tenantId: 't1', testId: 'tst_1', actionId: 'nope', object, inputFields: {} }, 1), {
      code: 'INVALID_ARGUMENT',
      message: 'workflow wf1 v3 has no action "nope"; its actions are "score", "route"',
    });
  });

  it('given the result of a test, when the step machine decides, then nothing follows (no next step, no retry, no enrollment event)', () => {
    const env = testActionRequested(wf, { tenantId: 't1', testId: 'tst_1', actionId: 'score', object, inputFields: {} }, 1000);
    if (env.event.$case !== 'actionRequested') return assert.fail('not a request');
    const { executionId, context } = env.event.value;
    const ok = envelope(
      { eventId: 'e1', tenantId: 't1', aggregateId: executionId, occurredAt: 2 },
      { $case: 'actionSucceeded', value: { executionId, context, outputFields: {}, durationMs: 1, returnValueJson: '', nextSteps: [], waits: [], httpResponseJson: '' } },
    );
    const failed = envelope(
      { eventId: 'e2', tenantId: 't1', aggregateId: executionId, occurredAt: 2 },
      {
        $case: 'actionFailed',
        value: { executionId, context, error: { code: 'RATE_LIMITED', message: '429', retryable: true, retryAfterMs: 0 }, continueEnrollment: false, outputFields: {}, durationMs: 1 },
      },
    );
    assert.deepEqual(onActionResult(wf, 't1', ok, DEFAULT_RETRY_POLICY, 3), []);
    assert.deepEqual(onActionResult(wf, 't1', failed, DEFAULT_RETRY_POLICY, 3), []);
    // The same result of an enrollment's execution goes on to the next step.
    const enrolled = { ...ok, event: { $case: 'actionSucceeded' as const, value: { ...ok.event.value, context: { ...context!, test: undefined } } } } as typeof ok;
    assert.equal(onActionResult(wf, 't1', enrolled, DEFAULT_RETRY_POLICY, 3)[0]?.event.$case, 'actionRequested');
  });
});
