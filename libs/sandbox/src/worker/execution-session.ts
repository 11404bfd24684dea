/**
 * One execution inside a worker: the host side of the bridge for one context (timers, fetch,
 * OAuth, logs), and how the context's reports become one {@link ExecutionResult}.
 *
 * The session decides *when* an execution is over:
 * - the promise returned by `main` (or `start`) resolved with a value → at once;
 * - `callback(result)` was called, or `main` returned nothing → once the execution's pending
 *   work (timers, requests in flight, OAuth calls) has drained, as HubSpot's callback runtime
 *   does; the host enforces the time limit on top;
 * - an error was thrown, rejected, or raised in a timer → at once, as a failure.
 * After that, the session ignores anything the context still does.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ErrorCode } from '@codestep/core';
import { DryRunLedger, type EgressDns, type EgressFetch, type EgressResponse, type SocketEgress } from '@codestep/egress';
import { ConsoleLineCollector } from '../console-lines.collector.ts';
import { DEFAULT_LOG_LIMITS, EGRESS_CALLS_RECORDED, MAX_RESULT_CHARS, RUNTIME_CAPS } from '../limits.ts';
import { validateOutputs } from '../output-fields.validation.ts';
import { isSettleKind, type ContextApi, type HostBridge, type SettleKind } from '../bridge.protocol.ts';
import type { WorkerExecution } from '../protocol.ts';
import { ExecutionSockets } from './execution-sockets.ts';
import { createRedactor, redactResultData, type Redactor } from '../redaction.ts';
import { parseRetryAfter } from '../retry-after.ts';
import type { ConsoleLine, EgressCall, ExecutionError, ExecutionResult, HttpResponseValue, NextStepRequest, WaitRequest } from '../sandbox.types.ts';
import { SessionBuiltins } from './session-builtins.ts';
import { traceRequest } from './egress-trace.ts';

/** Error codes the context may raise itself and that reach the result as they are. */
/** Codes the context's own parts may throw with (user code throwing an error with one of these keeps USER_CODE_ERROR's meaning elsewhere). */
const PLATFORM_CODES: ReadonlySet<string> = new Set<ErrorCode>(['MODULE_NOT_ALLOWED', 'MEMORY_LIMIT', 'NO_ENTRY_POINT', 'TOO_MANY_TIMERS', 'MODULE_LOAD_FAILED', 'INVALID_STEP']);
/** A read `Response` as the entry part sent it; a status outside 200–599 is sent as 500 (as `new Response` refuses it). */
function httpResponseOf(value: unknown): HttpResponseValue | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as { status?: unknown; headers?: unknown; body?: unknown };
  const status = typeof r.status === 'number' && Number.isInteger(r.status) && r.status >= 200 && r.status <= 599 ? r.status : 500;
  const headers: Record<string, string> = {};
  if (typeof r.headers === 'object' && r.headers !== null) for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  return { status, headers, body: typeof r.body === 'string' ? r.body : '' };
}

/** The next steps as the entry part recorded them (anything else is dropped: the part made them). */
function nextStepsOf(value: unknown): NextStepRequest[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v: unknown) => {
    const s = v as Partial<NextStepRequest> | null;
    return s && typeof s.action === 'string' && typeof s.delayMs === 'number' && typeof s.payloadJson === 'string' ? [{ action: s.action, delayMs: s.delayMs, payloadJson: s.payloadJson }] : [];
  });
}
/** The waits as the entry part recorded them, each token replaced by its hash (what the platform keeps). */
function waitsOf(value: unknown): WaitRequest[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v: unknown) => {
    const w = v as { action?: unknown; payloadJson?: unknown; timeoutMs?: unknown; redirectUrl?: unknown; token?: unknown } | null;
    if (!w || typeof w.action !== 'string' || typeof w.payloadJson !== 'string' || typeof w.timeoutMs !== 'number' || typeof w.token !== 'string' || w.token === '') return [];
    const tokenHash = createHash('sha256').update(w.token).digest('hex');
    return [{ action: w.action, payloadJson: w.payloadJson, timeoutMs: w.timeoutMs, redirectUrl: typeof w.redirectUrl === 'string' ? w.redirectUrl : '', tokenHash }];
  });
}
const isPlatformCode = (code: unknown): code is ErrorCode => typeof code === 'string' && PLATFORM_CODES.has(code);
const MAX_RANDOM_BYTES = 65_536;
const MAX_ERROR_MESSAGE_CHARS = 4096;

