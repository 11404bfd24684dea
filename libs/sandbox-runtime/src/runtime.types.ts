/** A script for the sandbox core to compile with `new vm.Script(source, { filename, cachedData })`. */
export interface Script {
  filename: string;
  source: string;
}

/**
 * What the sandbox core evaluates inside each fresh context.
 *
 * - `prelude`: its completion value is `install(global, bridge)`; call it once per context before
 *   any user code, with the context's global and a bridge of primitive-only functions
 *   ({@link SandboxBridge}).
 * - `libraries`: each source evaluates to `(function (module, exports, require) { ... })`; call it
 *   with in-context `module`/`exports` and a `require` that resolves only the public keys of this
 *   record (allow-listed packages and Node built-in shims) and throws `MODULE_NOT_ALLOWED`
 *   otherwise. Library bundles require each other by these names (`random-number-csprng`
 *   requires `bluebird` and `crypto`), so resolve them through the same per-context module cache.
 * - Keys starting with `codestep:` ({@link isInternalModule}) are the runtime's own modules, not
 *   libraries: `require` must refuse them like any unknown name (leave them out of the
 *   allow-list). The prelude asks for them through {@link SandboxBridge.loadModule}; today there
 *   is one, {@link WEB_RUNTIME_MODULE}.
 */
export interface SandboxRuntime {
  prelude: Script;
  libraries: Record<string, Script>;
  /** Hash of every build input; changes whenever any bundle may differ (use it to key code caches). */
  version: string;
}

/**
 * The bridge `install` receives. Its members take and return primitives only (except
 * `loadModule`, which returns a function of the context's realm), never throw and never return
 * promises; `install` keeps them in a closure, out of user code's reach.
 */
export interface SandboxBridge {
  /**
   * `requestJson` is `{ url, method, headers: [[k, v]...], bodyBase64: string | null, redirect }`;
   * `onDone` is later called once with the JSON of an `EgressResponse` from `@codestep/egress`:
   * `{ ok: true, status, statusText, url, redirected, headers, bodyBase64 }` or
   * `{ ok: false, error: { code, message } }`.
   */
  fetch(requestJson: string, onDone: (responseJson: string) => void): void;
  /** `n` cryptographically random bytes, base64. */
  randomBytes(n: number): string;
  /** Wall clock in ms (fractional allowed), for `performance.now()`. */
  now(): number;
  /**
   * The module function of the internal runtime module `name` (a `codestep:` key of
   * {@link SandboxRuntime.libraries}), evaluated in this context: the one member that returns an
   * object. It must be a value of the context's own realm, made by running the library's script
   * in the context, never a host object; `undefined` when it cannot be loaded. Called at most
   * once per context and name, and only when a context first needs the module (the first use of
   * `URL`, `fetch`, `Buffer`, `require('util')`, ...), so it may be slow.
   */
  loadModule(name: string): unknown;
  /**
   * A socket operation for `net`/`tls` (`open` with the JSON of a `SocketRequest` of
   * `@codestep/egress`, `write` with base64, `end`, `destroy`, `pause`, `resume`, `ref`, `unref`,
   * `nodelay`, `keepalive`); true when the host accepted it. Optional: without it every
   * connection is refused.
   */
  socket?(op: string, id: number, arg: string): boolean;
  /** Sets the handler of socket events, `(id, '<type>\n<data>')`; called once per context. */
  onSocketEvent?(handler: (id: number, payload: string) => void): void;
  /**
   * A synchronous operation of a built-in done by Node on the host (`crypto.*`, `zlib`; see
   * `@codestep/sandbox-runtime/host`): JSON arguments (bytes as base64) in, JSON answer out.
   */
  builtin?(op: string, payloadJson: string): string;
  /** A DNS query under the egress policy (`createEgressDns` of `@codestep/egress`); `onDone` gets the JSON answer. */
  dns?(requestJson: string, onDone: (answerJson: string) => void): void;
}

/**
 * The web platform modules behind the prelude's globals and Node shims: an internal module of
 * {@link SandboxRuntime.libraries}, loaded by the prelude, never by user code.
 */
export const WEB_RUNTIME_MODULE = 'codestep:web-runtime';

/** `net` and `tls` over the bridge's sockets (`in-context/net.cjs`): internal, loaded on their first `require`. */
export const NET_RUNTIME_MODULE = 'codestep:net';

/** Whether a key of {@link SandboxRuntime.libraries} is the runtime's own (not requirable) module. */
export const isInternalModule = (name: string): boolean => name.startsWith('codestep:');

/** Packages from the HubSpot custom-code allow-list that run in the sandbox. */
export const ALLOWED_LIBRARIES = ['@hubspot/api-client', 'axios', 'lodash', 'async', 'bluebird', 'random-number-csprng'] as const;

/** Node built-ins that resolve to in-context shims. `child_process`, `vm` and the rest do not. */
export const NODE_BUILTIN_SHIMS = [
  'buffer',
  'crypto',
  'events',
  'querystring',
  'url',
  'util',
  'util/types',
  // Each of these is an internal bundle of its own, evaluated on first `require` (NODE_BUILTIN_BUNDLES).
  'assert',
  'assert/strict',
  'dgram',
  'dns',
  'dns/promises',
  'domain',
  'fs',
  'fs/promises',
  'http',
  'https',
  'os',
  'path',
  'path/posix',
  'stream',
  'stream/promises',
  'string_decoder',
  'timers',
  'timers/promises',
  'zlib',
  // Host sockets under the egress policy: the internal bundle NET_RUNTIME_MODULE.
  'net',
  'tls',
] as const;

/**
 * The internal bundles behind the newer built-ins, `codestep:node-<name>` in
 * {@link SandboxRuntime.libraries}, each built from `in-context/node/<name>.cjs` and loaded by the
 * prelude on first use (`crypto` holds the ciphers, KDFs and signatures added to the web runtime's `crypto`).
 */
export const NODE_BUILTIN_BUNDLES = ['assert', 'crypto', 'dgram', 'dns', 'domain', 'fs', 'http', 'os', 'path', 'stream', 'string_decoder', 'timers', 'zlib'] as const;
