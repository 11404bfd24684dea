/**
 * The sandbox host's pool of worker threads, keyed by memory class (a worker's heap limit is
 * fixed when it starts). One execution per worker at a time; the deadline is enforced here,
 * from outside the worker, by terminating it. A worker that timed out, ran out of memory,
 * crashed, or stayed busy after its result is terminated and replaced, never reused. The
 * memory backstop (`memory-backstop.ts`) ends the worker holding the most when the host's
 * memory passes its ceiling.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { truncationMarker } from '../console-lines.collector.ts';
import { clearConsoleLineRing, CONSOLE_RING_BYTES, readConsoleLineRing } from '../console-lines.ring.ts';
import type { HostStats, HostToWorker, RuntimeSources, SourceAnswer, WorkerExecution, WorkerInit, WorkerToHost } from '../protocol.ts';
import { defaultHostMemoryCeilingMb, MEMORY_BACKSTOP, RUNTIME_CAPS } from '../limits.ts';
import { MemoryBackstop, type Holding } from './memory-backstop.ts';
import type { ConsoleLine, EgressPolicy, ExecutionError, ExecutionResult } from '../sandbox.types.ts';

export interface WorkerPoolOptions {
  poolSize: number;
  defaultMemoryMb: number;
  /** See `HostSettings.memoryCeilingMb`: 0 turns the backstop off; absent, it follows the live workers. */
  memoryCeilingMb?: number;
  egress: EgressPolicy;
  runtime: RuntimeSources;
  workerSource: string;
  /** OAuth requests of running executions, answered with {@link WorkerPool.oauthAnswer}. */
  onOAuth: (jobId: number, callId: number, handle: string) => void;
  /** Run-state operations of running executions, answered with {@link WorkerPool.runStateAnswer}. */
  onRunState: (jobId: number, callId: number, requestJson: string) => void;
  /** Asks the client for a library's source (answered with {@link WorkerPool.sourceArrived}). */
  requestSource: (name: string) => void;
  diagnostic: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, string | number | boolean>) => void;
}

interface Job {
  id: number;
  execution: WorkerExecution;
  resolve: (result: ExecutionResult) => void;
  startedAt: number;
  deadline: NodeJS.Timeout | undefined;
  provisional: ExecutionResult | undefined;
}

/** What an execution logged until the host ended it. */
interface LoggedSoFar {
  lines: ConsoleLine[];
  truncated: boolean;
}

type WorkerState = 'starting' | 'idle' | 'busy' | 'dead';

interface PoolWorker {
  worker: Worker;
  /** Settles when the worker is ready or gone. */
  started: Promise<void>;
  markStarted: () => void;
  memoryMb: number;
  state: WorkerState;
  job: Job | undefined;
  createdAt: number;
  /** When the worker last became idle (performance.now()). */
  idleSince: number;
  /** Answers to the backstop's `memory-probe`s, by probe. */
  probes: Map<number, (bytes: number) => void>;
  /** The lines of its running execution, for a result the host decides itself (see {@link WorkerInit.logRing}). */
  logRing: SharedArrayBuffer;
}

const MB = 1024 * 1024;

