'use strict';
// The sandbox prelude: `install(global, bridge)` defines the web platform globals inside a fresh
// context and registers the Node built-in shims that library bundles `require`. Everything here
// runs inside the context; the bridge's functions are kept in this closure and never exposed.
//
// Globals are defined lazily (a getter that replaces itself with a plain value on first use),
// so a context pays only for what its code touches: most actions never parse a URL.
//
// This file is all that runs in every context. The modules behind the globals (whatwg-url,
// encoding, fetch, crypto, buffer, ...) are a separate bundle, the web runtime
// (web-runtime.cjs), which a context evaluates only on its first use of one of them: its top
// level alone (a closure and an object per bundled module, rebuilt in every new context) would
// cost more than everything else here.

const RUNTIME = Symbol.for('codestep.runtime');
const WEB_RUNTIME = 'codestep:web-runtime';
const NET_RUNTIME = 'codestep:net';

function install(global, bridge) {
  const bridgeFetch = typeof bridge.fetch === 'function' ? bridge.fetch : null;
  const bridgeRandomBytes = typeof bridge.randomBytes === 'function' ? bridge.randomBytes : null;
  const bridgeNow = typeof bridge.now === 'function' ? bridge.now : null;
  const bridgeLoadModule = typeof bridge.loadModule === 'function' ? bridge.loadModule : null;
  const bridgeSocket = typeof bridge.socket === 'function' ? bridge.socket : null;
  const bridgeOnSocketEvent = typeof bridge.onSocketEvent === 'function' ? bridge.onSocketEvent : null;
  const bridgeBuiltin = typeof bridge.builtin === 'function' ? bridge.builtin : null;
  const bridgeDns = typeof bridge.dns === 'function' ? bridge.dns : null;
  // Read now, before any user code runs, for the web runtime's module wrappers (see 'web' below).
  const getOwnPropertyNames = Object.getOwnPropertyNames;

  // Everything below is made on first use and kept, by name: one cache and one `switch` rather
  // than a closure per value, since install() runs in every context and most values are never
  // asked for. A value whose making throws is not kept (the next use tries again).
  const made = { __proto__: null };
  const use = (name) => (name in made ? made[name] : (made[name] = make(name)));
  const make = (name) => {
    switch (name) {
      // The web runtime's module getters: its module function, produced in this context by the
      // bridge, is run once, with a `require` it never needs (everything is bundled into it).
      // Its top level would read `Object.getOwnPropertyNames` now, perhaps after user code
      // replaced it; it takes the one read at install instead, as when it was part of the
      // prelude (runtime.build.ts). Called directly, not through a `.call` user code may replace.
      case 'web': {
        const factory = bridgeLoadModule === null ? undefined : bridgeLoadModule(WEB_RUNTIME);
        if (typeof factory !== 'function') throw new Error('codestep runtime: the web platform modules failed to load');
        const module = { exports: {}, getOwnPropertyNames };
        factory(module, module.exports, (name) => {
          throw new Error(`codestep runtime: no module "${name}"`);
        });
        return module.exports;
      }
      case 'whatwgUrl':
        return use('web').whatwgUrl();
      case 'encoding':
        return use('web').encoding();
      case 'events':
        return use('web').events();
      case 'fetchModule':
        return use('web').fetch();
      case 'webCrypto':
        return use('web')
          .crypto()
          .createWebCrypto((n) => {
            if (bridgeRandomBytes === null) return '';
            return bridgeRandomBytes(n);
          });
      case 'fetch':
        return use('fetchModule').createFetch((payload, onDone) => {
          if (bridgeFetch === null) {
            onDone(JSON.stringify({ ok: false, error: { code: 'EGRESS_BLOCKED', message: 'network access is disabled for this execution' } }));
            return;
          }
          // The host calls onDone with a primitive; wrapping it keeps `this` and extra arguments out.
          bridgeFetch(String(payload), (responseJson) => onDone(String(responseJson)));
        });
      case 'performance': {
        const now = () => {
          const t = bridgeNow === null ? Date.now() : Number(bridgeNow());
          return Number.isFinite(t) ? t : Date.now();
        };
        const origin = now();
        return {
          timeOrigin: origin,
          now: () => now() - origin,
          mark() {},
          measure() {},
          toJSON: () => ({ timeOrigin: origin }),
        };
      }
      // Built-in modules for `require` (reached through the shim libraries) and library internals.
      case 'module:buffer': {
        const mod = use('web').buffer();
        return { ...mod, atob: use('encoding').atob, btoa: use('encoding').btoa, Blob: use('fetchModule').Blob, File: use('fetchModule').File, constants: { MAX_LENGTH: mod.kMaxLength, MAX_STRING_LENGTH: 2 ** 29 - 24 } };
      }
      case 'module:events':
        return use('web').eventEmitter();
      case 'module:util':
        return use('web').util();
      case 'module:util/types':
        return use('module:util').types;
      case 'module:url':
        return use('web').url();
      case 'module:querystring': {
        const qs = use('web').querystring();
        return { ...qs, escape: (s) => encodeURIComponent(s), unescape: (s) => decodeURIComponent(s) };
      }
      case 'module:crypto': {
        // Hashes, HMAC and random values are the web runtime's; the rest (ciphers, KDFs,
        // signatures) is a bundle of its own, loaded on first use of one of its names.
        const crypto = use('web').crypto().createNodeCrypto(use('webCrypto'));
        for (const key of CRYPTO_BUNDLE_NAMES.split(' ')) {
          Object.defineProperty(crypto, key, {
            enumerable: true,
            configurable: true,
            get: () => use('bundle:crypto')[key],
            set: (value) => Object.defineProperty(crypto, key, { value, writable: true, enumerable: true, configurable: true }),
          });
        }
        return crypto;
      }
      case 'module:codestep:web':
        return { ...use('fetchModule'), ...use('events'), fetch: use('fetch'), crypto: use('webCrypto').crypto };
      // `net` and `tls` (net.cjs): their own bundle, loaded on a context's first require of either.
      case 'netModules': {
        const factory = bridgeLoadModule === null ? undefined : bridgeLoadModule(NET_RUNTIME);
        if (typeof factory !== 'function') throw new Error('codestep runtime: the net module failed to load');
        const module = { exports: {} };
        factory(module, module.exports, (name) => {
          throw new Error(`codestep runtime: no module "${name}"`);
        });
        return module.exports.createNet({
          socket: (op, id, arg) => bridgeSocket !== null && bridgeSocket(String(op), Number(id), String(arg)) === true,
          onSocketEvent: (handler) => {
            if (bridgeOnSocketEvent !== null) bridgeOnSocketEvent((id, payload) => handler(Number(id), String(payload)));
          },
        });
      }
      case 'module:net':
        return use('netModules').net;
      case 'module:tls':
        return use('netModules').tls;
      case 'module:codestep:process':
        return createLibraryProcess(global);
      case 'host':
        return makeHost();
    }
    // The Node built-ins that are internal bundles of their own (`codestep:node-<bundle>`),
    // evaluated in a context on the first `require` of one of their names (see NODE_MODULES).
    if (name.startsWith('bundle:')) return loadNodeBundle(name.slice(7));
    if (name.startsWith('module:') && name.slice(7) in NODE_MODULES) {
      const [bundle, member] = NODE_MODULES[name.slice(7)].split(' ');
      const exports = use(`bundle:${bundle}`);
      return member === undefined ? exports : exports[member];
    }
    throw new Error(`codestep runtime: nothing is named "${name}"`);
  };

  // What a built-in bundle may ask of the host: primitives in, primitives out (see SandboxBridge).
  // Made on a context's first built-in bundle.
  const makeHost = () => Object.freeze({
    __proto__: null,
    builtin: (op, payloadJson) => {
      if (bridgeBuiltin === null) return '{"ok":false,"error":{"code":"ERR_SANDBOX","message":"not available here"}}';
      return String(bridgeBuiltin(String(op), String(payloadJson)));
    },
    dns: (requestJson, onDone) => {
      if (bridgeDns === null) {
        queueMicrotask(() => onDone('{"ok":false,"error":{"code":"EGRESS_BLOCKED","message":"DNS is not available here"}}'));
        return;
      }
      bridgeDns(String(requestJson), (answerJson) => onDone(String(answerJson)));
    },
    fetch: (requestJson, onDone) => {
      if (bridgeFetch === null) {
        queueMicrotask(() => onDone(JSON.stringify({ ok: false, error: { code: 'EGRESS_BLOCKED', message: 'network access is disabled for this execution' } })));
        return;
      }
      bridgeFetch(String(requestJson), (responseJson) => onDone(String(responseJson)));
    },
  });
  const loadNodeBundle = (bundle) => {
    const factory = bridgeLoadModule === null ? undefined : bridgeLoadModule(`codestep:node-${bundle}`);
    if (typeof factory !== 'function') throw new Error(`codestep runtime: the built-in module ${bundle} failed to load`);
    const module = { exports: {}, host: use('host') };
    // Bundled packages ask for `buffer/` or `string_decoder/` (the npm package): the built-in.
    factory(module, module.exports, (name) => runtime.require(name.endsWith('/') ? name.slice(0, -1) : name));
    return module.exports;
  };

  // The lazy globals: each getter asks `globalValue` for its own name.
  const globalValue = (name) => {
    switch (name) {
      case 'URL':
        return use('whatwgUrl').URL;
      case 'URLSearchParams':
        return use('whatwgUrl').URLSearchParams;
      case 'TextEncoder':
        return use('encoding').TextEncoder;
      case 'TextDecoder':
        return use('encoding').TextDecoder;
      case 'atob':
        return use('encoding').atob;
      case 'btoa':
        return use('encoding').btoa;
      case 'Buffer':
        return use('module:buffer').Buffer;
      case 'DOMException':
      case 'Event':
      case 'EventTarget':
      case 'AbortController':
      case 'AbortSignal':
        return use('events')[name];
      case 'Headers':
      case 'Request':
      case 'Response':
      case 'Blob':
      case 'File':
      case 'FormData':
        return use('fetchModule')[name];
      case 'fetch':
        return use('fetch');
      case 'crypto':
        return use('webCrypto').crypto;
      case 'Crypto':
        return use('webCrypto').Crypto;
      case 'structuredClone':
        return use('web').structuredClone().structuredClone;
      case 'performance':
        return use('performance');
      // As in Node 24. Its presence also tells bluebird not to generate code with `new Function`
      // (which fails here: string code generation is off).
      case 'navigator':
        return { userAgent: 'Node.js/24 (codestep sandbox)', language: 'en-US', languages: ['en-US'], platform: 'linux', hardwareConcurrency: 1 };
    }
    return undefined;
  };
  for (let i = 0; i < GLOBALS.length; i++) defineLazy(global, GLOBALS[i], globalValue);

  // `require` names of the built-in modules, each to its name in `use`.
  const modules = {
    __proto__: null,
    buffer: 'module:buffer',
    events: 'module:events',
    util: 'module:util',
    url: 'module:url',
    querystring: 'module:querystring',
    crypto: 'module:crypto',
    net: 'module:net',
    tls: 'module:tls',
    'codestep:web': 'module:codestep:web',
    'codestep:process': 'module:codestep:process',
    'util/types': 'module:util/types',
  };
  const runtime = Object.freeze({
    require(name) {
      const key = Object.prototype.hasOwnProperty.call(modules, name) ? modules[name] : typeof name === 'string' && name in NODE_MODULES ? `module:${name}` : undefined;
      if (key === undefined) throw new Error(`codestep runtime has no built-in module "${name}"`);
      return use(key);
    },
    // The keys of `modules` without the internal `codestep:` ones.
    get builtins() {
      return Object.freeze(['buffer', 'events', 'util', 'util/types', 'url', 'querystring', 'crypto', 'net', 'tls', ...Object.keys(NODE_MODULES)]);
    },
  });
  Object.defineProperty(global, RUNTIME, { value: runtime, enumerable: false, writable: false, configurable: false });
}

