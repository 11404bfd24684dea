'use strict';
// The sandbox prelude: `install(global, bridge)` defines the web platform globals inside a fresh
// context and registers the Node built-in shims that library bundles `require`. Everything here
// runs inside the context; the bridge's functions are kept in this closure and never exposed.
//
// Globals are defined lazily (a getter that replaces itself with a plain value on first use),
// so a context pays only for what its code touches: most actions never parse a URL.

const RUNTIME = Symbol.for('codestep.runtime');

function install(global, bridge) {
  const bridgeFetch = typeof bridge.fetch === 'function' ? bridge.fetch : null;
  const bridgeRandomBytes = typeof bridge.randomBytes === 'function' ? bridge.randomBytes : null;
  const bridgeNow = typeof bridge.now === 'function' ? bridge.now : null;

  const once = (factory) => {
    let value;
    let done = false;
    return () => {
      if (!done) {
        value = factory();
        done = true;
      }
      return value;
    };
  };

  const whatwgUrl = once(() => require('whatwg-url'));
  const encoding = once(() => require('./encoding.cjs'));
  const events = once(() => require('./events.cjs'));
  const fetchModule = once(() => require('./fetch.cjs'));
  const webCrypto = once(() =>
    require('./crypto.cjs').createWebCrypto((n) => {
      if (bridgeRandomBytes === null) return '';
      return bridgeRandomBytes(n);
    }),
  );
  const fetch = once(() =>
    fetchModule().createFetch((payload, onDone) => {
      if (bridgeFetch === null) {
        onDone(JSON.stringify({ ok: false, error: { code: 'EGRESS_BLOCKED', message: 'network access is disabled for this execution' } }));
        return;
      }
      // The host calls onDone with a primitive; wrapping it keeps `this` and extra arguments out.
      bridgeFetch(String(payload), (responseJson) => onDone(String(responseJson)));
    }),
  );
  const buffer = once(() => {
    const mod = require('buffer/');
    return { ...mod, atob: encoding().atob, btoa: encoding().btoa, Blob: fetchModule().Blob, File: fetchModule().File, constants: { MAX_LENGTH: mod.kMaxLength, MAX_STRING_LENGTH: 2 ** 29 - 24 } };
  });
  const performance = once(() => {
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
  });

  // Null prototype: V8 builds such a literal as a dictionary in one step, where an ordinary one
  // would make a hidden class per property in every new context.
  const globals = {
    __proto__: null,
    URL: () => whatwgUrl().URL,
    URLSearchParams: () => whatwgUrl().URLSearchParams,
    TextEncoder: () => encoding().TextEncoder,
    TextDecoder: () => encoding().TextDecoder,
    atob: () => encoding().atob,
    btoa: () => encoding().btoa,
    Buffer: () => buffer().Buffer,
    DOMException: () => events().DOMException,
    Event: () => events().Event,
    EventTarget: () => events().EventTarget,
    AbortController: () => events().AbortController,
    AbortSignal: () => events().AbortSignal,
    Headers: () => fetchModule().Headers,
    Request: () => fetchModule().Request,
    Response: () => fetchModule().Response,
    Blob: () => fetchModule().Blob,
    File: () => fetchModule().File,
    FormData: () => fetchModule().FormData,
    fetch: () => fetch(),
    crypto: () => webCrypto().crypto,
    Crypto: () => webCrypto().Crypto,
    structuredClone: () => require('./structured-clone.cjs').structuredClone,
    performance: () => performance(),
    // As in Node 24. Its presence also tells bluebird not to generate code with `new Function`
    // (which fails here: string code generation is off).
    navigator: () => ({ userAgent: 'Node.js/24 (codestep sandbox)', language: 'en-US', languages: ['en-US'], platform: 'linux', hardwareConcurrency: 1 }),
  };
  for (const name of Object.keys(globals)) defineLazy(global, name, globals[name]);

  // Built-in modules for `require` (reached through the shim libraries) and library internals.
  const modules = {
    __proto__: null,
    buffer: buffer,
    events: once(() => {
      const EventEmitter = require('events');
      return EventEmitter;
    }),
    util: once(() => require('./util.cjs')),
    url: once(() => require('./url.cjs')),
    querystring: once(() => {
      const qs = require('querystring-es3');
      return { ...qs, escape: (s) => encodeURIComponent(s), unescape: (s) => decodeURIComponent(s) };
    }),
    crypto: once(() => require('./crypto.cjs').createNodeCrypto(webCrypto())),
    'codestep:web': once(() => ({ ...fetchModule(), ...events(), fetch: fetch(), crypto: webCrypto().crypto })),
    'codestep:process': once(() => createLibraryProcess(global)),
  };
  const runtime = Object.freeze({
    require(name) {
      const factory = Object.prototype.hasOwnProperty.call(modules, name) ? modules[name] : undefined;
      if (factory === undefined) throw new Error(`codestep runtime has no built-in module "${name}"`);
      return factory();
    },
    builtins: Object.freeze(Object.keys(modules).filter((n) => !n.startsWith('codestep:'))),
  });
  Object.defineProperty(global, RUNTIME, { value: runtime, enumerable: false, writable: false, configurable: false });
}

function defineLazy(global, name, factory) {
  Object.defineProperty(global, name, {
    configurable: true,
    enumerable: false,
    get() {
      const value = factory();
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