function failure(error: ExecutionError, durationMs: number, logs: LoggedSoFar = { lines: [], truncated: false }): ExecutionResult {
  return { status: 'failed', outputFields: {}, logs: logs.lines, logsTruncated: logs.truncated, error, durationMs };
}

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #workers = new Set<PoolWorker>();
  readonly #queue: Job[] = [];
  readonly #coldStartsMs: number[] = [];
  /** Libraries' sources the client has sent, by key. */
  readonly #sources = new Map<string, string | null>();
  /** Workers waiting for a library's source from the client, by key. */
  readonly #sourceWaiters = new Map<string, Array<(source: string | null) => void>>();
  readonly #codeCache: Record<string, Uint8Array> = {};
  #replaced = 0;
  #closed = false;
  #probes = 0;
  readonly #backstop: MemoryBackstop<PoolWorker>;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#backstop = new MemoryBackstop<PoolWorker>({
      ceilingBytes: () => this.#ceilingMb() * MB,
      sampleMs: MEMORY_BACKSTOP.sampleMs,
      minVictimBytes: MEMORY_BACKSTOP.minVictimMb * MB,
      rss: () => process.memoryUsage.rss(),
      active: () => [...this.#workers].some((entry) => entry.state === 'busy'),
      workers: () => [...this.#workers].filter((entry) => entry.state !== 'dead'),
      measure: (entry) => this.#measure(entry),
      end: (entry, bytes, rss) => this.#endForMemory(entry, bytes, rss),
      warn: (message) => options.diagnostic('warn', message),
    });
  }

  /** Starts `poolSize` workers of the default memory class; resolves once each is ready or gone. */
  prewarm(): Promise<void> {
    const started: PoolWorker[] = [];
    while (this.#workers.size < this.#options.poolSize) started.push(this.#spawn(this.#options.defaultMemoryMb));
    return Promise.all(started.map((entry) => entry.started)).then(() => this.#backstop.setBaseline(process.memoryUsage.rss()));
  }

  run(id: number, execution: WorkerExecution): Promise<ExecutionResult> {
    if (this.#closed) {
      return Promise.resolve(failure({ code: 'SANDBOX_CLOSED', message: 'The sandbox is shutting down' }, 0));
    }
    if (this.#queue.length >= RUNTIME_CAPS.maxQueued) {
      return Promise.resolve(failure({ code: 'SANDBOX_OVERLOADED', message: `The sandbox already has ${this.#queue.length} executions waiting; try again later`, retryable: true }, 0));
    }
    return new Promise((resolve) => {
      this.#queue.push({ id, execution, resolve, startedAt: 0, deadline: undefined, provisional: undefined });
      this.#pump();
    });
  }

  oauthAnswer(jobId: number, callId: number, resultJson: string): void {
    for (const entry of this.#workers) {
      if (entry.job?.id === jobId && entry.state === 'busy') {
        const message: HostToWorker = { type: 'oauth-result', id: jobId, callId, resultJson };
        entry.worker.postMessage(message);
        return;
      }
    }
  }

  runStateAnswer(jobId: number, callId: number, answerJson: string): void {
    for (const entry of this.#workers) {
      if (entry.job?.id === jobId && entry.state === 'busy') {
        const message: HostToWorker = { type: 'run-state-result', id: jobId, callId, answerJson };
        entry.worker.postMessage(message);
        return;
      }
    }
  }

  stats(): Omit<HostStats, 'rssBytes'> {
    let busy = 0;
    for (const entry of this.#workers) if (entry.state === 'busy') busy++;
    return { workers: this.#workers.size, busy, queued: this.#queue.length, replaced: this.#replaced, coldStartsMs: [...this.#coldStartsMs] };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#backstop.stop();
    for (const job of this.#queue.splice(0)) job.resolve(failure({ code: 'SANDBOX_CLOSED', message: 'The sandbox is shutting down' }, 0));
    const terminations: Array<Promise<number>> = [];
    for (const entry of this.#workers) {
      if (entry.job) this.#settle(entry, failure({ code: 'SANDBOX_CLOSED', message: 'The sandbox shut down while the action ran' }, Date.now() - entry.job.startedAt));
      entry.state = 'dead';
      terminations.push(entry.worker.terminate());
    }
    this.#workers.clear();
    await Promise.allSettled(terminations);
  }

  #spawn(memoryMb: number): PoolWorker {
    const runtime = this.#options.runtime;
    const libraries: WorkerInit['runtime']['libraries'] = {};
    for (const [name, library] of Object.entries(runtime.libraries)) libraries[name] = { filename: library.filename };
    // Library sources on request (see WorkerInit.sources): each worker has its own channel and
    // signal, so nothing it writes reaches another worker. A worker compiles a library once, so
    // each source is sent to it once at most (asking again gets null, not another copy).
    const channel = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    const flag = new Int32Array(signal);
    const sent = new Set<string>();
    const answer = (name: string, source: string | null): void => {
      channel.port1.postMessage({ name, source } satisfies SourceAnswer);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    };
    channel.port1.on('message', (request: { name?: unknown }) => {
      const name = typeof request?.name === 'string' ? request.name.slice(0, 200) : '';
      const library = Object.hasOwn(runtime.libraries, name) && !sent.has(name) ? runtime.libraries[name] : undefined;
      if (library) sent.add(name);
      if (!library) answer(name, null);
      else this.#sourceOf(name, library.source, (source) => answer(name, source));
    });
    channel.port1.unref();
    const logRing = new SharedArrayBuffer(CONSOLE_RING_BYTES);
    const init: WorkerInit = {
      memoryMb,
      egress: this.#options.egress,
      runtime: { prelude: runtime.prelude, libraries, runtimeVersions: runtime.runtimeVersions, subpaths: runtime.subpaths },
      codeCache: { ...this.#codeCache },
      sources: { port: channel.port2, signal },
      logRing,
    };
    const worker = new Worker(this.#options.workerSource, {
      eval: true,
      workerData: init,
      transferList: [channel.port2],
      env: {},
      stdout: false,
      stderr: true,
      resourceLimits: {
        maxOldGenerationSizeMb: memoryMb,
        maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(memoryMb / 8))),
        stackSizeMb: 4,
      },
    });
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const entry: PoolWorker = { worker, started, markStarted, memoryMb, state: 'starting', job: undefined, createdAt: performance.now(), idleSince: 0, probes: new Map(), logRing };
    this.#workers.add(entry);
    worker.stderr?.setEncoding('utf8');
    worker.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) this.#options.diagnostic('warn', line.slice(0, 2000));
    });
    worker.on('message', (message: WorkerToHost) => this.#onMessage(entry, message));
    worker.on('error', (error: Error & { code?: string }) => {
      const outOfMemory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#lose(
        entry,
        outOfMemory
          ? { code: 'MEMORY_LIMIT', message: `The action exceeded its memory limit of ${memoryMb} MB` }
          : { code: 'SANDBOX_WORKER_CRASHED', message: `The sandbox worker failed: ${error.message}`, retryable: true },
      );
    });
    worker.on('exit', (code) => {
      channel.port1.close();
      this.#lose(entry, { code: 'SANDBOX_WORKER_CRASHED', message: `The sandbox worker exited (code ${code}) while the action ran`, retryable: true });
    });
    return entry;
  }

  /** A library's source: sent in `init`, already received, or asked of the client now. */
  #sourceOf(name: string, inInit: string | undefined, done: (source: string | null) => void): void {
    if (inInit !== undefined) return done(inInit);
    const known = this.#sources.get(name);
    if (known !== undefined) return done(known);
    const waiting = this.#sourceWaiters.get(name);
    if (waiting) {
      waiting.push(done);
      return;
    }
    this.#sourceWaiters.set(name, [done]);
    this.#options.requestSource(name);
  }

  /** The client's answer to a source request: kept for every later worker (a failure is not). */
  sourceArrived(name: string, source: string | null): void {
    if (source !== null) this.#sources.set(name, source);
    const waiting = this.#sourceWaiters.get(name) ?? [];
    this.#sourceWaiters.delete(name);
    for (const done of waiting) done(source);
  }

  #onMessage(entry: PoolWorker, message: WorkerToHost): void {
    if (entry.state === 'dead') return;
    switch (message.type) {
      case 'ready': {
        if (entry.state !== 'starting') return;
        const ms = performance.now() - entry.createdAt;
        this.#coldStartsMs.push(Math.round(ms * 10) / 10);
        if (this.#coldStartsMs.length > 50) this.#coldStartsMs.shift();
        entry.state = 'idle';
        entry.idleSince = performance.now();
        entry.markStarted();
        this.#pump();
        return;
      }
      case 'provisional': {
        if (entry.job?.id === message.id) entry.job.provisional = message.result;
        return;
      }
      case 'result': {
        if (entry.state !== 'busy' || entry.job?.id !== message.id) return;
        this.#settle(entry, message.result);
        entry.state = 'idle';
        entry.idleSince = performance.now();
        this.#pump();
        return;
      }
      case 'oauth': {
        if (entry.state === 'busy' && entry.job?.id === message.id) this.#options.onOAuth(message.id, message.callId, message.handle);
        return;
      }
      case 'run-state': {
        if (entry.state === 'busy' && entry.job?.id === message.id) this.#options.onRunState(message.id, message.callId, message.requestJson);
        return;
      }
      case 'code-cache': {
        const known = new Set([this.#options.runtime.prelude?.filename, ...Object.values(this.#options.runtime.libraries).map((l) => l.filename)]);
        if (known.has(message.filename) && !this.#codeCache[message.filename] && message.data instanceof Uint8Array) {
          this.#codeCache[message.filename] = message.data;
        }
        return;
      }
      case 'memory': {
        entry.probes.get(message.probe)?.(message.bytes);
        return;
      }
      case 'memory-exceeded': {
        if (entry.state !== 'busy' || entry.job?.id !== message.id) return;
        this.#settle(entry, failure({ code: 'MEMORY_LIMIT', message: `The action exceeded its memory limit of ${entry.memoryMb} MB` }, Date.now() - entry.job.startedAt, this.#loggedSoFar(entry)));
        void this.#retire(entry);
        return;
      }
    }
  }

  /**
   * Every line the worker's running execution logged until now, with the truncation marker if
   * some were dropped: read from the worker's ring, where each line is as soon as it is logged,
   * so a line logged just before a hang or a crash is kept.
   */
  #loggedSoFar(entry: PoolWorker): LoggedSoFar {
    if (!entry.job) return { lines: [], truncated: false };
    const { lines, dropped } = readConsoleLineRing(entry.logRing);
    return dropped > 0 ? { lines: [...lines, truncationMarker(dropped, Date.now())], truncated: true } : { lines, truncated: false };
  }

  /** Delivers a job's result (once) and detaches it from its worker. */
  #settle(entry: PoolWorker, result: ExecutionResult): void {
    const job = entry.job;
    if (!job) return;
    entry.job = undefined;
    clearTimeout(job.deadline);
    job.resolve({ ...result, durationMs: Date.now() - job.startedAt });
  }

  /** The worker is gone (error or exit): fail its job, forget it, refill the pool. */
  #lose(entry: PoolWorker, error: ExecutionError): void {
    if (entry.state === 'dead') return;
    const wasStarting = entry.state === 'starting';
    entry.state = 'dead';
    entry.markStarted();
    if (entry.job) this.#settle(entry, failure(error, Date.now() - entry.job.startedAt, this.#loggedSoFar(entry)));
    this.#workers.delete(entry);
    this.#replaced++;
    if (wasStarting) this.#options.diagnostic('error', `a sandbox worker failed to start: ${error.message}`);
    if (!this.#closed) {
      // A worker that cannot even start would loop: leave the slot empty until the next job asks.
      if (!wasStarting) this.#refill();
      this.#pump();
    }
  }

  /** Terminates a worker that may not be reused, and replaces it; resolves once it is gone. */
  #retire(entry: PoolWorker): Promise<void> {
    if (entry.state === 'dead') return Promise.resolve();
    entry.state = 'dead';
    this.#workers.delete(entry);
    this.#replaced++;
    const gone = entry.worker.terminate().then(
      () => undefined,
      () => undefined,
    );
    if (!this.#closed) {
      this.#refill();
      this.#pump();
    }
    return gone;
  }

  #ceilingMb(): number {
    return this.#options.memoryCeilingMb ?? defaultHostMemoryCeilingMb([...this.#workers].map((entry) => entry.memoryMb));
  }

  /**
   * What a worker holds, bytes: its own answer, or, when it is too busy to answer (running
   * synchronous code), its V8 statistics read from outside ("blind": no shared array buffers).
   */
  #measure(entry: PoolWorker): Promise<Omit<Holding<PoolWorker>, 'worker'>> {
    const probe = ++this.#probes;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        entry.probes.delete(probe);
        entry.worker.getHeapStatistics().then(
          (stats) => resolve({ bytes: stats.used_heap_size + stats.external_memory, blind: true }),
          () => resolve({ bytes: 0, blind: false }),
        );
      }, MEMORY_BACKSTOP.probeTimeoutMs);
      entry.probes.set(probe, (bytes) => {
        entry.probes.delete(probe);
        clearTimeout(timer);
        resolve({ bytes, blind: false });
      });
      const message: HostToWorker = { type: 'memory-probe', probe };
      entry.worker.postMessage(message);
    });
  }

  /** The backstop's verdict: the host is over its memory ceiling and this worker holds the most. */
  #endForMemory(entry: PoolWorker, bytes: number, rss: number): Promise<void> {
    if (entry.state === 'dead') return Promise.resolve();
    const held = `about ${Math.round(bytes / MB)} MB when the sandbox host passed its memory ceiling of ${this.#ceilingMb()} MB (${Math.round(rss / MB)} MB)`;
    this.#options.diagnostic('warn', `ending a sandbox worker that held ${held}`, { memoryMb: entry.memoryMb, busy: entry.state === 'busy' });
    if (entry.job) {
      const job = entry.job;
      this.#settle(
        entry,
        failure({ code: 'MEMORY_LIMIT', message: `The action exceeded its memory limit of ${entry.memoryMb} MB: it held ${held}` }, Date.now() - job.startedAt, this.#loggedSoFar(entry)),
      );
    }
    return this.#retire(entry);
  }

  #refill(): void {
    if (this.#workers.size < this.#options.poolSize && this.#queue.length === 0) this.#spawn(this.#options.defaultMemoryMb);
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const job = this.#queue[0] as Job;
      const memoryMb = job.execution.memoryMb;
      let chosen: PoolWorker | undefined;
      let starting = false;
      let idleOther: PoolWorker | undefined;
      for (const entry of this.#workers) {
        // The worker idle the longest: it has had the most time to prepare its next context.
        if (entry.memoryMb === memoryMb && entry.state === 'idle') {
          if (!chosen || entry.idleSince < chosen.idleSince) chosen = entry;
          continue;
        }
        if (entry.memoryMb === memoryMb && entry.state === 'starting') starting = true;
        if (entry.memoryMb !== memoryMb && entry.state === 'idle' && !idleOther) idleOther = entry;
      }
      if (!chosen) {
        if (this.#workers.size < this.#options.poolSize) {
          // Start another worker for this class only if the ones starting cannot take the
          // jobs already waiting for it (the scan stops as soon as that is known).
          let startingForClass = 0;
          for (const entry of this.#workers) if (entry.memoryMb === memoryMb && entry.state === 'starting') startingForClass++;
          let queuedForClass = 0;
          for (const waiting of this.#queue) if (waiting.execution.memoryMb === memoryMb && ++queuedForClass > startingForClass) break;
          if (startingForClass < queuedForClass) {
            this.#spawn(memoryMb);
            continue;
          }
        }
        if (!starting && idleOther) {
          // Every slot is taken by other memory classes: trade an idle one for this class.
          idleOther.state = 'dead';
          this.#workers.delete(idleOther);
          idleOther.worker.terminate().catch(() => undefined);
          this.#spawn(memoryMb);
        }
        return;
      }
      this.#queue.shift();
      this.#assign(chosen, job);
    }
  }

  #assign(entry: PoolWorker, job: Job): void {
    entry.state = 'busy';
    entry.job = job;
    job.startedAt = Date.now();
    clearConsoleLineRing(entry.logRing);
    job.deadline = setTimeout(() => this.#deadline(entry, job), job.execution.timeoutMs);
    this.#backstop.wake();
    const message: HostToWorker = { type: 'execute', id: job.id, execution: job.execution };
    entry.worker.postMessage(message);
  }

  #deadline(entry: PoolWorker, job: Job): void {
    if (entry.job !== job) return;
    const limit = job.execution.timeoutMs;
    const logged = this.#loggedSoFar(entry);
    if (job.provisional) {
      // The lines logged after callback() too, not only those the provisional result carried.
      const warning: ConsoleLine = { level: 'warn', message: `callback() was called but timers or requests were still pending at the time limit of ${limit} ms; they were stopped`, at: Date.now() };
      this.#settle(entry, { ...job.provisional, logs: [...logged.lines, warning], logsTruncated: logged.truncated });
    } else {
      this.#settle(entry, failure({ code: 'TIMEOUT', message: `The action did not finish within its time limit of ${limit} ms` }, limit, logged));
    }
    void this.#retire(entry);
  }
}
