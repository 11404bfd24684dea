import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { envelope, fieldMapToPlain, fieldValue } from '@codestep/events';
import { testActionRequested } from './action-test.ts';
import { DEFAULT_RETRY_POLICY, onActionResult } from './enrollment.decider.ts';
import { parseDraftAction, parseWorkflowInput } from './workflow-definition.ts';

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

  it('given dryRun, then the request’s context is marked dry run', () => {
    const env = testActionRequested(wf, { tenantId: 't1', testId: 'tst_2', actionId: 'score', object, inputFields: {}, dryRun: true }, 1000);
    if (env.event.$case !== 'actionRequested') return assert.fail('not a request');
    assert.equal(env.event.value.context?.dryRun, true);
    const real = testActionRequested(wf, { tenantId: 't1', testId: 'tst_3', actionId: 'score', object, inputFields: {} }, 1000);
    if (real.event.$case !== 'actionRequested') return assert.fail('not a request');
    assert.equal(real.event.value.context?.dryRun, undefined);
  });

  it('given a draft of a saved action, then the request carries it, at that action’s step, its inputs resolved from it', () => {
    const draft = parseDraftAction(
      {
        code: 'exports.main = async () => ({})',
        secrets: ['KEY'],
        inputFields: [
          { name: 'prior', fromAction: { actionId: 'score', field: 'score' } },
          { name: 'mail', property: 'email' },
        ],
      },
      'route',
      wf.actions,
    );
    assert.equal(draft.actionId, 'route');
    const env = testActionRequested(wf, { tenantId: 't1', testId: 'tst_4', actionId: 'route', object, inputFields: { prior: fieldValue(3) }, draft }, 1000);
    if (env.event.$case !== 'actionRequested') return assert.fail('not a request');
    assert.deepEqual(env.event.value.draftAction, draft);
    assert.equal(env.event.value.context?.stepIndex, 1);
    assert.deepEqual(fieldMapToPlain(env.event.value.inputFields), { prior: 3, mail: 'a@example.com' });
  });

  it('given a draft of a new action, then it runs after the saved ones and may read all their outputs', () => {
    const draft = parseDraftAction({ code: 'exports.main = async () => ({})', inputFields: [{ name: 's', fromAction: { actionId: 'score', field: 'score' } }] }, 'extra', wf.actions);
    const env = testActionRequested(wf, { tenantId: 't1', testId: 'tst_5', actionId: 'extra', object, inputFields: {}, draft }, 1000);
    if (env.event.$case !== 'actionRequested') return assert.fail('not a request');
    assert.deepEqual([env.event.value.context?.stepIndex, env.event.value.context?.actionId], [2, 'extra']);
  });

  it('given a bad draft, then it is refused as a save refuses it, under the field path action', () => {
    assert.throws(() => parseDraftAction({ code: 'exports.main = (' }, 'route', wf.actions), { message: /^action\.code: SyntaxError/ });
    assert.throws(() => parseDraftAction({ code: 'exports.main = 1', outputFeilds: [] }, 'route', wf.actions), { message: /^action\.outputFeilds: is not a field here/ });
    assert.throws(() => parseDraftAction({ id: 'other', code: 'exports.main = 1' }, 'route', wf.actions), { message: /^action\.id: is "other" but the test is of action "route"/ });
    // An input may only take outputs of the saved actions before the one it replaces.
    assert.throws(() => parseDraftAction({ code: 'x = 1', inputFields: [{ name: 'r', fromAction: { actionId: 'route', field: 'x' } }] }, 'score', wf.actions), {
      message: /^action\.inputFields\[0\]\.fromAction\.actionId: no earlier action has id "route"/,
    });
    assert.throws(() => parseDraftAction('code', 'route', wf.actions), { message: /^action: must be an action object/ });
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
