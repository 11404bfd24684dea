/**
 * Preparing a request for the sandbox: a peer that is down throws (the request comes again),
 * anything else wrong becomes the action's failure, and limits are the request's, the action's
 * or the executor's, never above the executor's bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionDefinition, ActionRequested, WorkflowDefinition } from '@codestep/contracts';
import { CodestepError } from '@codestep/core';
import type { ExecutionResult } from '@codestep/sandbox';
import { createExecutionPreparer, type ExecutionPreparerDeps, type Prepared } from './execution.preparer.ts';

const OPERATOR = { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 };

function workflow(action: Partial<ActionDefinition> = {}): WorkflowDefinition {
  const a: ActionDefinition = {
    actionId: 'a',
    name: 'a',
    runtime: 'hubspot',
    code: 'x',
    inputFields: [],
    outputFields: [],
    secretNames: [],
    timeoutMs: 0,
    memoryMb: 0,
    connectionHandles: [],
    runtimeVersion: 'node20',
    ...action,
  };
  return { workflowId: 'wf1', version: 3, name: 'w', objectType: 'CONTACT', actions: [a], createdAt: 0 };
}

function request(stepIndex = 0, limits?: { timeoutMs: number; memoryMb: number }): ActionRequested {
  const context = {
    enrollmentId: 'enr1',
    workflowId: 'wf1',
    workflowVersion: 3,
    stepIndex,
    actionId: 'a',
    attempt: 1,
    object: undefined,
    priorOutputs: {},
    firstAttemptAt: 0,
    trigger: undefined,
    limits: undefined,
    step: undefined,
  };
  return { executionId: 'ex1', callbackId: '', inputFields: {}, limits, context, grant: 'g1.grant-of-ex1' };
}

function preparer(over: Partial<ExecutionPreparerDeps> = {}) {
  return createExecutionPreparer({ getWorkflow: async () => workflow(), resolveSecrets: async () => ({ values: {}, missing: [] }), limits: OPERATOR, ...over });
}

const failureOf = (p: Prepared | { failure: ExecutionResult }) => ('failure' in p ? p.failure.error : undefined);
const preparedOf = (p: Prepared | { failure: ExecutionResult }): Prepared => {
  assert.ok(!('failure' in p), `prepared, not failed: ${JSON.stringify(failureOf(p))}`);
  return p;
};

describe('execution preparer', () => {
  it('given an action with secrets and connections, resolves its secrets under the request grant and names its workflow, handles and grant', async () => {
    let asked: unknown;
    const prepare = preparer({
      getWorkflow: async () => workflow({ secretNames: ['KEY'], connectionHandles: ['crm'] }),
      resolveSecrets: async (r) => ((asked = r), { values: { KEY: 'v' }, missing: [] }),
    });
    const p = preparedOf(await prepare('t1', request()));
    assert.deepEqual(asked, { tenantId: 't1', workflowId: 'wf1', executionId: 'ex1', names: ['KEY'], grant: 'g1.grant-of-ex1' });
    assert.deepEqual(p.request.secrets, { KEY: 'v' });
    assert.deepEqual({ workflowId: p.workflowId, handles: p.handles, grant: p.grant }, { workflowId: 'wf1', handles: ['crm'], grant: 'g1.grant-of-ex1' });
  });

  it('given an action without secrets, does not ask for any', async () => {
    let asked = false;
    const p = preparedOf(await preparer({ resolveSecrets: async () => ((asked = true), { values: {}, missing: [] }) })('t1', request()));
    assert.equal(asked, false);
    assert.deepEqual(p.request.secrets, {});
  });

  it('given a secret that does not exist, fails the action with SECRET_NOT_FOUND', async () => {
    const prepare = preparer({ getWorkflow: async () => workflow({ secretNames: ['A', 'B'] }), resolveSecrets: async () => ({ values: { A: '1' }, missing: ['B'] }) });
    const error = failureOf(await prepare('t1', request()));
    assert.equal(error?.code, 'SECRET_NOT_FOUND');
    assert.match(error!.message, /secret\(s\) B selected/);
    assert.equal(error?.retryable, false);
  });

  it('given a workflow without the requested step, fails the action with EXECUTOR_ERROR', async () => {
    const error = failureOf(await preparer()('t1', request(4)));
    assert.equal(error?.code, 'EXECUTOR_ERROR');
    assert.match(error!.message, /workflow wf1 v3 has no step 4/);
  });

  it('given a lookup failing for any other reason, fails the action with EXECUTOR_ERROR', async () => {
    const error = failureOf(await preparer({ getWorkflow: async () => Promise.reject(new CodestepError('NOT_FOUND', 'no such workflow')) })('t1', request()));
    assert.equal(error?.code, 'EXECUTOR_ERROR');
    assert.match(error!.message, /could not prepare the action: no such workflow/);
  });

  it('given a peer that is down or slow, throws so the request is delivered again instead of failing the action', async () => {
    for (const code of ['UNAVAILABLE', 'DEADLINE_EXCEEDED'] as const) {
      await assert.rejects(preparer({ getWorkflow: async () => Promise.reject(new CodestepError(code, 'down')) })('t1', request()), (e) => e instanceof CodestepError && e.code === code);
      const secretsDown = preparer({ getWorkflow: async () => workflow({ secretNames: ['A'] }), resolveSecrets: async () => Promise.reject(new CodestepError(code, 'down')) });
      await assert.rejects(secretsDown('t1', request()), (e) => e instanceof CodestepError && e.code === code);
    }
  });

  it("given limits stated by the request, runs with them; without, with the action's own or the executor's defaults; never above the executor's bounds", async () => {
    const limitsOf = async (action: Partial<ActionDefinition>, stated?: { timeoutMs: number; memoryMb: number }) =>
      preparedOf(await preparer({ getWorkflow: async () => workflow(action) })('t1', request(0, stated))).request.limits;
    assert.deepEqual(await limitsOf({ timeoutMs: 5_000 }, { timeoutMs: 300, memoryMb: 0 }), { timeoutMs: 300, memoryMb: 128 });
    assert.deepEqual(await limitsOf({ timeoutMs: 5_000, memoryMb: 64 }), { timeoutMs: 5_000, memoryMb: 64 });
    assert.deepEqual(await limitsOf({}), { timeoutMs: 20_000, memoryMb: 128 });
    assert.deepEqual(await limitsOf({}, { timeoutMs: 90_000, memoryMb: 4_096 }), { timeoutMs: 60_000, memoryMb: 512 });
  });
});
