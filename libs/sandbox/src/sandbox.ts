/**
 * `createSandbox()`: the executor's and the CLI's entry point. It owns one sandbox host
 * process (restarted if it dies), turns requests into what a worker runs, and answers the
 * code's OAuth token requests through `SandboxOptions.hostApi`. See ARCHITECTURE.md.
 */
import { CodestepError, createLogger, type Logger } from '@codestep/core';
import { failedResult, prepareExecution } from './client/execution-request.ts';
import { HostConnection } from './client/host-connection.ts';
import { hostBundles } from './client/host-bundle.ts';
import { loadDefaultRuntime } from './client/runtime-loader.ts';
import { DEFAULT_LIMITS, RUNTIME_CAPS } from './limits.ts';
import { isSerializedError, type HostSettings, type RuntimeSources } from './protocol.ts';
import type { ExecutionRequest, ExecutionResult, SandboxHandle, SandboxOptions, SandboxRuntimeSources, SandboxStats } from './sandbox.types.ts';

/** See `SandboxOptions.gcHeadroomMb`. */
const DEFAULT_GC_HEADROOM_MB = 64;

/** A crashed host is restarted at once, but not more often than this. */
const MIN_RESTART_INTERVAL_MS = 1000;

interface Running {
  tenantId: string;
  executionId: string;
}

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
  const logger: Logger = options.logger ?? createLogger({ component: 'sandbox' }, { level: 'warn' });
  const [bundles, runtime] = await Promise.all([hostBundles(), options.loadRuntime ? options.loadRuntime() : loadDefaultRuntime(logger)]);
  const settings: HostSettings = {
    poolSize: Math.max(1, Math.floor(options.poolSize ?? 2)),
    defaultMemoryMb: options.defaultMemoryMb ?? DEFAULT_LIMITS.memoryMb,
    egress: { allowHosts: [...(options.egress?.allowHosts ?? [])], mapHosts: { ...options.egress?.mapHosts } },
    workerSource: bundles.worker,
    runtime: toRuntimeSources(runtime),
  };
  // import() inside the sandbox would reach Node's loader (see the worker): user code has it
  // rewritten, and the runtime's own bundles must not contain it either.
  for (const [name, library] of Object.entries(settings.runtime.libraries)) {
    if (/\bimport\s*\(/.test(library.source)) logger.error({ library: name }, 'a sandbox runtime library contains import(); it will fail inside the sandbox');
  }
  const running = new Map<number, Running>();
  let closed = false;
  let hostStarts = 0;
  let lastStart = 0;
  let host: Promise<HostConnection> | undefined;

  const onOAuth = (connection: () => HostConnection | undefined) => (id: number, callId: number, handle: string) => {
    const execution = running.get(id);
    const answer = (result: { token?: string; error?: string }) => connection()?.oauthResult(id, callId, result);
    const getToken = options.hostApi?.getOAuthToken;
    if (!execution || !getToken) {
      answer({ error: 'OAuth connections are not available in this environment' });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ token?: string; error?: string }>((resolve) => {
      timer = setTimeout(() => resolve({ error: `getOAuthToken timed out after ${RUNTIME_CAPS.oauthTimeoutMs} ms` }), RUNTIME_CAPS.oauthTimeoutMs);
    });
    Promise.race([getToken.call(options.hostApi, { tenantId: execution.tenantId, executionId: execution.executionId, handle }), timeout])
      .then((result) => {
        const token = typeof result?.token === 'string' ? result.token : undefined;
        const error = typeof result?.error === 'string' ? result.error : undefined;
        answer(token !== undefined ? { token } : { error: error ?? `No token for connection "${handle}"` });
      })
      .catch((error: unknown) => {
        logger.warn({ executionId: execution.executionId, handle }, `getOAuthToken failed: ${error instanceof Error ? error.message : String(error)}`);
        answer({ error: `Could not get a token for connection "${handle}"` });
      })
      .finally(() => clearTimeout(timer));
  };

  const start = (): Promise<HostConnection> => {
    hostStarts++;
    lastStart = Date.now();
    let current: HostConnection | undefined;
    const starting = HostConnection.start({
      hostSource: bundles.host,
      gcHeadroomMb,
      settings,
      logger,
      onOAuth: onOAuth(() => current),
      onExit: (description) => {
        logger.error({ description }, 'sandbox host process exited; starting a new one');
        if (host === starting) host = undefined;
        if (!closed) scheduleRestart();
      },
    }).then((connection) => {
      current = connection;
      return connection;
    });
    starting.catch(() => {
      if (host === starting) host = undefined;
    });
    return starting;
  };
  const scheduleRestart = () => {
    const wait = Math.max(0, lastStart + MIN_RESTART_INTERVAL_MS - Date.now());
    setTimeout(() => {
      if (!closed && !host) {
        host = start();
        host.catch((error: unknown) => logger.error({}, `sandbox host restart failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    }, wait).unref();
  };
  const connection = (): Promise<HostConnection> => {
    host ??= start();
    return host;
  };

  try {
    await connection();
  } catch (error) {
    throw new CodestepError('SANDBOX_START_FAILED', `The sandbox host could not start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  return {
    async execute(request: ExecutionRequest): Promise<ExecutionResult> {
      if (closed) throw new CodestepError('SANDBOX_CLOSED', 'The sandbox is closed');
      const started = Date.now();
      const prepared = await prepareExecution(request);
      if (!prepared.ok) return prepared.result;
      let conn: HostConnection;
      try {
        conn = await connection();
      } catch (error) {
        return failedResult(
          { code: 'SANDBOX_UNAVAILABLE', message: `The sandbox host could not start: ${error instanceof Error ? error.message : String(error)}`, retryable: true },
          Date.now() - started,
        );
      }
      const { id, promise } = conn.execute(prepared.execution);
      running.set(id, { tenantId: request.tenantId, executionId: request.executionId });
      try {
        return await promise;
      } catch (error) {
        if (closed) {
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
    },

    async stats(): Promise<SandboxStats> {
      const conn = await connection();
      const stats = await conn.stats();
      return { ...stats, hostStarts, hostPid: conn.pid };
    },

    /** Stops the host at once: executions still running fail with `SANDBOX_CLOSED` (retryable). Drain callers first. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const current = host;
      host = undefined;
      const conn = await current?.catch(() => undefined);
      await conn?.stop();
    },
  };
}

function toRuntimeSources(runtime: SandboxRuntimeSources | null): RuntimeSources {
  if (!runtime) return { prelude: null, libraries: {} };
  const libraries: RuntimeSources['libraries'] = {};
  for (const [name, library] of Object.entries(runtime.libraries)) libraries[name] = { filename: library.filename, source: library.source };
  return { prelude: { filename: runtime.prelude.filename, source: runtime.prelude.source }, libraries };
}