/** Stack frames of the platform (the bootstrap, Node internals) say nothing to the action's author. */
function userStack(stack: string): string {
  return (
    stack
      .split('\n')
      // The worker's own frames ([worker eval]) and Node's say nothing about the user's code.
      .filter((line) => !line.includes('codestep:bootstrap') && !line.includes('[worker eval]') && !line.includes('(node:internal/') && !line.includes(' node:internal/'))
      .join('\n')
      .slice(0, MAX_ERROR_MESSAGE_CHARS)
  );
}

export interface SessionHooks {
  /** A result to deliver if the deadline comes before the pending work drains. */
  provisional(result: ExecutionResult): void;
  /** The final result; called once. */
  final(result: ExecutionResult): void;
  oauth(callId: number, handle: string): void;
  /** A run-state operation (JsWorkflows' `api.runStore`, `api.dedupe`), JSON. */
  runState(callId: number, requestJson: string): void;
  memoryExceeded(): void;
  /**
   * Each line as it is kept (redacted and cut), and the count of lines dropped by the caps, for
   * a result the host decides itself (time or memory limit). Called synchronously as the code
   * logs: code that never yields again after logging must not take its lines with it.
   */
  line(line: ConsoleLine): void;
  dropped(count: number): void;
  /**
   * A fetch for this execution (aborted by `signal` when the session ends); with `dryRun`, the
   * writes are held back and recorded there.
   */
  createFetch(signal: AbortSignal, dryRun: DryRunLedger | undefined): EgressFetch;
  /** The execution's sockets (made on its first `net`/`tls` connection). */
  createSockets(dryRun: boolean): SocketEgress;
  /** DNS for this execution, under the same policy as its requests. */
  createDns(): EgressDns;
  /** Host diagnostics (never user data). */
  diagnostic(level: 'warn' | 'error', message: string): void;
}

interface Described {
  name?: string;
  message?: string;
  stack?: string;
  code?: string;
  where?: string;
}

/** A context prepared ahead of time; its bridge functions find their session through `slot`. */
export interface PreparedContext {
  api: ContextApi;
  context: object;
  slot: { session: ExecutionSession | null };
}

export class ExecutionSession {
  readonly execution: WorkerExecution;
  readonly #hooks: SessionHooks;
  readonly #redact: Redactor;
  readonly #logs: ConsoleLineCollector;
  readonly #timers = new Map<number, { handle: NodeJS.Timeout | NodeJS.Immediate; immediate: boolean }>();
  /** Aborts the execution's requests when it ends; made with its fetch (most executions make no request). */
  #abort: AbortController | undefined;
  readonly #oauthPending = new Set<number>();
  #oauthCalls = 0;
  readonly #runStatePending = new Set<number>();
  #runStateCalls = 0;
  /** Created on the first request: most executions make none. */
  #fetch: EgressFetch | undefined;
  #fetchesInFlight = 0;
  /** Requests the egress policy refused (reported with the result, counted by the executor). */
  #egressBlocked = 0;
  /** Outbound requests of a sampled trace, for the executor's client spans. */
  readonly #egressCalls: EgressCall[] = [];
  /** Made on the first socket call: most executions open none. */
  #sockets: ExecutionSockets | undefined;
  #api: ContextApi | null = null;
  /** Crypto/zlib host calls and DNS, made on first use. */
  #builtins: SessionBuiltins | undefined;
  #lastHttp: { status: number; retryAfterMs: number | undefined } | undefined;
  /** A dry run's writes held back by egress (credentials and secret values redacted). */
  readonly #dryRun: DryRunLedger | undefined;
  /** `callback` was called (result waits for drain) or main returned nothing. */
  #waiting: { kind: 'callback'; result: ExecutionResult } | { kind: 'nothing' } | undefined;
  #done = false;
  #drainScheduled = false;

  constructor(execution: WorkerExecution, hooks: SessionHooks) {
    this.execution = execution;
    this.#hooks = hooks;
    this.#redact = createRedactor(Object.values(execution.secrets));
    this.#logs = new ConsoleLineCollector(this.#redact, DEFAULT_LOG_LIMITS, Date.now, { line: (line) => hooks.line(line), dropped: (count) => hooks.dropped(count) });
    this.#dryRun = execution.dryRun ? new DryRunLedger(this.#redact) : undefined;
  }