/**
 * Node built-ins in bundles of their own: `require` name → 'bundle' (all its exports) or
 * 'bundle member'. A bundle is `SandboxRuntime.libraries['codestep:node-<bundle>']`. Strings,
 * not arrays: this runs in every context, and most never require one of these.
 */
const NODE_MODULES = {
  __proto__: null,
  stream: 'stream',
  'stream/promises': 'stream promises',
  string_decoder: 'string_decoder',
  path: 'path',
  'path/posix': 'path',
  os: 'os',
  timers: 'timers',
  'timers/promises': 'timers promises',
  assert: 'assert',
  'assert/strict': 'assert strict',
  zlib: 'zlib',
  http: 'http http',
  https: 'http https',
  dns: 'dns',
  'dns/promises': 'dns promises',
  domain: 'domain',
  dgram: 'dgram',
  fs: 'fs',
  'fs/promises': 'fs promises',
  child_process: 'load-only child_process',
  http2: 'load-only http2',
  tty: 'load-only tty',
  async_hooks: 'load-only async_hooks',
  diagnostics_channel: 'load-only diagnostics_channel',
  perf_hooks: 'load-only perf_hooks',
  process: 'load-only process',
  punycode: 'load-only punycode',
  worker_threads: 'load-only worker_threads',
};

