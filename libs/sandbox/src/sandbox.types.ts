/**
 * The sandbox's public contract: what the executor and the CLI hand it, and what comes back.
 * Everything here is plain data (structured-clone safe, JSON safe): it crosses process and
 * thread boundaries and never carries a live object into or out of user code.
 */
import type { ErrorCode, Logger, StepSchedulingBounds } from '@codestep/core';
import type { DryRunWrite, SocketLimits } from '@codestep/egress';

/** HubSpot's output types. */
export type OutputType = 'number' | 'string' | 'boolean' | 'datetime' | 'enum' | 'date' | 'phone_number';

export interface OutputFieldSpec {
  name: string;
  type: OutputType;
  /** Allowed values, for `enum` only. */
  options?: string[];
}

/** The HubSpot custom code event, exactly as user code sees it. */
export interface HubSpotEvent {
  origin: { portalId: number; actionDefinitionId: number | string; actionDefinitionVersion?: number };
  object: { objectType: string; objectId: number | string };
  inputFields: Record<string, string | number | boolean | null>;
  callbackId: string;
}

export type ExecutionInput =
  | { runtime: 'hubspot'; event: HubSpotEvent }
  /**
   * JsWorkflows: `class Workflow { async start(data, headers, api) {} … }` (exported or not).
   * `step`: the method to run (@default 'start'); `scheduling`: the bounds `api.scheduleNextStep`
   * checks (@default `DEFAULT_STEP_POLICY` of `@codestep/core`).
   */
  | { runtime: 'jsworkflows'; data: unknown; headers: Record<string, string>; step?: string; scheduling?: StepSchedulingBounds };

