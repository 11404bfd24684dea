/**
 * Embedded mode's executor on a thread of its own (`CODESTEP_EMBEDDED_WORKERS=1`), so the second
 * core runs the executions' side of the work while the main thread serves HTTP, enrollments and
 * history. The thread runs the executor as distributed mode runs its app: its own connections to
 * the event log and its store (SQLite in WAL mode: several connections to one file, writers
 * serialised by SQLite), the sandbox host as its child process. What it asks of the enrollment
 * service and the broker crosses to this thread as messages (`executor-thread.protocol.ts`) and
 * is answered by the in-process clients, so no loopback gRPC. Appends in either thread wake the
 * other's consumers (`wakeAcrossThreads` of the SQLite event log).
 *
 * Stopping drains as the executor app does: the thread stops consuming, lets running executions
 * finish (CODESTEP_DRAIN_TIMEOUT_MS), hands back the rest, closes its connections and ends. A
 * `kill -9` ends both threads at once, as it ends one process: recovery is the executor's usual
 * (claims, leases, the lease reaper). A thread that dies otherwise ends the process with an
 * error: the platform cannot run actions without it, and a restart recovers its work.
 */
import { Worker } from 'node:worker_threads';
import { CodestepError, isErrorCode, serializeError, type Logger } from '@codestep/core';
import type { ExecutorPorts } from '@codestep/executor-service';
import { addMetricProducer, extractContext, withContext, type ScopeMetrics } from '@codestep/telemetry';
import type { ExecutorThreadData, FromExecutorThread, ToExecutorThread } from './executor-thread.protocol.ts';
import type { PlatformConfig } from './platform.config.ts';
import { executorPeers, stopper, type Running, type Shared } from './services.ts';

/** Starts the executor thread and resolves once its executor consumes; the returned `stop` drains it. */
export async function startExecutorThread(config: PlatformConfig, logger: Logger, shared: Shared): Promise<Running> {
  const peers = executorPeers(config, shared);
  const data: ExecutorThreadData = { config };
  const worker = new Worker(new URL('./executor.worker.ts', import.meta.url), { workerData: data, name: 'codestep-executor' });
  const send = (message: ToExecutorThread) => worker.postMessage(message);
  // Before it started, a failure is the start's (startEmbedded closes what it opened); after, it ends the process.
  let up = false;
  let stopping = false;
  let stopped: (() => void) | undefined;
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const metrics = threadMetrics(send, exited);
  const started = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: FromExecutorThread) => {
      if (message.kind === 'call') answer(peers.ports, message, send);
      else if (message.kind === 'metrics') metrics.answered(message.id, message.scopeMetrics);
      else if (message.kind === 'started') resolve();
      else if (message.kind === 'start-failed')
        reject(new CodestepError(isErrorCode(message.error.code) ? message.error.code : 'INTERNAL', `the executor thread did not start: ${message.error.message}`));
      else stopped?.();
    });
    worker.once('error', (error) => {
      reject(error);
      if (!up || stopping) return;
      // As an executor process that crashed: nothing runs actions any more; a restart recovers its claims.
      logger.error({ service: 'executor', error }, 'the executor thread failed; stopping the process');
      process.exit(1);
    });
    void exited.then((code) => {
      reject(new Error(`the executor thread exited (code ${code}) before it started`));
      if (!up || stopping) return;
      logger.error({ service: 'executor', code }, 'the executor thread exited; stopping the process');
      process.exit(1);
    });
  });
  const removeMetrics = config.metricsPort !== undefined || config.otlpMetricsEndpoint !== undefined ? addMetricProducer(metrics.collect) : () => {};
  try {
    await started;
    up = true;
  } catch (error) {
    removeMetrics();
    peers.close();
    await worker.terminate();
    throw error;
  }
  return stopper('executor', [
    {
      // The thread's own drain is bounded by CODESTEP_DRAIN_TIMEOUT_MS; this bound is a backstop.
      run: async () => {
        stopping = true;
        const done = new Promise<void>((resolve) => (stopped = resolve));
        send({ kind: 'stop' });
        await Promise.race([done, exited]);
        // Ended once it has nothing left to run; a handle left open does not hold the stop up.
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000).unref())]);
      },
      timeoutMs: config.drainTimeoutMs + 10_000,
    },
    () => worker.terminate(),
    async () => removeMetrics(),
    async () => peers.close(),
  ]);
}

/** Runs a port call of the executor thread with this thread's clients, in the caller's trace, and answers it. */
function answer(ports: ExecutorPorts, call: Extract<FromExecutorThread, { kind: 'call' }>, send: (m: ToExecutorThread) => void): void {
  const run = () => (ports[call.method] as (...args: unknown[]) => Promise<unknown>)(...call.args);
  const ctx = extractContext(call.traceparent ? { traceparent: call.traceparent } : {});
  withContext(ctx, run).then(
    (result) => send({ kind: 'reply', id: call.id, result }),
    (error: unknown) => send({ kind: 'reply', id: call.id, error: serializeError(error) }),
  );
}

/** The thread's metrics asked for at each collection of this thread's endpoint (none once it ended or when it is slow to answer). */
function threadMetrics(send: (m: ToExecutorThread) => void, exited: Promise<number>) {
  const waiting = new Map<number, (scopeMetrics: ScopeMetrics[]) => void>();
  let nextId = 1;
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const resolve of waiting.values()) resolve([]);
    waiting.clear();
  });
  return {
    collect: () =>
      new Promise<ScopeMetrics[]>((resolve) => {
        if (ended) return resolve([]);
        const id = nextId++;
        const timer = setTimeout(() => (waiting.delete(id), resolve([])), 5_000);
        waiting.set(id, (scopeMetrics) => (clearTimeout(timer), resolve(scopeMetrics)));
        send({ kind: 'collect-metrics', id });
      }),
    answered: (id: number, scopeMetrics: unknown[]) => {
      waiting.get(id)?.(scopeMetrics as ScopeMetrics[]);
      waiting.delete(id);
    },
  };
}
