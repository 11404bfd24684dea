/**
 * `createSandbox()`: the executor's and the CLI's entry point. It owns one sandbox host
 * process (restarted if it dies), turns requests into what a worker runs, and answers the
 * code's OAuth token requests through `SandboxOptions.hostApi`. See ARCHITECTURE.md.
 */
import { CodestepError, createLogger, type Logger } from '@codestep/core';
import { failedResult, prepareExecution } from './client/execution-request.ts';
import type { HostConnection } from './client/host-connection.ts';
import { hostBundles } from './client/host-bundle.ts';
import { hostSettingsOf, librarySourceOf } from './client/host-settings.ts';
import { superviseHost, type HostSupervisor } from './client/host.supervisor.ts';
import { relayOAuthRequests, relayRunStateRequests, type RunningExecution } from './client/oauth-token.relay.ts';
import { loadDefaultRuntime } from './client/runtime-loader.ts';
import { MIN_HOST_MEMORY_CEILING_MB } from './limits.ts';
import { isSerializedError } from './protocol.ts';
import type { ExecutionRequest, ExecutionResult, SandboxHandle, SandboxOptions, SandboxStats } from './sandbox.types.ts';

/** See `SandboxOptions.gcHeadroomMb`. */
const DEFAULT_GC_HEADROOM_MB = 64;

/** Below this a host ceiling would end workers that merely started (the host and 2 idle workers hold ~100 MB). */

/**
 * Starts a sandbox: builds the host code, loads the runtime, starts the host process and
 * pre-warms `poolSize` workers. Resolves when the sandbox can take executions.
 * @throws CodestepError `SANDBOX_START_FAILED` when the host process cannot start.
 */
export async function createSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const gcHeadroomMb = options.gcHeadroomMb ?? DEFAULT_GC_HEADROOM_MB;
  if (!Number.isFinite(gcHeadroomMb) || gcHeadroomMb < 0) {
    throw new CodestepError('SANDBOX_START_FAILED', `gcHeadroomMb must be a number of MB, 0 or more (got ${String(options.gcHeadroomMb)})`);
  }
  const ceilingMb = options.hostMemoryCeilingMb;
  if (ceilingMb !== undefined && (!Number.isFinite(ceilingMb) || (ceilingMb !== 0 && ceilingMb < MIN_HOST_MEMORY_CEILING_MB))) {
    throw new CodestepError('SANDBOX_START_FAILED', `hostMemoryCeilingMb must be 0 (off) or a number of MB of at least ${MIN_HOST_MEMORY_CEILING_MB} (got ${String(ceilingMb)})`);
  }
  const logger: Logger = options.logger ?? createLogger({ component: 'sandbox' }, { level: 'warn' });
  const [bundles, runtime] = await Promise.all([hostBundles(), options.loadRuntime ? options.loadRuntime() : loadDefaultRuntime(logger)]);
  const settings = hostSettingsOf(options, bundles.worker, runtime, logger);
  const running = new Map<number, RunningExecution>();
  const supervisor = superviseHost({
    hostSource: bundles.host,
    gcHeadroomMb,
    settings,
    logger,
    onOAuth: relayOAuthRequests(running, options.hostApi, logger),
    onRunState: relayRunStateRequests(running, options.hostApi, logger),
    librarySource: librarySourceOf(runtime, logger),
  });

  try {
    await supervisor.connection();
  } catch (error) {
    throw new CodestepError('SANDBOX_START_FAILED', `The sandbox host could not start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  return {
    execute: (request) => execute(supervisor, running, request),

    async stats(): Promise<SandboxStats> {
      const conn = await supervisor.connection();
      const stats = await conn.stats();
      return { ...stats, hostStarts: supervisor.hostStarts, hostPid: conn.pid };
    },

    /** Stops the host at once: executions still running fail with `SANDBOX_CLOSED` (retryable). Drain callers first. */
    close: () => supervisor.close(),
  };
}

/** One execution on the supervised host; every failure of the sandbox itself becomes a retryable failed result. */
async function execute(supervisor: HostSupervisor, running: Map<number, RunningExecution>, request: ExecutionRequest): Promise<ExecutionResult> {
  if (supervisor.closed) throw new CodestepError('SANDBOX_CLOSED', 'The sandbox is closed');
  const started = Date.now();
  const prepared = await prepareExecution(request);
  if (!prepared.ok) return prepared.result;
  let conn: HostConnection;
  try {
    conn = await supervisor.connection();
  } catch (error) {
    return failedResult({ code: 'SANDBOX_UNAVAILABLE', message: `The sandbox host could not start: ${error instanceof Error ? error.message : String(error)}`, retryable: true }, Date.now() - started);
  }
  const { id, promise } = conn.execute(prepared.execution);
  running.set(id, { tenantId: request.tenantId, executionId: request.executionId });
  try {
    return await promise;
  } catch (error) {
    if (supervisor.closed) {
      return failedResult({ code: 'SANDBOX_CLOSED', message: 'The sandbox was closed while the action ran', retryable: true }, Date.now() - started);
    }
    if (isSerializedError(error) && error.code === 'SANDBOX_HOST_EXITED') {
      return failedResult(
        {
          code: 'SANDBOX_CRASHED',
          message: `The sandbox process ended while the action ran (${error.message}); it has been restarted. Retrying may succeed.`,
          retryable: true,
        },
        Date.now() - started,
      );
    }
    const message = isSerializedError(error) ? error.message : error instanceof Error ? error.message : String(error);
    return failedResult({ code: 'SANDBOX_INTERNAL', message: `The sandbox failed: ${message}`, retryable: true }, Date.now() - started);
  } finally {
    running.delete(id);
  }
}
