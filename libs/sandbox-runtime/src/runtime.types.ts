import type { RuntimeVersion } from '@codestep/core';

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
  /**
   * The Node built-in shims and internal modules by name, and the libraries by `name@version`
   * ({@link libraryKey}); which library key a `require(name)` gets depends on the execution's
   * runtime version ({@link SandboxRuntime.runtimeVersions}). A library's `source` is read from
   * the cache when first used (the bundles of both sets are ~60 MB together).
   */
  libraries: Record<string, Script>;
  /** For each runtime version, `require` name → key of {@link SandboxRuntime.libraries} (its library set and the dependencies). */
  runtimeVersions: Record<RuntimeVersion, Record<string, string>>;
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

/**
 * Each runtime version's seed libraries: `require` name → the directory in `node_modules` the
 * bundle is built from (npm aliases hold the second version of a package). `node20` is
 * HubSpot's documented Node 20 set (`@hubspot/api-client` ^10, `mongoose` ^6.8, `redis` ^4.5,
 * `googleapis` ^67, ...); `node24` today's versions. The versions themselves are read from the
 * packages when building (`package.json` pins the ranges); the README lists them.
 */
export const RUNTIME_LIBRARY_SETS: Record<RuntimeVersion, Record<string, string>> = {
  node20: {
    '@hubspot/api-client': '@hubspot/api-client-v10',
    async: 'async',
    'aws-sdk': 'aws-sdk',
    axios: 'axios',
    bluebird: 'bluebird',
    googleapis: 'googleapis',
    lodash: 'lodash',
    mongoose: 'mongoose',
    mysql: 'mysql',
    'random-number-csprng': 'random-number-csprng',
    redis: 'redis',
    request: 'request',
  },
  node24: {
    '@hubspot/api-client': '@hubspot/api-client',
    async: 'async',
    'aws-sdk': 'aws-sdk',
    axios: 'axios',
    bluebird: 'bluebird',
    googleapis: 'googleapis-v171',
    lodash: 'lodash',
    mongoose: 'mongoose-v9',
    mysql: 'mysql',
    'random-number-csprng': 'random-number-csprng',
    redis: 'redis-v5',
    request: 'request',
  },
};

/** The seed libraries' names (the same in every runtime version). */
export const ALLOWED_LIBRARIES = Object.keys(RUNTIME_LIBRARY_SETS.node20).sort();

/**
 * Seed libraries built for Node (`platform: 'node'`: Node's built-ins stay `require`s, answered
 * by the sandbox's); the others are browser builds whose HTTP goes through the sandbox `fetch`.
 */
export const NODE_PLATFORM_LIBRARIES: ReadonlySet<string> = new Set(['aws-sdk', 'googleapis', 'mongoose', 'mysql', 'redis', 'request']);

/**
 * The seed libraries' own dependencies that actions `require` directly, as they can on HubSpot's
 * Lambda runtime (where every package of the runtime's `node_modules` resolves): the same in
 * every runtime version. `form-data` and `node-fetch` are the sandbox's own (over its `FormData`
 * and `fetch`, as inside the libraries); the others are the npm packages.
 */
export const DEPENDENCY_LIBRARIES = ['bottleneck', 'debug', 'form-data', 'mime-types', 'node-fetch', 'qs', 'tslib', 'url-parse', 'uuid', 'xml2js'] as const;

/**
 * Sub-paths of a library answered by a property of the library (`require('lodash/get')` is
 * `require('lodash').get`, `require('aws-sdk/clients/s3')` is `require('aws-sdk').S3`): prefix
 * → library; the property is matched without regard to case.
 */
export const LIBRARY_SUBPATHS: Readonly<Record<string, string>> = { 'lodash/': 'lodash', 'async/': 'async', 'aws-sdk/clients/': 'aws-sdk' };

/** A library's key in {@link SandboxRuntime.libraries}: `name@version`. */
export const libraryKey = (name: string, version: string): string => `${name}@${version}`;

/** Whether a key of {@link SandboxRuntime.libraries} is a library (`name@version`), not a built-in or internal module. */
export const isLibraryKey = (key: string): boolean => key.lastIndexOf('@') > 0;

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
  // Load-only stand-ins (in-context/node/load-only.cjs): libraries load them, actions cannot use them.
  'async_hooks',
  'child_process',
  'diagnostics_channel',
  'http2',
  'perf_hooks',
  'process',
  'punycode',
  'tty',
  'worker_threads',
  // Host sockets under the egress policy: the internal bundle NET_RUNTIME_MODULE.
  'net',
  'tls',
] as const;

/**
 * The internal bundles behind the newer built-ins, `codestep:node-<name>` in
 * {@link SandboxRuntime.libraries}, each built from `in-context/node/<name>.cjs` and loaded by the
 * prelude on first use (`crypto` holds the ciphers, KDFs and signatures added to the web runtime's `crypto`).
 */
export const NODE_BUILTIN_BUNDLES = ['assert', 'crypto', 'dgram', 'dns', 'domain', 'fs', 'http', 'load-only', 'os', 'path', 'stream', 'string_decoder', 'timers', 'zlib'] as const;
