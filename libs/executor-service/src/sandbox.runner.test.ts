/**
 * The sandbox runner: OAuth tokens only for executions running here, with their action's workflow
 * and handles; a sandbox that throws gives the action a retryable SANDBOX_UNAVAILABLE failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionRequest, ExecutionResult, Sandbox } from '@codestep/sandbox';
import type { Prepared } from './execution.preparer.ts';
import type { ExecutorPorts } from './executor.ports.ts';
import { createSandboxRunner } from './sandbox.runner.ts';

const prepared: Prepared = {
  request: { executionId: 'ex1', tenantId: 't1', code: '', input: { runtime: 'jsworkflows', data: {}, headers: {} }, secrets: {}, outputFields: [], limits: { timeoutMs: 1_000, memoryMb: 64 } },
  workflowId: 'wf1',
  enrollmentId: 'enr1',
  handles: ['crm'],
  grant: 'g1.grant-of-ex1',
};
const ok: ExecutionResult = { status: 'succeeded', outputFields: {}, logs: [], logsTruncated: false, error: null, durationMs: 1 };

/** A sandbox whose execution asks the host for a token, as an action calling `api.getOAuthToken` does. */
function askingSandbox(ask: (request: ExecutionRequest) => Promise<unknown>): Sandbox & { answers: unknown[] } {
  const s = {
    answers: [] as unknown[],
    async execute(request: ExecutionRequest) {
      s.answers.push(await ask(request));
      return ok;
    },
    async close() {},
  };
  return s;
}

describe('sandbox runner', () => {
  it('given a running execution asking for a token, asks the credentials port with its workflow, declared handles and grant', async () => {
    const asked: unknown[] = [];
    const runner = createSandboxRunner({ getOAuthToken: async (r) => (asked.push(r), { token: 'tok' }) });
    const sandbox = askingSandbox((r) => runner.hostApi.getOAuthToken({ tenantId: r.tenantId, executionId: r.executionId, handle: 'crm' }));
    assert.deepEqual(await runner.run(sandbox, prepared), ok);
    assert.deepEqual(sandbox.answers, [{ token: 'tok' }]);
    assert.deepEqual(asked, [{ tenantId: 't1', workflowId: 'wf1', executionId: 'ex1', handle: 'crm', declaredHandles: ['crm'], grant: 'g1.grant-of-ex1' }]);
  });

  it('given no running execution of that id and tenant, refuses without asking the port', async () => {
    let asked = false;
    const runner = createSandboxRunner({ getOAuthToken: async () => ((asked = true), { token: 'tok' }) });
    assert.deepEqual(await runner.hostApi.getOAuthToken({ tenantId: 't1', executionId: 'ex1', handle: 'crm' }), { error: 'connection "crm": no running execution asked for it' });
    const otherTenant = askingSandbox(() => runner.hostApi.getOAuthToken({ tenantId: 't2', executionId: 'ex1', handle: 'crm' }));
    await runner.run(otherTenant, prepared);
    assert.deepEqual(otherTenant.answers, [{ error: 'connection "crm": no running execution asked for it' }]);
    await runner.run(
      askingSandbox(async () => undefined),
      prepared,
    );
    assert.deepEqual(
      await runner.hostApi.getOAuthToken({ tenantId: 't1', executionId: 'ex1', handle: 'crm' }),
      { error: 'connection "crm": no running execution asked for it' },
      'not once it finished',
    );
    assert.equal(asked, false);
  });

  it('given a credentials service that cannot be reached, answers the action with an error instead of throwing', async () => {
    const ports: Pick<ExecutorPorts, 'getOAuthToken'> = { getOAuthToken: async () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const runner = createSandboxRunner(ports);
    const sandbox = askingSandbox((r) => runner.hostApi.getOAuthToken({ tenantId: r.tenantId, executionId: r.executionId, handle: 'crm' }));
    await runner.run(sandbox, prepared);
    assert.deepEqual(sandbox.answers, [{ error: 'connection "crm": the credentials service could not be reached (connect ECONNREFUSED); try again later' }]);
  });

  it('given a sandbox that throws, reports a retryable SANDBOX_UNAVAILABLE failure', async () => {
    const runner = createSandboxRunner({ getOAuthToken: async () => ({}) });
    const broken: Sandbox = { execute: async () => Promise.reject(new Error('worker crashed')), close: async () => {} };
    const result = await runner.run(broken, prepared);
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.error, { code: 'SANDBOX_UNAVAILABLE', message: 'the sandbox could not run the action: worker crashed', retryable: true });
  });
});
