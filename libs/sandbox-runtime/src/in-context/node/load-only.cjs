'use strict';
// Node built-ins that seed libraries load at start but that actions cannot use (aws-sdk v2
// requires `child_process` for its process-credentials provider, `debug` requires `tty`, the
// database clients `async_hooks`, `diagnostics_channel`, `perf_hooks`), so that such a library
// loads: `require` succeeds; what would do something (start a process, a thread, an HTTP/2
// session) throws an error with code MODULE_NOT_ALLOWED saying why. What is harmless answers as
// Node would with nothing to observe: no TTY, no subscribers, one main thread.
// `punycode` is the real one (npm `punycode`, what Node's deprecated module is), `process` the
// global process.

const punycode = require('punycode/');

const refused = (what, why) =>
  function notAvailable() {
    const error = new Error(`${what} is not available to actions: ${why} (the module loads so that libraries requiring it can, but this does not run)`);
    error.code = 'MODULE_NOT_ALLOWED';
    throw error;
  };
const refusedClass = (what, why) => {
  const fail = refused(what, why);
  return class {
    constructor() {
      fail();
    }
  };
};
const noProcesses = 'actions cannot start processes';

const child_process = {
  ChildProcess: refusedClass('child_process.ChildProcess', noProcesses),
};
for (const name of ['exec', 'execFile', 'execFileSync', 'execSync', 'fork', 'spawn', 'spawnSync']) child_process[name] = refused(`child_process.${name}()`, noProcesses);

const http2 = {
  constants: {},
  sensitiveHeaders: Symbol('nodejs.http2.sensitiveHeaders'),
  getDefaultSettings: () => ({}),
  getPackedSettings: () => new Uint8Array(0),
  getUnpackedSettings: () => ({}),
};
for (const name of ['connect', 'createServer', 'createSecureServer']) http2[name] = refused(`http2.${name}()`, 'use http, https or fetch (egress speaks HTTP/1.1)');

const tty = {
  isatty: () => false,
  ReadStream: refusedClass('tty.ReadStream', 'actions have no terminal'),
  WriteStream: refusedClass('tty.WriteStream', 'actions have no terminal'),
};

/** Holds its store for the synchronous extent of `run` only: actions have no async hooks to carry it across awaits. */
class AsyncLocalStorage {
  #store = undefined;
  #active = false;
  static bind(fn) {
    return fn;
  }
  static snapshot() {
    return (fn, ...args) => fn(...args);
  }
  getStore() {
    return this.#active ? this.#store : undefined;
  }
  run(store, fn, ...args) {
    const [previous, wasActive] = [this.#store, this.#active];
    this.#store = store;
    this.#active = true;
    try {
      return fn(...args);
    } finally {
      this.#store = previous;
      this.#active = wasActive;
    }
  }
  exit(fn, ...args) {
    const [previous, wasActive] = [this.#store, this.#active];
    this.#active = false;
    try {
      return fn(...args);
    } finally {
      this.#store = previous;
      this.#active = wasActive;
    }
  }
  enterWith(store) {
    this.#store = store;
    this.#active = true;
  }
  disable() {
    this.#active = false;
    this.#store = undefined;
  }
}
class AsyncResource {
  constructor(type) {
    this.type = type;
  }
  static bind(fn, _type, thisArg) {
    return thisArg === undefined ? fn : fn.bind(thisArg);
  }
  bind(fn, thisArg) {
    return thisArg === undefined ? fn : fn.bind(thisArg);
  }
  runInAsyncScope(fn, thisArg, ...args) {
    return fn.apply(thisArg, args);
  }
  emitDestroy() {
    return this;
  }
  asyncId() {
    return 0;
  }
  triggerAsyncId() {
    return 0;
  }
}
const async_hooks = {
  AsyncLocalStorage,
  AsyncResource,
  createHook: () => ({ enable() { return this; }, disable() { return this; } }),
  executionAsyncId: () => 0,
  triggerAsyncId: () => 0,
  executionAsyncResource: () => ({}),
};

/** A channel nobody subscribes to: actions cannot observe the libraries' internals. */
class Channel {
  constructor(name) {
    this.name = name;
  }
  get hasSubscribers() {
    return false;
  }
  publish() {}
  subscribe() {}
  unsubscribe() {
    return false;
  }
  bindStore() {}
  unbindStore() {
    return false;
  }
  runStores(_data, fn, thisArg, ...args) {
    return fn.apply(thisArg, args);
  }
}
const tracingChannel = (name) => {
  const named = typeof name === 'string' ? name : 'anonymous';
  return {
    start: new Channel(`tracing:${named}:start`),
    end: new Channel(`tracing:${named}:end`),
    asyncStart: new Channel(`tracing:${named}:asyncStart`),
    asyncEnd: new Channel(`tracing:${named}:asyncEnd`),
    error: new Channel(`tracing:${named}:error`),
    get hasSubscribers() {
      return false;
    },
    subscribe() {},
    unsubscribe() {
      return false;
    },
    traceSync: (fn, _context, thisArg, ...args) => fn.apply(thisArg, args),
    tracePromise: (fn, _context, thisArg, ...args) => fn.apply(thisArg, args),
    traceCallback: (fn, _position, _context, thisArg, ...args) => fn.apply(thisArg, args),
  };
};
const diagnostics_channel = {
  Channel,
  channel: (name) => new Channel(name),
  hasSubscribers: () => false,
  subscribe: () => {},
  unsubscribe: () => false,
  tracingChannel,
};

const histogram = () => ({ min: 0, max: 0, mean: 0, stddev: 0, count: 0, exceeds: 0, percentiles: new Map(), percentile: () => 0, reset() {}, enable: () => true, disable: () => true, record() {}, recordDelta() {} });
const perf_hooks = {
  get performance() {
    return globalThis.performance;
  },
  PerformanceObserver: class PerformanceObserver {
    static get supportedEntryTypes() {
      return [];
    }
    observe() {}
    disconnect() {}
  },
  monitorEventLoopDelay: histogram,
  createHistogram: histogram,
  constants: {},
};

const worker_threads = {
  isMainThread: true,
  parentPort: null,
  workerData: null,
  threadId: 0,
  resourceLimits: {},
  SHARE_ENV: Symbol('nodejs.worker_threads.SHARE_ENV'),
  Worker: refusedClass('worker_threads.Worker', 'actions cannot start threads; each execution is single-threaded'),
  MessageChannel: refusedClass('worker_threads.MessageChannel', 'actions cannot start threads; each execution is single-threaded'),
  getEnvironmentData: () => undefined,
  setEnvironmentData: () => {},
  markAsUntransferable: () => {},
  receiveMessageOnPort: () => undefined,
};

module.exports = {
  child_process,
  http2,
  tty,
  async_hooks,
  diagnostics_channel,
  perf_hooks,
  punycode,
  worker_threads,
  get process() {
    return globalThis.process;
  },
};
