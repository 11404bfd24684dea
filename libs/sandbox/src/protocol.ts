/**
 * The messages of the sandbox's two boundaries, and a small helper for request/response
 * correlation. Everything here is plain data: it crosses a process boundary (Node IPC, the
 * V8 serializer) and a thread boundary (`postMessage`), never a live object of user code.
 *
 *   client (executor / CLI)  ──ClientToHost──▶  sandbox host process  ──HostToWorker──▶  worker
 *                            ◀──HostToClient──                        ◀──WorkerToHost──
 *
 * Requests carry an `id` chosen by the sender; the answer carries the same `id`. When the other
 * side dies, every pending request is rejected with a {@link SerializedError} (see
 * {@link PendingRequests}).
 */
import type { MessagePort } from 'node:worker_threads';
import type { RuntimeVersion, StepSchedulingBounds } from '@codestep/core';
import type { EgressPolicy, ExecutionResult, OutputFieldSpec } from './sandbox.types.ts';

/** An error as it crosses a boundary: recognise it by `code`, never by class (the one type, from `@codestep/core`). */
export type { SerializedError } from '@codestep/core';
import type { SerializedError } from '@codestep/core';

/** One runtime source: the prelude or a library (see `@codestep/sandbox-runtime`). */
export interface RuntimeSource {
  filename: string;
  source: string;
}

export interface RuntimeSources {
  /** Evaluates to `install(global, bridge)`; null when the runtime package is not available. */
  prelude: RuntimeSource | null;
  /**
   * Module key → source evaluating to `(function (module, exports, require) {...})`: the Node
   * built-in shims, internal `codestep:` modules, and the libraries by `name@version`. A
   * library's source is left out (`source` undefined): the host asks the client for it when a
   * worker first needs it ({@link HostToClient} `source-request`).
   */
  libraries: Record<string, { filename: string; source?: string }>;
  /** Per runtime version, `require` name → library key (see `@codestep/sandbox-runtime`). */
  runtimeVersions: Record<string, Record<string, string>>;
  /** Library sub-paths answered by a property of the library: prefix → library name. */
  subpaths: Record<string, string>;
}

/** What a worker needs to run one execution: the request, already validated and normalised. */
export interface WorkerExecution {
  executionId: string;
  tenantId: string;
  /** CommonJS source (ESM was transformed by the client). */
  code: string;
  /** Key of the compiled-script cache (sha256 of `code`). */
  codeHash: string;
  runtime: 'hubspot' | 'jsworkflows';
  /** Which version of each library `require` gives (a key of `RuntimeSources.runtimeVersions`). */
  runtimeVersion: RuntimeVersion;
  /** The event (hubspot) or data (jsworkflows), as JSON text: parsed inside the context. */
  inputJson: string;
  /** JsWorkflows request headers, JSON text. */
  headersJson: string;
  /** JsWorkflows: the method of the Workflow class to run, and the bounds of `api.scheduleNextStep`. */
  step?: { name: string; scheduling: StepSchedulingBounds };
  secrets: Record<string, string>;
  outputFields?: OutputFieldSpec[];
  timeoutMs: number;
  memoryMb: number;
  traceparent?: string;
  /** A dry run: HTTP writes are held back and recorded (`ExecutionResult.dryRun`), sockets refused. */
  dryRun?: boolean;
}

/** Host-process settings, sent once in `init`. */
export interface HostSettings {
  /** Workers kept warm (and the most running at once). */
  poolSize: number;
  /** Memory class whose workers are started before the first request. */
  defaultMemoryMb: number;
  /**
   * The host's resident memory past which the worker holding the most is ended, MB (see
   * `host/memory-backstop.ts`); 0 = off; absent = `defaultHostMemoryCeilingMb` of the live workers.
   */
  memoryCeilingMb?: number;
  egress: EgressPolicy;
  /** The worker's bundled source (evaluated with `new Worker(source, { eval: true })`). */
  workerSource: string;
  runtime: RuntimeSources;
}

/**
 * Messages sent in one event-loop turn travel as one Node IPC message (one write and one wake-up
 * of the other process instead of one per message); order is kept. See {@link Outbox}.
 */
export interface Batch<T> {
  type: 'batch';
  messages: T[];
}

export type ClientToHost =
  | Batch<ClientToHost>
  | { type: 'init'; settings: HostSettings }
  | { type: 'execute'; id: number; execution: WorkerExecution }
  | { type: 'oauth-result'; id: number; callId: number; resultJson: string }
  | { type: 'run-state-result'; id: number; callId: number; answerJson: string }
  /** The answer to a `source-request`: the library's source, or null when the client has none. */
  | { type: 'source'; name: string; source: string | null }
  | { type: 'stats'; id: number }
  | { type: 'shutdown' };

export interface HostStats {
  workers: number;
  busy: number;
  queued: number;
  /** Workers replaced since the host started (timeouts, memory, crashes, misbehaviour). */
  replaced: number;
  /** Cold starts measured by the host, ms each (most recent last, at most 50). */
  coldStartsMs: number[];
  rssBytes: number;
}

export type HostToClient =
  | Batch<HostToClient>
  | { type: 'ready' }
  | { type: 'result'; id: number; result: ExecutionResult }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'oauth'; id: number; callId: number; handle: string }
  | { type: 'run-state'; id: number; callId: number; requestJson: string }
  | { type: 'stats'; id: number; stats: HostStats }
  /** A worker needs a library whose source the host has not been sent yet. */
  | { type: 'source-request'; name: string }
  | { type: 'diagnostic'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields?: Record<string, string | number | boolean> };

