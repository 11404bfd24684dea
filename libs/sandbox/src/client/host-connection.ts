/**
 * The client's end of one sandbox host process: starts it, speaks `protocol.ts` over Node IPC,
 * and rejects every pending request when the process goes away.
 *
 * How the process is started, and why:
 * - `env: {}` — nothing of the executor's environment (credentials, URLs) is visible there.
 * - `--permission` with no `--allow-fs-read`: the process cannot open a single file. Its code
 *   comes on stdin (`node -`), its workers' code in the first IPC message.
 * - no `--allow-child-process`, `--allow-addons`, `--allow-wasi`: none of those either.
 * - `--allow-worker`: the pool needs worker threads (they inherit the same restrictions).
 * - `--experimental-vm-modules`: lets the worker answer a stray `import()` with an error of the
 *   context's own realm instead of Node's (see the worker).
 * - `--initial-old-space-size=<gcHeadroomMb>` (64 by default; a V8 flag, so for every worker's
 *   heap): each execution leaves a dead context of ~150 KB in the old generation, and V8 would
 *   start a full mark-compact every ~20 MB of them (its limit grows from the small live heap).
 *   Starting at 64 MB makes those collections ~4× rarer; on this 2-core machine that cut the GC
 *   threads' CPU per trivial execution from ~0.19 to ~0.13 ms (`npm run bench:sandbox`), for
 *   ~45 MB more resident memory per busy worker. A worker's heap limit (the execution's memory
 *   limit) is unchanged; only garbage waits longer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@codestep/core';
import { Outbox, PendingRequests, type ClientToHost, type HostSettings, type HostStats, type HostToClient, type SerializedError, type WorkerExecution } from '../protocol.ts';
import type { ExecutionResult } from '../sandbox.types.ts';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 3_000;

/** The host's command line (after the Node binary); see the header for each flag. */
export function hostArgs(gcHeadroomMb: number): string[] {
  return [
    '--permission',
    '--allow-worker',
    '--experimental-vm-modules',
    ...(gcHeadroomMb > 0 ? [`--initial-old-space-size=${Math.floor(gcHeadroomMb)}`] : []),
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
    '--input-type=commonjs',
    '-',
  ];
}

export interface HostConnectionOptions {
  hostSource: string;
  /** V8's initial old space of the host process, MB; 0 = V8's default. */
  gcHeadroomMb: number;
  settings: HostSettings;
  logger: Logger;
  /** OAuth requests from running executions. */
  onOAuth: (id: number, callId: number, handle: string) => void;
  /** Run-state operations (JsWorkflows' `api.runStore`, `api.dedupe`) from running executions. */
  onRunState: (id: number, callId: number, requestJson: string) => void;
  /** A library's source the host asks for (see `RuntimeSources.libraries`); null when unknown. */
  librarySource: (name: string) => string | null;
  /** The process is gone (after pending requests were rejected). */
  onExit: (description: string) => void;
}