  get done(): boolean {
    return this.#done;
  }

  attach(api: ContextApi): void {
    this.#api = api;
  }

  /** The host functions for one context; `slot` tells them which session (if any) is live. */
  static bridgeFor(slot: PreparedContext['slot'], options: { loadModule: (name: string) => boolean; modulesJson: string; externalLimitBytes: number }): HostBridge {
    const live = (): ExecutionSession | null => {
      const session = slot.session;
      return session && !session.#done ? session : null;
    };
    return {
      log: (level, message) => {
        const session = live();
        if (session) session.#log(String(level), typeof message === 'string' ? message : String(message));
      },
      timerSet: (id, delayMs, repeat) => {
        const session = live();
        return session ? session.#timerSet(Number(id), Number(delayMs), repeat === true) : false;
      },
      timerClear: (id) => {
        const session = live();
        if (session) session.#timerClear(Number(id));
      },
      fetch: (id, requestJson) => {
        const session = live();
        if (session) session.#startFetch(Number(id), String(requestJson));
      },
      oauth: (id, handle) => {
        const session = live();
        return session ? session.#oauthStart(Number(id), String(handle)) : false;
      },
      runState: (id, requestJson) => {
        const session = live();
        return session ? session.#runStateStart(Number(id), String(requestJson)) : false;
      },
      builtin: (op, payloadJson) => {
        const session = live();
        return session ? session.#builtinsFor(options.externalLimitBytes).call(String(op), String(payloadJson)) : '';
      },
      dns: (id, requestJson) => {
        const session = live();
        if (!session) return;
        session.#builtinsFor(options.externalLimitBytes).dns(String(requestJson), (answer) => {
          session.#api?.dispatch('dns', Number(id), answer);
          session.#scheduleDrainCheck();
        });
      },
      randomBytes: (size) => randomBytes(Math.max(0, Math.min(MAX_RANDOM_BYTES, Math.floor(Number(size)) || 0))).toString('base64'),
      now: () => performance.timeOrigin + performance.now(),
      loadModule: (name) => options.loadModule(String(name)),
      settle: (kind, payload) => {
        const session = live();
        if (!session) return;
        const name = String(kind);
        if (isSettleKind(name)) session.#settle(name, String(payload));
        else session.#hooks.diagnostic('warn', `unknown settle kind ${name.slice(0, 40)}`);
      },
      memoryExceeded: () => {
        const session = live();
        if (session) session.#hooks.memoryExceeded();
      },
      socket: (id, op, arg) => {
        const session = live();
        return session ? session.#socketsOf().call(Number(id), String(op), String(arg)) : false;
      },
      externalLimitBytes: options.externalLimitBytes,
      maxResultChars: MAX_RESULT_CHARS,
      modulesJson: options.modulesJson,
      nodeVersion: process.versions.node,
    };
  }

  /** Starts the action in its context. `factory` is the compiled wrapper (a context value, passed through untouched). */
  start(factory: unknown): void {
    const api = this.#api;
    if (!api) throw new Error('session has no context');
    const config = JSON.stringify({ runtime: this.execution.runtime, runtimeVersion: this.execution.runtimeVersion, env: this.execution.secrets, step: this.execution.step });
    // Whatever the start leads to schedules its own drain check (callback, nothing, timers, requests).
    api.start(config, this.execution.inputJson, this.execution.headersJson, factory);
  }

  /** A throw out of the user's top-level code, as described by the context. */
  failWithDescription(description: unknown, fallbackCode: ErrorCode = 'USER_CODE_ERROR'): void {
    let described: Described = {};
    try {
      described = typeof description === 'string' ? (JSON.parse(description) as Described) : { message: 'the action failed' };
    } catch {
      described = { message: 'the action failed' };
    }
    this.#fail(described, fallbackCode);
  }

  /** A failure decided by the host (compile error, unhandled rejection). */
  failWith(error: ExecutionError, stack?: string): void {
    if (this.#done) return;
    if (stack) this.#logs.addSystem('error', userStack(stack));
    this.#finish(this.#failed(error));
  }

  unhandledRejection(description: unknown): void {
    let described: Described = {};
    try {
      described = typeof description === 'string' ? (JSON.parse(description) as Described) : {};
    } catch {
      described = {};
    }
    this.#fail({ ...described, where: 'promise (unhandled rejection)' }, 'USER_CODE_ERROR');
  }

  oauthAnswer(callId: number, resultJson: string): void {
    if (this.#done || !this.#oauthPending.delete(callId)) return;
    try {
      const answer = JSON.parse(resultJson) as { token?: unknown };
      if (typeof answer.token === 'string') this.#redact.add(answer.token);
    } catch {
      // the context reports an unreadable answer itself
    }
    this.#api?.dispatch('oauth', callId, resultJson);
    this.#scheduleDrainCheck();
  }

  runStateAnswer(callId: number, answerJson: string): void {
    if (this.#done || !this.#runStatePending.delete(callId)) return;
    this.#api?.dispatch('runState', callId, answerJson);
    this.#scheduleDrainCheck();
  }

  /** Stops everything the execution left behind. Idempotent. */
  end(): void {
    this.#done = true;
    this.#api?.end();
    for (const { handle, immediate } of this.#timers.values()) {
      if (immediate) clearImmediate(handle as NodeJS.Immediate);
      else clearTimeout(handle as NodeJS.Timeout);
    }
    this.#timers.clear();
    this.#oauthPending.clear();
    this.#runStatePending.clear();
    this.#abort?.abort();
    this.#sockets?.end();
    this.#builtins?.end();
  }

  #socketsOf(): ExecutionSockets {
    this.#sockets ??= new ExecutionSockets(
      () => this.#hooks.createSockets(this.#dryRun !== undefined),
      (id, payload) => {
        this.#api?.dispatch('socket', id, payload);
        this.#scheduleDrainCheck();
      },
      () => this.#scheduleDrainCheck(),
    );
    return this.#sockets;
  }

  #builtinsFor(maxOutputBytes: number): SessionBuiltins {
    this.#builtins ??= new SessionBuiltins(maxOutputBytes, () => this.#hooks.createDns());
    return this.#builtins;
  }

  #log(level: string, message: string): void {
    this.#logs.add(level, message);
  }

  #timerSet(id: number, delayMs: number, repeat: boolean): boolean {
    if (this.#timers.size >= RUNTIME_CAPS.maxActiveTimers || this.#timers.has(id)) return false;
    const fire = () => {
      if (this.#done) return;
      if (!repeat) this.#timers.delete(id);
      this.#api?.dispatch('timer', id, '');
      this.#scheduleDrainCheck();
    };
    if (delayMs < 0) this.#timers.set(id, { handle: setImmediate(fire), immediate: true });
    else this.#timers.set(id, { handle: repeat ? setInterval(fire, delayMs) : setTimeout(fire, delayMs), immediate: false });
    return true;
  }

  #timerClear(id: number): void {
    const timer = this.#timers.get(id);
    if (!timer) return;
    this.#timers.delete(id);
    if (timer.immediate) clearImmediate(timer.handle as NodeJS.Immediate);
    else clearTimeout(timer.handle as NodeJS.Timeout);
    this.#scheduleDrainCheck();
  }

  #startFetch(id: number, requestJson: string): void {
    this.#fetchesInFlight++;
    if (!this.#fetch) {
      this.#abort = new AbortController();
      this.#fetch = this.#hooks.createFetch(this.#abort.signal, this.#dryRun);
    }
    const traced = traceRequest(requestJson, this.execution.traceparent, this.#egressCalls.length + this.#fetchesInFlight <= EGRESS_CALLS_RECORDED, this.#redact);
    this.#fetch(traced.requestJson)
      .catch((error: unknown): EgressResponse => ({
        ok: false,
        error: { code: 'EGRESS_NETWORK', message: error instanceof Error ? error.message : 'request failed' },
      }))
      .then((response) => {
        this.#fetchesInFlight--;
        if (!response.ok && response.error.code === 'EGRESS_BLOCKED') this.#egressBlocked++;
        if (traced.call) {
          traced.call.durationMs = Date.now() - traced.call.startedAt;
          if (response.ok) traced.call.status = response.status;
          else traced.call.errorCode = response.error.code;
          this.#egressCalls.push(traced.call);
        }
        if (this.#done) return;
        if (response.ok) {
          const retryAfter = response.headers.find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
          this.#lastHttp = { status: response.status, retryAfterMs: parseRetryAfter(retryAfter, Date.now()) };
        }
        this.#api?.dispatch('fetch', id, JSON.stringify(response));
        this.#scheduleDrainCheck();
      })
      .catch((error: unknown) => this.#hooks.diagnostic('error', `fetch completion failed: ${String(error)}`));
  }

  #oauthStart(callId: number, handle: string): boolean {
    if (this.#oauthPending.size >= RUNTIME_CAPS.maxPendingOAuth || this.#oauthPending.has(callId)) return false;
    if (++this.#oauthCalls > RUNTIME_CAPS.maxOAuthCalls) return false;
    this.#oauthPending.add(callId);
    this.#hooks.oauth(callId, handle.slice(0, 200));
    return true;
  }

  #runStateStart(callId: number, requestJson: string): boolean {
    if (this.execution.runtime !== 'jsworkflows') return false;
    if (this.#runStatePending.size >= RUNTIME_CAPS.maxPendingRunState || this.#runStatePending.has(callId)) return false;
    if (++this.#runStateCalls > RUNTIME_CAPS.maxRunStateCalls || requestJson.length > MAX_RESULT_CHARS) return false;
    this.#runStatePending.add(callId);
    this.#hooks.runState(callId, requestJson);
    return true;
  }

  #settle(kind: SettleKind, payload: string): void {
    if (this.#done) return;
    switch (kind) {
      case 'complete': {
        this.#finish(this.#resultFrom(payload));
        return;
      }
      case 'callback': {
        if (this.#waiting?.kind === 'callback') return;
        const result = this.#resultFrom(payload);
        if (result.status === 'failed' && result.error?.code !== 'FAIL_CONTINUE') {
          this.#finish(result);
          return;
        }
        this.#waiting = { kind: 'callback', result };
        this.#hooks.provisional(this.withLogs(result));
        this.#scheduleDrainCheck();
        return;
      }
      case 'nothing': {
        if (!this.#waiting) this.#waiting = { kind: 'nothing' };
        this.#scheduleDrainCheck();
        return;
      }
      case 'fail':
      case 'uncaught': {
        let described: Described = {};
        try {
          described = JSON.parse(payload) as Described;
        } catch {
          described = { message: 'the action failed' };
        }
        this.#fail(described, 'USER_CODE_ERROR');
        return;
      }
      case 'unserialisable': {
        let message = 'the result could not be serialised';
        let tooLarge = false;
        try {
          const parsed = JSON.parse(payload) as { message?: unknown; tooLarge?: unknown };
          message = String(parsed.message ?? message);
          tooLarge = parsed.tooLarge === true;
        } catch {
          // keep the generic message
        }
        if (tooLarge) {
          this.#finish(this.#failed({ code: 'OUTPUT_VALUES_TOO_LARGE', message: `The action's result is more than ${MAX_RESULT_CHARS} characters of JSON; the limit is ${MAX_RESULT_CHARS}` }));
          return;
        }
        this.#finish(this.#failed({ code: 'INVALID_OUTPUT', message: `The action's result could not be converted to JSON: ${message}` }));
        return;
      }
      default: {
        const unhandled: never = kind;
        this.#hooks.diagnostic('warn', `unhandled settle kind ${String(unhandled)}`);
      }
    }
  }

  #fail(described: Described, fallbackCode: ErrorCode): void {
    if (this.#done) return;
    const name = typeof described.name === 'string' && described.name ? described.name : 'Error';
    const message = typeof described.message === 'string' ? described.message : 'the action failed';
    const code = isPlatformCode(described.code) ? described.code : fallbackCode;
    const prefix = described.where ? `Uncaught exception in ${described.where}: ` : '';
    if (typeof described.stack === 'string' && described.stack) this.#logs.addSystem('error', userStack(described.stack));
    const error: ExecutionError = { code, message: `${prefix}${name}: ${message}`.slice(0, MAX_ERROR_MESSAGE_CHARS) };
    const http = this.#lastHttp;
    if (code === 'USER_CODE_ERROR' && http && (http.status === 429 || http.status >= 500)) {
      error.retryable = true;
      if (http.retryAfterMs !== undefined) error.retryAfterMs = http.retryAfterMs;
    }
    this.#finish(this.#failed(error));
  }

  #failed(error: ExecutionError): ExecutionResult {
    return {
      status: 'failed',
      outputFields: {},
      logs: [],
      logsTruncated: false,
      error: { ...error, message: this.#redact(error.message) },
      durationMs: 0,
    };
  }

  #resultFrom(payload: string): ExecutionResult {
    if (payload.length > MAX_RESULT_CHARS) {
      return this.#failed({
        code: 'OUTPUT_VALUES_TOO_LARGE',
        message: `The action's result is ${payload.length} characters of JSON; the limit is ${MAX_RESULT_CHARS}`,
      });
    }
    let parsed: { outputFields?: unknown; returnValue?: unknown; notAnObject?: string; nextSteps?: unknown; waits?: unknown; httpResponse?: unknown };
    try {
      parsed = JSON.parse(payload) as typeof parsed;
    } catch {
      return this.#failed({ code: 'INVALID_OUTPUT', message: 'The action returned a result that is not JSON' });
    }
    redactResultData(parsed, createRedactor(Object.values(this.execution.secrets)));
    if (this.execution.runtime === 'jsworkflows') {
      const result: ExecutionResult = { status: 'succeeded', outputFields: {}, logs: [], logsTruncated: false, error: null, durationMs: 0 };
      if ('returnValue' in parsed) result.returnValue = parsed.returnValue;
      const response = httpResponseOf(parsed.httpResponse);
      if (response) result.httpResponse = response;
      const nextSteps = nextStepsOf(parsed.nextSteps);
      if (nextSteps.length) result.nextSteps = nextSteps;
      const waits = waitsOf(parsed.waits);
      if (waits.length) result.waits = waits;
      return result;
    }
    if (parsed.notAnObject !== undefined) {
      if (parsed.notAnObject === 'undefined' || parsed.notAnObject === 'null') {
        return { status: 'succeeded', outputFields: {}, logs: [], logsTruncated: false, error: null, durationMs: 0 };
      }
      return this.#failed({
        code: 'INVALID_OUTPUT',
        message: `main must return (or pass to callback) an object like { outputFields: { ... } }, got a ${parsed.notAnObject}`,
      });
    }
    const validation = validateOutputs(parsed.outputFields, this.execution.outputFields);
    for (const warning of validation.warnings) this.#logs.addSystem('warn', warning);
    if (!validation.ok) return this.#failed(validation.error);
    if (validation.executionState === 'FAIL_CONTINUE') {
      return {
        status: 'failed',
        outputFields: validation.outputFields,
        executionState: 'FAIL_CONTINUE',
        logs: [],
        logsTruncated: false,
        error: { code: 'FAIL_CONTINUE', message: 'The action set hs_execution_state to FAIL_CONTINUE' },
        durationMs: 0,
      };
    }
    const result: ExecutionResult = { status: 'succeeded', outputFields: validation.outputFields, logs: [], logsTruncated: false, error: null, durationMs: 0 };
    if (validation.executionState) result.executionState = validation.executionState;
    return result;
  }

  #pendingWork(): number {
    return this.#timers.size + this.#fetchesInFlight + this.#oauthPending.size + this.#runStatePending.size + (this.#sockets?.pending ?? 0) + (this.#builtins?.dnsInFlight ?? 0);
  }

  #scheduleDrainCheck(): void {
    if (this.#drainScheduled || this.#done) return;
    this.#drainScheduled = true;
    // After the microtasks of this turn: a promise chain may still start new work.
    setImmediate(() => {
      this.#drainScheduled = false;
      if (this.#done || !this.#waiting || this.#pendingWork() > 0) return;
      if (this.#waiting.kind === 'callback') this.#finish(this.#waiting.result);
      else {
        this.#logs.addSystem('warn', 'main finished without returning a result or calling callback; no outputs were set');
        this.#finish({ status: 'succeeded', outputFields: {}, logs: [], logsTruncated: false, error: null, durationMs: 0 });
      }
    });
  }

  /** Logs collected so far, for a result decided elsewhere (the provisional one at the deadline). */
  withLogs(result: ExecutionResult): ExecutionResult {
    const out: ExecutionResult = {
      ...result,
      logs: this.#logs.snapshot(),
      logsTruncated: this.#logs.truncated,
      ...(this.#egressBlocked ? { egressBlocked: this.#egressBlocked } : {}),
      ...(this.#egressCalls.length ? { egressCalls: [...this.#egressCalls] } : {}),
    };
    if (this.#dryRun) out.dryRun = { writes: [...this.#dryRun.entries], dropped: this.#dryRun.dropped };
    return out;
  }

  #finish(result: ExecutionResult): void {
    if (this.#done) return;
    const final = this.withLogs(result);
    this.end();
    this.#hooks.final(final);
  }
}