/** Data handed to a new worker (`workerData`). */
export interface WorkerInit {
  memoryMb: number;
  egress: EgressPolicy;
  /**
   * The prelude, and the libraries' names and filenames only: a library's source (the HubSpot
   * client's is 7.7 MB) is copied into a worker when its code first requires it, through
   * {@link WorkerInit.sources}, so a worker holds only the libraries it has used.
   */
  runtime: { prelude: RuntimeSource | null; libraries: Record<string, { filename: string }>; runtimeVersions: Record<string, Record<string, string>>; subpaths: Record<string, string> };
  /** V8 code cache by script filename, made by earlier workers of this host process. */
  codeCache: Record<string, Uint8Array>;
  /**
   * The worker's private line to the host for library sources: it posts `{ name }` on `port`
   * and blocks (`Atomics.wait` on `signal[0]`) until the host has posted the answer
   * ({@link SourceAnswer}) and set `signal[0]` to 1; it reads the answer with
   * `receiveMessageOnPort`. `require` is synchronous, hence the wait.
   */
  sources: { port: MessagePort; signal: SharedArrayBuffer };
  /**
   * The console lines of the worker's running execution, written as they are logged into
   * memory the host reads when it ends the execution itself (time or memory limit), even one
   * that never yielded after logging (see `console-lines.ring.ts`). Made by the host for this
   * worker alone.
   */
  logRing: SharedArrayBuffer;
}

/** The host's answer on {@link WorkerInit.sources}: the source, or null for an unknown name. */
export interface SourceAnswer {
  name: string;
  source: string | null;
}

export type HostToWorker =
  | { type: 'execute'; id: number; execution: WorkerExecution }
  | { type: 'oauth-result'; id: number; callId: number; resultJson: string }
  | { type: 'run-state-result'; id: number; callId: number; answerJson: string }
  /** The host's memory is over its ceiling: what does this worker hold? */
  | { type: 'memory-probe'; probe: number };

export type WorkerToHost =
  /** The worker has started and compiled its runtime: it can take an execution. */
  | { type: 'ready' }
  /** The callback form called `callback`: the result to deliver if the deadline comes first. */
  | { type: 'provisional'; id: number; result: ExecutionResult }
  /** The final result, posted once nothing of the execution runs any more: the worker is free. */
  | { type: 'result'; id: number; result: ExecutionResult }
  | { type: 'oauth'; id: number; callId: number; handle: string }
  | { type: 'run-state'; id: number; callId: number; requestJson: string }
  /** The code tried to allocate beyond its memory limit outside the V8 heap (array buffers). */
  | { type: 'memory-exceeded'; id: number }
  /** The answer to a `memory-probe`: V8 heap used + array buffers (shared ones included), bytes. */
  | { type: 'memory'; probe: number; bytes: number }
  /**
   * Code cache of a runtime script this worker compiled from source, for the workers started
   * after it. It stays inside the host process: a worker could only corrupt it for workers of
   * the same process, which it shares memory with anyway.
   */
  | { type: 'code-cache'; filename: string; data: Uint8Array };

/** At most this many messages per batch, so that a burst of large results is not one huge message. */
const MAX_BATCH = 64;

/**
 * Coalesces the messages sent during one event-loop turn into {@link Batch}es. The first message
 * of a turn is written at once: alone, nothing is gained by holding it, and the other side starts
 * on it while this one finishes its turn (an execution sent at low load would otherwise wait for
 * everything else the executor's thread does in that turn). The messages that follow it in the
 * same turn are written together once the turn is over (`setImmediate`): under load many results
 * finish between two turns of the sandbox host's main thread, and each IPC message costs a write
 * and a wake-up on both sides.
 */
export class Outbox<T> {
  readonly #write: (message: T | Batch<T>) => void;
  #queue: T[] = [];
  #scheduled = false;

  constructor(write: (message: T | Batch<T>) => void) {
    this.#write = write;
  }

  send(message: T): void {
    if (this.#scheduled) {
      this.#queue.push(message);
      return;
    }
    this.#scheduled = true;
    setImmediate(() => this.flush());
    this.#write(message);
  }

  /** Writes what is queued now. */
  flush(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    for (let start = 0; start < queue.length; start += MAX_BATCH) {
      const messages = queue.slice(start, start + MAX_BATCH);
      this.#write(messages.length === 1 ? (messages[0] as T) : { type: 'batch', messages });
    }
  }
}

/**
 * Pending requests keyed by id, each rejected with a {@link SerializedError} when the other
 * side goes away.
 */
export class PendingRequests<T> {
  readonly #pending = new Map<number, { resolve: (value: T) => void; reject: (error: SerializedError) => void }>();
  #nextId = 1;

  /** Registers a request; returns its id and the promise of its answer. */
  open(): { id: number; promise: Promise<T> } {
    const id = this.#nextId++;
    const promise = new Promise<T>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    return { id, promise };
  }

  resolve(id: number, value: T): boolean {
    const entry = this.#pending.get(id);
    if (!entry) return false;
    this.#pending.delete(id);
    entry.resolve(value);
    return true;
  }

  reject(id: number, error: SerializedError): boolean {
    const entry = this.#pending.get(id);
    if (!entry) return false;
    this.#pending.delete(id);
    entry.reject(error);
    return true;
  }

  rejectAll(error: SerializedError): void {
    const entries = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of entries) entry.reject(error);
  }

  get size(): number {
    return this.#pending.size;
  }
}

export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && typeof (value as SerializedError).code === 'string' && typeof (value as SerializedError).message === 'string';
}