export class HostConnection {
  readonly #child: ChildProcess;
  readonly #options: HostConnectionOptions;
  readonly #executions = new PendingRequests<ExecutionResult>();
  readonly #stats = new PendingRequests<HostStats>();
  /** Executions, OAuth answers, stats requests and shutdown; `init` is written at once. */
  readonly #outbox = new Outbox<ClientToHost>((message) => {
    if (!this.#exited && this.#child.connected) this.#child.send(message);
  });
  #exited = false;
  #stopping = false;

  private constructor(child: ChildProcess, options: HostConnectionOptions) {
    this.#child = child;
    this.#options = options;
  }

  /** Starts a host process and waits until its pool is initialised. */
  static start(options: HostConnectionOptions): Promise<HostConnection> {
    const child = spawn(process.execPath, hostArgs(options.gcHeadroomMb), {
      env: {},
      stdio: ['pipe', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const connection = new HostConnection(child, options);
    return connection.#init();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return !this.#exited && !this.#stopping;
  }

  #init(): Promise<HostConnection> {
    const child = this.#child;
    const { logger } = this.#options;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) logger.warn({ pid: child.pid }, `sandbox host: ${line.slice(0, 2000)}`);
    });
    return new Promise<HostConnection>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the sandbox host did not start within ${START_TIMEOUT_MS} ms`));
        child.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const description = signal ? `signal ${signal}` : `exit code ${code}`;
        reject(new Error(`the sandbox host exited during start (${description})`));
        this.#onExit(description);
      });
      const receive = (message: HostToClient): void => {
        if (message.type === 'batch') {
          for (const inner of message.messages) receive(inner);
          return;
        }
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(this);
          return;
        }
        this.#onMessage(message);
      };
      child.on('message', receive);
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(this.#options.hostSource);
      if (!this.#exited && child.connected) child.send({ type: 'init', settings: this.#options.settings } satisfies ClientToHost);
    });
  }

  #send(message: ClientToHost): boolean {
    if (this.#exited || !this.#child.connected) return false;
    this.#outbox.send(message);
    return true;
  }

  #onMessage(message: Exclude<HostToClient, { type: 'batch' }>): void {
    switch (message.type) {
      case 'result':
        this.#executions.resolve(message.id, message.result);
        return;
      case 'error':
        this.#executions.reject(message.id, message.error);
        return;
      case 'oauth':
        this.#options.onOAuth(message.id, message.callId, message.handle);
        return;
      case 'run-state':
        this.#options.onRunState(message.id, message.callId, message.requestJson);
        return;
      case 'stats':
        this.#stats.resolve(message.id, message.stats);
        return;
      case 'diagnostic':
        this.#options.logger[message.level]({ pid: this.#child.pid, ...message.fields }, `sandbox host: ${message.message}`);
        return;
      case 'source-request': {
        let source: string | null = null;
        try {
          source = this.#options.librarySource(String(message.name));
        } catch (error) {
          this.#options.logger.error({ library: message.name, err: error instanceof Error ? error.message : String(error) }, 'a sandbox library could not be read');
        }
        this.#send({ type: 'source', name: message.name, source });
        return;
      }
      case 'ready':
        return;
    }
  }

  #onExit(description: string): void {
    if (this.#exited) return;
    this.#exited = true;
    const error: SerializedError = {
      name: 'CodestepError',
      code: 'SANDBOX_HOST_EXITED',
      message: `the sandbox host process ended (${description})`,
    };
    this.#executions.rejectAll(error);
    this.#stats.rejectAll(error);
    if (!this.#stopping) this.#options.onExit(description);
  }

  /** Runs one execution; rejects with a {@link SerializedError} if the host dies first. */
  execute(execution: WorkerExecution): { id: number; promise: Promise<ExecutionResult> } {
    const { id, promise } = this.#executions.open();
    if (!this.#send({ type: 'execute', id, execution })) {
      this.#executions.reject(id, { name: 'CodestepError', code: 'SANDBOX_HOST_EXITED', message: 'the sandbox host process is not running' });
    }
    return { id, promise };
  }

  oauthResult(id: number, callId: number, result: { token?: string; error?: string }): void {
    this.#send({ type: 'oauth-result', id, callId, resultJson: JSON.stringify(result) });
  }

  runStateResult(id: number, callId: number, answerJson: string): void {
    this.#send({ type: 'run-state-result', id, callId, answerJson });
  }

  stats(): Promise<HostStats> {
    const { id, promise } = this.#stats.open();
    if (!this.#send({ type: 'stats', id })) {
      this.#stats.reject(id, { name: 'CodestepError', code: 'SANDBOX_HOST_EXITED', message: 'the sandbox host process is not running' });
    }
    return promise;
  }

  /** Kills the process outright (tests of crash handling, and the stop backstop). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.#child.kill(signal);
  }

  /** Asks the host to stop, and kills it if it does not within a few seconds. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    this.#stopping = true;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#send({ type: 'shutdown' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