/** A `Response` a JsWorkflows step returned: its status, headers and body (read as text). */
export interface HttpResponseValue {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A next step a JsWorkflows step asked for with `api.scheduleNextStep` (one per call). */
export interface NextStepRequest {
  action: string;
  delayMs: number;
  /** The payload (the next step's `data`), JSON text. */
  payloadJson: string;
}

/** A wait a JsWorkflows step asked for with `api.waitForEvent` (one per call). */
export interface WaitRequest {
  /** The method to run when resumed. */
  action: string;
  /** The payload, JSON text (an object): merged with what the resume URL receives. */
  payloadJson: string;
  timeoutMs: number;
  /** Where a browser is sent after resuming ('' = a confirmation page). */
  redirectUrl: string;
  /** SHA-256 (hex) of the resume token: the token itself never leaves the sandbox worker but in what the step does with it. */
  tokenHash: string;
}

export interface ExecutionLimits {
  /** Wall time, ms. @default `DEFAULT_EXECUTION_LIMITS.timeoutMs` of `@codestep/core` */
  timeoutMs: number;
  /** Heap of the worker running the execution, MB. @default `DEFAULT_EXECUTION_LIMITS.memoryMb` of `@codestep/core` */
  memoryMb: number;
}

export interface ExecutionRequest {
  executionId: string;
  tenantId: string;
  code: string;
  input: ExecutionInput;
  /** Only the secrets selected for the action: they become `process.env`. */
  secrets: Record<string, string>;
  /** Declared outputs. Undefined: accept any JSON-primitive outputs (the CLI without a spec). */
  outputFields?: OutputFieldSpec[];
  limits: ExecutionLimits;
  /**
   * The runtime version whose libraries `require` gives (`node20`, `node24`, or the alias
   * `latest`); an unknown one fails the request with INVALID_REQUEST.
   * @default DEFAULT_RUNTIME_VERSION of `@codestep/core` (`node20`, HubSpot's documented set)
   */
  runtimeVersion?: string;
  /** W3C traceparent of the caller's span, so outbound calls join the trace. */
  traceparent?: string;
  /**
   * A dry run: HTTP requests that read (GET, HEAD, OPTIONS) go out; those that write are not
   * sent, answered with the synthetic response of `@codestep/egress` (`dryRunResponse`) and
   * recorded in the result's `dryRun.writes`; sockets are refused (EGRESS_BLOCKED). @default false
   */
  dryRun?: boolean;
}

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

export interface ConsoleLine {
  level: ConsoleLevel;
  message: string;
  /** UNIX ms. */
  at: number;
}

export interface ExecutionError {
  /** A code of the error catalogue: USER_CODE_ERROR, TIMEOUT, MEMORY_LIMIT, OUTPUT_VALUES_TOO_LARGE, INVALID_OUTPUT, ... */
  code: ErrorCode;
  message: string;
  /** True when the failure followed a 429/5XX from an HTTP call: the enrollment service retries it. */
  retryable?: boolean;
  /** From a Retry-After header, ms. */
  retryAfterMs?: number;
}

export interface ExecutionResult {
  status: 'succeeded' | 'failed';
  outputFields: Record<string, string | number | boolean>;
  /** HubSpot's `hs_execution_state`, when the action set it. */
  executionState?: 'SUCCESS' | 'FAIL_CONTINUE';
  /** JsWorkflows: the JSON value `start` returned (becomes the HTTP response of a webhook trigger). */
  returnValue?: unknown;
  /** JsWorkflows: the step returned a `Response` (an HTTP trigger sends it as it is); `returnValue` is then unset. */
  httpResponse?: HttpResponseValue;
  /** JsWorkflows: the next steps the step scheduled, in call order (only on success). */
  nextSteps?: NextStepRequest[];
  /** JsWorkflows: the waits the step asked for, in call order (only on success). */
  waits?: WaitRequest[];
  logs: ConsoleLine[];
  logsTruncated: boolean;
  error: ExecutionError | null;
  durationMs: number;
  /**
   * Set on a dry run the worker finished: the writes held back, in order (at most
   * DRY_RUN_MAX_ENTRIES; `dropped` counts the others). Unset when the host ended the execution
   * itself (timeout, memory, crash): the worker's ledger went with it.
   */
  dryRun?: { writes: DryRunWrite[]; dropped: number };
  /** Outbound requests the egress policy refused during the execution (`EGRESS_BLOCKED`); absent: none. */
  egressBlocked?: number;
  /**
   * The outbound HTTP requests of an execution whose trace is sampled (its `traceparent` says so),
   * at most EGRESS_CALLS_RECORDED: the caller records each as a client span with the span id its
   * `traceparent` header carried, so the called server's spans hang under it. Absent: none.
   */
  egressCalls?: EgressCall[];
}

/** One outbound HTTP request of an execution, as its client span shows it. */
export interface EgressCall {
  /** The span id (16 hex digits) of the `traceparent` the request carried. */
  spanId: string;
  method: string;
  /** Scheme, host, port and path: never the query (secret values redacted). */
  url: string;
  /** When it started, ms since the epoch, and how long it took, ms. */
  startedAt: number;
  durationMs: number;
  /** The answer's status; absent when it failed without one (`errorCode` says why). */
  status?: number;
  errorCode?: string;
}

/** Operator-level egress policy. */
export interface EgressPolicy {
  /** Hosts exempt from the non-public-address block (e.g. `localhost:8080`, `hubspot-fake`). */
  allowHosts: string[];
  /** Host → base URL rewrites, e.g. `api.hubapi.com` → `http://127.0.0.1:4010` (tests, staging). Mapped targets are allowed. */
  mapHosts: Record<string, string>;
  /**
   * `host:port` entries sockets (`net`/`tls`) may reach even on non-public addresses, e.g.
   * `127.0.0.1:6379` (`CODESTEP_EGRESS_ALLOW_SOCKETS`). A port is required. @default []
   */
  allowSockets?: string[];
  /** Per-execution socket caps (partial; defaults in `DEFAULT_SOCKET_LIMITS` of `@codestep/egress`). */
  socketLimits?: Partial<SocketLimits>;
}

/** What the sandbox asks of its host, over the bridge (primitives only). */
export interface SandboxHostApi {
  /** JsWorkflows' `api.getOAuthToken(handle)`; must never throw. */
  getOAuthToken?(request: { tenantId: string; executionId: string; handle: string }): Promise<{ token?: string; error?: string }>;
  /**
   * JsWorkflows' `api.runStore.*` and `api.dedupe(key)`: `requestJson` is `{ op, key, value? }`
   * (`op`: get, set, push, increment, delete, dedupe); resolves with `{ value }` or `{ error }`
   * (a message the step's code sees as the rejection). Unset: those calls fail in the step.
   */
  runState?(request: { tenantId: string; executionId: string; requestJson: string }): Promise<{ value?: unknown; error?: string }>;
}

/** One source of the in-context runtime (see `@codestep/sandbox-runtime`). */
export interface SandboxRuntimeSource {
  filename: string;
  source: string;
}

/**
 * The in-context runtime: the prelude (`install(global, bridge)`), the allow-listed libraries and
 * the runtime's internal modules (names starting `codestep:`, loaded by the prelude on first use;
 * actions cannot `require` them).
 */
export interface SandboxRuntimeSources {
  prelude: SandboxRuntimeSource;
  /** A library's (`name@version`) `source` is read only when a worker first needs it. */
  libraries: Record<string, SandboxRuntimeSource>;
  /** Per runtime version, `require` name → library key. */
  runtimeVersions: Record<string, Record<string, string>>;
  /** Library sub-paths answered by a property of the library (`lodash/` → `lodash`). @default {} */
  subpaths?: Record<string, string>;
}

export interface SandboxOptions {
  /** Pre-warmed workers, and the most executions running at once (more wait in a queue). @default 2 */
  poolSize?: number;
  /** @default { allowHosts: [], mapHosts: {} } */
  egress?: EgressPolicy;
  hostApi?: SandboxHostApi;
  /**
   * Memory class (MB) whose workers are started ahead of the first request: the memory most
   * executions ask for (the operator's default). @default `DEFAULT_EXECUTION_LIMITS.memoryMb` of `@codestep/core`
   */
  defaultMemoryMb?: number;
  /**
   * Garbage a worker may gather before its first full collection, MB (V8's initial old space,
   * capped by each worker's memory limit; 0 = V8's own default). Each execution leaves a dead
   * context of ~150 KB: more room means fewer full collections (less CPU per execution) and
   * more resident memory under load (~+45 MB per busy worker at 64). @default 64
   */
  gcHeadroomMb?: number;
  /**
   * Resident memory of the sandbox host process (all its workers), MB, past which the worker
   * holding the most is ended: its execution fails with `MEMORY_LIMIT` and the host keeps
   * serving. A backstop under the per-execution accounting, sampled every 25 ms while
   * executions run. Set it above what legitimate work needs: each worker may hold its memory
   * limit in its heap and as much again in array buffers. 0 turns it off.
   * @default 256 + 3 × the memory limit of each live worker (1,024 MB for 2 workers at 128 MB)
   */
  hostMemoryCeilingMb?: number;
  /** The sandbox's own diagnostics (never user logs). @default a `warn`-level logger on stderr */
  logger?: Logger;
  /** Where the in-context runtime comes from. @default `loadSandboxRuntime()` of `@codestep/sandbox-runtime` */
  loadRuntime?: () => Promise<SandboxRuntimeSources>;
}

export interface Sandbox {
  execute(request: ExecutionRequest): Promise<ExecutionResult>;
  close(): Promise<void>;
}

/** Counters of the sandbox host, for benchmarks, health checks and tests. */
export interface SandboxStats {
  /** Worker threads alive (idle, busy or starting). */
  workers: number;
  busy: number;
  queued: number;
  /** Workers terminated and replaced (timeouts, memory, crashes, misbehaviour). */
  replaced: number;
  /** Recent cold starts of workers, ms. */
  coldStartsMs: number[];
  /** Resident memory of the host process, bytes. */
  rssBytes: number;
  /** Host processes started (1 + restarts after crashes). */
  hostStarts: number;
  hostPid: number | undefined;
}

/** What {@link createSandbox} returns: the {@link Sandbox} contract plus operational extras. */
export interface SandboxHandle extends Sandbox {
  stats(): Promise<SandboxStats>;
}
