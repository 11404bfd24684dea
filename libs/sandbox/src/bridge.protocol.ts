/**
 * The bridge between a worker and one of its vm contexts: the host functions the context's
 * bootstrap receives, the context functions it hands back, and the kinds of message that cross
 * in each direction. Everything crossing is a primitive; see `worker/context-bootstrap.ts`.
 *
 *   context ──HostCalls (settle: SettleKind)──▶ worker
 *           ◀──ContextApi (dispatch: DispatchKind)──
 *
 * The in-context parts only `import type` from here (they run from their source text, where no
 * module binding exists); the worker imports the values too.
 */

/** The host functions given to the bootstrap, by name. Primitives only, in both directions. */
export interface HostCalls {
  log: (level: string, message: string) => void;
  /** Starts a host timer; false when the execution has too many. `delayMs` -1 = setImmediate. */
  timerSet: (id: number, delayMs: number, repeat: boolean) => boolean;
  timerClear: (id: number) => void;
  /** Starts a request; the response (or error) comes back as `dispatch('fetch', id, json)`. */
  fetch: (id: number, requestJson: string) => void;
  /** Asks for an OAuth token; false when refused at once. Answer: `dispatch('oauth', id, json)`. */
  oauth: (id: number, handle: string) => boolean;
  /**
   * A JsWorkflows run-state operation (`api.runStore.*`, `api.dedupe`), JSON `{ op, key, value? }`;
   * false when refused at once. Answer: `dispatch('runState', id, json)`, `{ value }` or `{ error }`.
   */
  runState: (id: number, requestJson: string) => boolean;
  randomBytes: (size: number) => string;
  /**
   * A synchronous operation of an in-context built-in done by Node in the worker (`crypto.*`
   * ciphers, KDFs and signatures, `zlib`): arguments and answer are JSON text, bytes as base64.
   */
  builtin: (op: string, payloadJson: string) => string;
  /** Starts a DNS query under the egress policy; the answer comes back as `dispatch('dns', id, json)`. */
  dns: (id: number, requestJson: string) => void;
  now: () => number;
  /**
   * Runs the named library's compiled factory in this context and hands it to `provideModule`:
   * an allow-listed name for `require`, or an internal `codestep:` name for the prelude.
   */
  loadModule: (name: string) => boolean;
  /** The execution's outcome, or a step towards it. */
  settle: (kind: SettleKind, payloadJson: string) => void;
  memoryExceeded: () => void;
  /**
   * A socket operation (`net`/`tls` in the context): `open` (arg: the JSON of a
   * `SocketRequest` of `@codestep/egress`), `write` (arg: base64), `end`, `destroy`, `pause`,
   * `resume`, `ref`, `unref`, `nodelay` / `keepalive` (arg `'1'`/`'0'`, keepalive `'1:<ms>'`).
   * False when refused at once. Events come back as `dispatch('socket', id, payload)` (see
   * {@link SocketEventType}).
   */
  socket: (id: number, op: string, arg: string) => boolean;
}

/** The name of a host function the context may call. */
export type HostCallKind = keyof HostCalls;

/** What the bootstrap receives: the host functions and the execution-independent settings. */
export interface HostBridge extends HostCalls {
  /** Off-heap allocation budget of the execution, bytes. */
  externalLimitBytes: number;
  /** The most characters of JSON a result may take; serialisation stops as soon as it is passed. */
  maxResultChars: number;
  /** JSON array of the module names `require` accepts (never an internal `codestep:` name). */
  modulesJson: string;
  nodeVersion: string;
}

/**
 * How the context reports an execution's outcome (`HostCalls.settle`):
 * - `complete`: the result (JSON of `{ outputFields }`, `{ returnValue }` or `{ notAnObject }`);
 * - `callback`: the same, passed to `callback`: delivered once pending work has drained;
 * - `nothing`: `main` returned nothing and has not called back;
 * - `fail`: the action threw or rejected (a thrown-value description);
 * - `uncaught`: a timer, microtask or other callback threw (the description plus `where`);
 * - `unserialisable`: the result could not be turned into JSON (`{ message }`), or its JSON
 *   passed `HostBridge.maxResultChars` (`{ message, tooLarge: true }`).
 */
export type SettleKind = 'complete' | 'callback' | 'nothing' | 'fail' | 'uncaught' | 'unserialisable';

const SETTLE_KINDS: ReadonlySet<string> = new Set<SettleKind>(['complete', 'callback', 'nothing', 'fail', 'uncaught', 'unserialisable']);

/** Whether a string from the context names a {@link SettleKind}. */
export function isSettleKind(kind: string): kind is SettleKind {
  return SETTLE_KINDS.has(kind);
}

/** What the worker delivers to the context (`ContextApi.dispatch`): a timer tick, a response, an OAuth answer. */
export type DispatchKind = 'timer' | 'fetch' | 'oauth' | 'runState' | 'socket' | 'dns';

/**
 * A `socket` dispatch's payload is `<type>\n<data>`: `connect` / `secure` (JSON of
 * `SocketConnectInfo` / `SocketSecureInfo`), `data` (base64), `end`, `error` (JSON
 * `{ code, message, systemCode }`), `close` (`1` after an error, else `0`).
 */
export type SocketEventType = 'connect' | 'secure' | 'data' | 'end' | 'error' | 'close';

/** What the bootstrap hands back to the worker: context-realm functions, called with primitives. */
export interface ContextApi {
  /** Calls the prelude's `install(global, bridge)`; returns '' or an error message. */
  installPrelude: (install: unknown) => string;
  provideModule: (name: string, factory: unknown) => void;
  /** Runs the action. `factory` is the compiled CommonJS wrapper of the user's code. */
  start: (configJson: string, inputJson: string, headersJson: string, factory: unknown) => void;
  /** Delivers a timer tick, a fetch response, an OAuth answer or a socket event. */
  dispatch: (kind: DispatchKind, id: number, payload: string) => void;
  /** Formats a value (an unhandled rejection reason) as a JSON error description. */
  describeError: (reason: unknown) => string;
  /** A context-realm Error, for failures the host must raise inside the context. */
  makeError: (message: string) => unknown;
  /** Marks the execution finished: later calls from this context are ignored. */
  end: () => void;
}
