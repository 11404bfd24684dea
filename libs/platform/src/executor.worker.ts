/**
 * The executor thread of embedded mode (see `executor.thread.ts`): the executor app on its own
 * connections to the event log and its store, with the sandbox host as its child process, its
 * ports answered by the main thread (`executor-thread.protocol.ts`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CodestepError, createLogger, isErrorCode, serializeError } from '@codestep/core';
import type { ExecutorPorts } from '@codestep/executor-service';
import { createSandbox } from '@codestep/sandbox';
import { currentTraceparent, startTelemetry } from '@codestep/telemetry';
import type { ExecutorThreadData, FromExecutorThread, PortMethod, ToExecutorThread } from './executor-thread.protocol.ts';
import { sandboxOptionsOf, telemetryOptionsOf } from './platform.config.ts';
import { startExecutorApp } from './services.ts';

const port = parentPort!;
const { config } = workerData as ExecutorThreadData;
const send = (message: FromExecutorThread) => port.postMessage(message);
const logger = createLogger({ app: 'codestep' }, { level: config.logLevel });
// Spans exported as the main thread's; metrics handed to the main thread's endpoint when it has one.
const { otlpEndpoint, metricsPort, otlpMetricsEndpoint } = telemetryOptionsOf(config, 'codestep');
const telemetry = startTelemetry({ serviceName: 'codestep', otlpEndpoint, pullMetrics: metricsPort !== undefined || otlpMetricsEndpoint !== undefined });

/** Calls awaiting the main thread's answer, by id: rejected if the thread stops first. */
const pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
let nextId = 1;

function call(method: PortMethod, args: unknown[]): Promise<unknown> {
  const id = nextId++;
  const traceparent = currentTraceparent();
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    send({ kind: 'call', id, method, args, ...(traceparent ? { traceparent } : {}) });
  });
}

const ports: ExecutorPorts = {
  getWorkflow: (...args) => call('getWorkflow', args) as ReturnType<ExecutorPorts['getWorkflow']>,
  getOAuthToken: (...args) => call('getOAuthToken', args) as ReturnType<ExecutorPorts['getOAuthToken']>,
  resolveSecrets: (...args) => call('resolveSecrets', args) as ReturnType<ExecutorPorts['resolveSecrets']>,
};

let running: Awaited<ReturnType<typeof startExecutorApp>> | undefined;

port.on('message', (message: ToExecutorThread) => {
  if (message.kind === 'reply') {
    const p = pending.get(message.id);
    pending.delete(message.id);
    if ('error' in message) p?.reject(new CodestepError(isErrorCode(message.error.code) ? message.error.code : 'INTERNAL', message.error.message));
    else p?.resolve(message.result);
    return;
  }
  if (message.kind === 'collect-metrics') {
    void telemetry.collectMetrics().then(
      (scopeMetrics) => send({ kind: 'metrics', id: message.id, scopeMetrics }),
      () => send({ kind: 'metrics', id: message.id, scopeMetrics: [] }),
    );
    return;
  }
  void (async () => {
    await running?.stop();
    for (const p of pending.values()) p.reject(new CodestepError('UNAVAILABLE', 'the executor thread stopped'));
    pending.clear();
    await telemetry.shutdown();
    send({ kind: 'stopped' });
    port.close();
  })();
});

try {
  running = await startExecutorApp(config, logger, { createSandbox: (hostApi) => createSandbox({ ...sandboxOptionsOf(config), hostApi }), ports });
  send({ kind: 'started' });
} catch (error) {
  send({ kind: 'start-failed', error: serializeError(error) });
  port.close();
}
