/**
 * The messages between embedded mode's main thread and its executor thread
 * (`executor.thread.ts` starts it, `executor.worker.ts` runs in it). The executor's ports (its
 * workflow lookups, secrets and OAuth tokens) are called across as requests with ids and answered
 * by the main thread's in-process clients (same access policy, serialisers and handlers as every
 * other local call); errors cross as `{ name, code, message }` and come back as `CodestepError`s;
 * calls still pending when the thread ends are rejected. The thread's spans are exported by its own
 * telemetry (same endpoint); its metrics are collected by the main thread's endpoint on demand.
 */
import type { SerializedError } from '@codestep/core';
import type { ExecutorPorts } from '@codestep/executor-service';
import type { PlatformConfig } from './platform.config.ts';

/** What the executor thread is started with. */
export interface ExecutorThreadData {
  config: PlatformConfig;
}

export type PortMethod = keyof ExecutorPorts;

/** Main thread → executor thread. */
export type ToExecutorThread =
  /** Drain and stop (SIGTERM of `codestep dev`): the thread answers `stopped`, then ends. */
  | { kind: 'stop' }
  /** This thread's metrics, for a collection of the main thread's endpoint (answered by `metrics`). */
  | { kind: 'collect-metrics'; id: number }
  /** The answer to a `call`. */
  | { kind: 'reply'; id: number; result: unknown }
  | { kind: 'reply'; id: number; error: SerializedError };

/** Executor thread → main thread. */
export type FromExecutorThread =
  | { kind: 'started' }
  | { kind: 'start-failed'; error: SerializedError }
  | { kind: 'stopped' }
  | { kind: 'metrics'; id: number; scopeMetrics: unknown[] }
  /** One of the executor's ports called (`args` as the port takes them), in the trace of `traceparent`. */
  | { kind: 'call'; id: number; method: PortMethod; args: unknown[]; traceparent?: string };
