/**
 * Runs prepared executions in the sandbox and answers what the sandbox asks of its host
 * (JsWorkflows' `api.getOAuthToken`): only for executions running in this process, with the
 * tenant, workflow, connection handles and execution grant of their action. A sandbox that throws gives the
 * action a retryable SANDBOX_UNAVAILABLE failure.
 */
import { activeContext, codestepMetrics, recordHttpClientSpan, withContext, type Context } from '@codestep/telemetry';
import type { ExecutionResult, Sandbox, SandboxHostApi } from '@codestep/sandbox';
import type { ExecutorPorts } from './executor.ports.ts';
import { failure } from './execution.mapping.ts';
import type { Prepared } from './execution.preparer.ts';
import type { RunStateStore } from './run-state.store.ts';

/** Runs executions in a sandbox created (or given) later, see {@link createSandboxRunner}. */
export interface SandboxRunner {
  /** What the sandbox asks of its host, for running executions only. */
  hostApi: Required<SandboxHostApi>;
  /** Runs the execution in `sandbox`; never throws. */
  run(sandbox: Sandbox, prepared: Prepared): Promise<ExecutionResult>;
}

/** Creates a {@link SandboxRunner} asking `ports` for OAuth tokens and `runState` for JsWorkflows' run state. */
export function createSandboxRunner(ports: Pick<ExecutorPorts, 'getOAuthToken'>, runState?: RunStateStore): SandboxRunner {
  /** Executions running in this process: what their action may use. */
  const running = new Map<string, { tenantId: string; workflowId: string; enrollmentId: string; handles: string[]; grant: string; trace: Context }>();
  return {
    hostApi: {
      async runState({ tenantId, executionId, requestJson }) {
        const run = running.get(executionId);
        if (!run || run.tenantId !== tenantId || !runState) return { error: 'api.runStore and api.dedupe are not available to this execution' };
        try {
          return await withContext(run.trace, () => runState.apply({ tenantId, workflowId: run.workflowId, enrollmentId: run.enrollmentId }, requestJson));
        } catch (error) {
          return { error: `the run state could not be reached (${error instanceof Error ? error.message : String(error)}); try again` };
        }
      },
      async getOAuthToken({ tenantId, executionId, handle }) {
        const run = running.get(executionId);
        if (!run || run.tenantId !== tenantId) return { error: `connection "${handle}": no running execution asked for it` };
        try {
          // In the execution's trace: the sandbox's question arrives outside it, over the host's channel.
          return await withContext(run.trace, () => ports.getOAuthToken({ tenantId, workflowId: run.workflowId, executionId, handle, declaredHandles: run.handles, grant: run.grant }));
        } catch (error) {
          return { error: `connection "${handle}": the credentials service could not be reached (${error instanceof Error ? error.message : String(error)}); try again later` };
        }
      },
    },
    async run(sandbox, p) {
      running.set(p.request.executionId, { tenantId: p.request.tenantId, workflowId: p.workflowId, enrollmentId: p.enrollmentId, handles: p.handles, grant: p.grant, trace: activeContext() });
      try {
        const result = await sandbox.execute(p.request);
        if (result.egressBlocked) codestepMetrics().egressBlocked.add(result.egressBlocked);
        // The action's outbound requests, under this execution's span, with the ids their traceparent carried.
        for (const call of result.egressCalls ?? []) recordHttpClientSpan(call, { 'codestep.execution.id': p.request.executionId });
        delete result.egressCalls;
        return result;
      } catch (error) {
        return failure('SANDBOX_UNAVAILABLE', `the sandbox could not run the action: ${error instanceof Error ? error.message : String(error)}`, true);
      } finally {
        running.delete(p.request.executionId);
      }
    },
  };
}