/** What the `crypto` bundle adds to the web runtime's `crypto` (in-context/node/crypto.cjs). */
const CRYPTO_BUNDLE_NAMES = 'createCipheriv createDecipheriv Cipheriv Decipheriv getCiphers getCurves pbkdf2 pbkdf2Sync scrypt scryptSync hkdf hkdfSync createSign createVerify Sign Verify sign verify KeyObject createPrivateKey createPublicKey createSecretKey';

/** The globals `install` defines, in this order (each a case of its `globalValue`). */
const GLOBALS = ['URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'Buffer', 'DOMException', 'Event', 'EventTarget', 'AbortController', 'AbortSignal', 'Headers', 'Request', 'Response', 'Blob', 'File', 'FormData', 'fetch', 'crypto', 'Crypto', 'structuredClone', 'performance', 'navigator'];

function defineLazy(global, name, factory) {
  Object.defineProperty(global, name, {
    configurable: true,
    enumerable: false,
    get() {
      const value = factory(name);
      Object.defineProperty(global, name, { value, writable: true, enumerable: false, configurable: true });
      return value;
    },
    set(value) {
      Object.defineProperty(global, name, { value, writable: true, enumerable: false, configurable: true });
    },
  });
}

/**
 * The `process` that library bundles see: browser-like, so that packages pick their fetch
 * paths rather than Node's; `env` is the sandbox's own `process.env` (the action's secrets).
 */
function createLibraryProcess(global) {
  const noop = () => {};
  const p = {
    get env() {
      const real = global.process;
      return real && typeof real.env === 'object' && real.env !== null ? real.env : {};
    },
    nextTick(fn, ...args) {
      queueMicrotask(() => fn(...args));
    },
    browser: true,
    title: 'browser',
    version: '',
    versions: {},
    platform: 'browser',
    arch: 'javascript',
    argv: [],
    execArgv: [],
    pid: 1,
    cwd: () => '/',
    chdir: noop,
    umask: () => 0,
    hrtime: Object.assign((prev) => {
      const t = global.performance.now();
      const s = Math.floor(t / 1000);
      const ns = Math.floor((t % 1000) * 1e6);
      if (!prev) return [s, ns];
      let ds = s - prev[0];
      let dns = ns - prev[1];
      if (dns < 0) {
        ds--;
        dns += 1e9;
      }
      return [ds, dns];
    }, { bigint: () => BigInt(Math.floor(global.performance.now() * 1e6)) }),
    emitWarning: noop,
    on: noop,
    once: noop,
    off: noop,
    addListener: noop,
    removeListener: noop,
    removeAllListeners: noop,
    emit: noop,
    listeners: () => [],
    binding: () => {
      throw new Error('process.binding is not supported');
    },
  };
  return p;
}

module.exports = { install };
