/**
 * The first code that runs in every fresh context. It is never called in the worker's own
 * realm: the worker compiles its source text (`Function.prototype.toString`) once and runs it
 * in each new context, so it may reference nothing but the context's own ECMAScript globals and
 * its parameter. Anything it needed from outside would drag a host-realm object in.
 *
 * What it builds, inside the context, over the host functions it receives (primitives in,
 * primitives out):
 * - `console`, timers, `queueMicrotask`, `process` (with `process.env` = the secrets),
 *   `require` (allow-list), `global`, and the `bridge` the runtime prelude installs fetch etc. on;
 * - the HubSpot (`exports.main`, async or callback) and JsWorkflows (`class Workflow`) calling
 *   conventions, whose results leave as one JSON string;
 * - accounting of memory allocated outside the V8 heap (array buffers), which the worker's
 *   heap limit does not see.
 *
 * Why the host functions are wrapped: a host function handed to the context would expose the
 * host realm (`fn.constructor` is the host's `Function`), and a host error thrown through it
 * (say a RangeError from a stack overflow inside the host function) would too. Each one is
 * captured in this closure, called only from a context-realm wrapper that coerces arguments to
 * primitives and swallows whatever is thrown, and the parameter object is dropped before any
 * user code runs.
 */

/** Host functions given to the bootstrap. Primitives only, in both directions. */
export interface HostBridge {
  log: (level: string, message: string) => void;
  /** Starts a host timer; false when the execution has too many. `delayMs` -1 = setImmediate. */
  timerSet: (id: number, delayMs: number, repeat: boolean) => boolean;
  timerClear: (id: number) => void;
  /** Starts a request; the response (or error) comes back as `dispatch('fetch', id, json)`. */
  fetch: (id: number, requestJson: string) => void;
  /** Asks for an OAuth token; false when refused at once. Answer: `dispatch('oauth', id, json)`. */
  oauth: (id: number, handle: string) => boolean;
  randomBytes: (size: number) => string;
  now: () => number;
  /**
   * Runs the named library's compiled factory in this context and hands it to `provideModule`:
   * an allow-listed name for `require`, or an internal `codestep:` name for the prelude.
   */
  loadModule: (name: string) => boolean;
  /** The execution's outcome, or a step towards it (see `SettleKind` in the worker). */
  settle: (kind: string, payloadJson: string) => void;
  memoryExceeded: () => void;
  /** Off-heap allocation budget of the execution, bytes. */
  externalLimitBytes: number;
  /** JSON array of the module names `require` accepts (never an internal `codestep:` name). */
  modulesJson: string;
  nodeVersion: string;
}

/** What the bootstrap hands back to the worker: context-realm functions, called with primitives. */
export interface ContextApi {
  /** Calls the prelude's `install(global, bridge)`; returns '' or an error message. */
  installPrelude: (install: unknown) => string;
  provideModule: (name: string, factory: unknown) => void;
  /** Runs the action. `factory` is the compiled CommonJS wrapper of the user's code. */
  start: (configJson: string, inputJson: string, headersJson: string, factory: unknown) => void;
  /** Delivers a timer tick, a fetch response or an OAuth answer. */
  dispatch: (kind: string, id: number, payload: string) => void;
  /** Formats a value (an unhandled rejection reason) as a JSON error description. */
  describeError: (reason: unknown) => string;
  /** A context-realm Error, for failures the host must raise inside the context. */
  makeError: (message: string) => unknown;
  /** Marks the execution finished: later calls from this context are ignored. */
  end: () => void;
}

export function contextBootstrap(hostBridge: HostBridge): ContextApi {
  'use strict';
  const G = globalThis as unknown as Record<string, unknown>;

  // Host functions, taken out of the host object now; `hostBridge` is dropped right after.
  const hLog = hostBridge.log;
  const hTimerSet = hostBridge.timerSet;
  const hTimerClear = hostBridge.timerClear;
  const hFetch = hostBridge.fetch;
  const hOauth = hostBridge.oauth;
  const hRandomBytes = hostBridge.randomBytes;
  const hNow = hostBridge.now;
  const hLoadModule = hostBridge.loadModule;
  const hSettle = hostBridge.settle;
  const hMemoryExceeded = hostBridge.memoryExceeded;
  const externalLimit = typeof hostBridge.externalLimitBytes === 'number' ? hostBridge.externalLimitBytes : 0;
  const modulesJson = String(hostBridge.modulesJson);
  const nodeVersion = String(hostBridge.nodeVersion);
  hostBridge = undefined as unknown as HostBridge;

  // Intrinsics, captured before user code can replace them.
  const ObjectCtor = Object;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const objectKeys = Object.keys;
  const objectCreate = Object.create;
  const objectFreeze = Object.freeze;
  const setPrototypeOf = Object.setPrototypeOf;
  const ObjectPrototype = Object.prototype;
  const isArray = Array.isArray;
  const arrayFrom = Array.from;
  const jsonParse = JSON.parse;
  const jsonStringify = JSON.stringify;
  const reflectApply = Reflect.apply;
  const reflectConstruct = Reflect.construct;
  const StringCtor = String;
  const NumberCtor = Number;
  const ErrorCtor = Error;
  const TypeErrorCtor = TypeError;
  const RangeErrorCtor = RangeError;
  const ProxyCtor = Proxy;
  const MapCtor = Map;
  const WeakMapCtor = WeakMap;
  const SetCtor = Set;
  const PromiseCtor = Promise;
  const FinalizationRegistryCtor = FinalizationRegistry;
  const mathMin = Math.min;
  const mathFloor = Math.floor;
  const promiseResolve = (value: unknown): Promise<unknown> => reflectApply(Promise.resolve, PromiseCtor, [value]) as Promise<unknown>;
  const promiseThen = Promise.prototype.then;
  const then = (p: Promise<unknown>, onOk: (v: unknown) => void, onErr: (e: unknown) => void): void => {
    void reflectApply(promiseThen, p, [onOk, onErr]);
  };
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const mapHas = Map.prototype.has;
  const mapDelete = Map.prototype.delete;
  const weakMapGet = WeakMap.prototype.get;
  const weakMapSet = WeakMap.prototype.set;
  const setHas = Set.prototype.has;
  const setAdd = Set.prototype.add;
  const stringSlice = String.prototype.slice;
  const stringReplace = String.prototype.replace;
  const stringStartsWith = String.prototype.startsWith;
  const arrayJoin = Array.prototype.join;
  const arrayMap = Array.prototype.map;
  const dateToISOString = Date.prototype.toISOString;
  const dateGetTime = Date.prototype.getTime;
  const regExpToString = RegExp.prototype.toString;
  const symbolToString = Symbol.prototype.toString;
  const functionToString = Function.prototype.toString;
  const errorCaptureStackTrace = (Error as unknown as { captureStackTrace?: unknown }).captureStackTrace;
  const get = <V>(m: Map<unknown, V>, k: unknown): V | undefined => reflectApply(mapGet, m, [k]) as V | undefined;
  const put = (m: Map<unknown, unknown>, k: unknown, v: unknown): void => {
    reflectApply(mapSet, m, [k, v]);
  };
  const has = (m: Map<unknown, unknown>, k: unknown): boolean => reflectApply(mapHas, m, [k]) as boolean;
  const del = (m: Map<unknown, unknown>, k: unknown): boolean => reflectApply(mapDelete, m, [k]) as boolean;
  const slice = (s: string, a: number, b?: number): string => reflectApply(stringSlice, s, b === undefined ? [a] : [a, b]) as string;
  const join = (a: unknown[], sep: string): string => reflectApply(arrayJoin, a, [sep]) as string;

  let ended = false;

  // Objects with many properties are written as `{ __proto__: null, ... }` literals and given
  // their ordinary prototype afterwards: V8 builds a null-prototype literal as a dictionary in
  // one step, where an ordinary literal would create one hidden class per property in this new
  // context (tens of microseconds for `process` alone, paid by every execution).
  const ordinary = <T extends object>(dictionary: T): T => setPrototypeOf(dictionary, ObjectPrototype) as T;

  // Every call into the host goes through one of these: primitives in, never a throw out.
  const callHost = (fn: (...args: never[]) => unknown, a?: unknown, b?: unknown, c?: unknown): unknown => {
    if (ended) return undefined;
    try {
      const result = (fn as (x: unknown, y: unknown, z: unknown) => unknown)(a, b, c);
      const type = typeof result;
      return type === 'string' || type === 'number' || type === 'boolean' ? result : undefined;
    } catch {
      return undefined;
    }
  };
  const settle = (kind: string, payload: unknown): void => {
    let json: string;
    try {
      json = jsonStringify(payload) as string;
    } catch {
      json = '{}';
    }
    callHost(hSettle, kind, typeof json === 'string' ? json : '{}');
  };

  // Errors the platform raises inside the context, recognised later by identity (not by shape).
  const platformErrors = new WeakMapCtor<object, string>();
  const platformError = (Ctor: ErrorConstructor, code: string, message: string): Error => {
    const error = new Ctor(message);
    defineProperty(error, 'code', { value: code, enumerable: true, configurable: true, writable: true });
    reflectApply(weakMapSet, platformErrors, [error, code]);
    return error;
  };

  const safeString = (value: unknown): string => {
    try {
      return StringCtor(value);
    } catch {
      return '[unprintable]';
    }
  };
  const readProperty = (object: unknown, key: string): unknown => {
    try {
      return (object as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  };
  const isObjectLike = (value: unknown): value is object => (typeof value === 'object' && value !== null) || typeof value === 'function';

  /** A thrown value, as a plain description the host can read. */
  const describeThrown = (thrown: unknown): { name: string; message: string; stack: string; code: string } => {
    if (isObjectLike(thrown)) {
      const platformCode = reflectApply(weakMapGet, platformErrors, [thrown]) as string | undefined;
      const name = readProperty(thrown, 'name');
      const message = readProperty(thrown, 'message');
      const stack = readProperty(thrown, 'stack');
      return {
        name: typeof name === 'string' ? name : 'Error',
        message: typeof message === 'string' ? message : safeString(thrown),
        stack: typeof stack === 'string' ? slice(stack, 0, 8192) : '',
        code: platformCode ?? '',
      };
    }
    return { name: 'Error', message: typeof thrown === 'symbol' ? reflectApply(symbolToString, thrown, []) as string : safeString(thrown), stack: '', code: '' };
  };
  const reportUncaught = (thrown: unknown, where: string): void => {
    const d = describeThrown(thrown);
    settle('uncaught', { name: d.name, message: d.message, stack: d.stack, code: d.code, where });
  };

  // ---- console -------------------------------------------------------------------------
  const MAX_FORMATTED = 16 * 1024;
  const quote = (s: string): string => `'${reflectApply(stringReplace, s, [/'/g, "\\'"]) as string}'`;
  const inspect = (value: unknown, depth: number, seen: unknown[], nested: boolean): string => {
    switch (typeof value) {
      case 'string':
        return nested ? quote(value.length > 1000 ? slice(value, 0, 1000) + '…' : value) : value;
      case 'number':
        return value === 0 && 1 / value < 0 ? '-0' : StringCtor(value);
      case 'bigint':
        return `${StringCtor(value)}n`;
      case 'symbol':
        return reflectApply(symbolToString, value, []) as string;
      case 'undefined':
        return 'undefined';
      case 'boolean':
        return value ? 'true' : 'false';
      case 'function': {
        let source = '';
        try {
          source = reflectApply(functionToString, value, []) as string;
        } catch {
          // a Proxy of a function: fine, it prints as a function
        }
        const name = readProperty(value, 'name');
        const label = typeof name === 'string' && name !== '' ? `: ${name}` : ' (anonymous)';
        return reflectApply(stringStartsWith, source, ['class']) ? `[class${label === ' (anonymous)' ? ' (anonymous)' : ' ' + (name as string)}]` : `[Function${label}]`;
      }
    }
    if (value === null) return 'null';
    const object = value as Record<string, unknown>;
    for (let i = 0; i < seen.length; i++) if (seen[i] === object) return '[Circular]';
    try {
      if (object instanceof ErrorCtor || (isObjectLike(object) && typeof readProperty(object, 'stack') === 'string' && typeof readProperty(object, 'message') === 'string')) {
        const stack = readProperty(object, 'stack');
        if (typeof stack === 'string') return stack;
        return `${safeString(readProperty(object, 'name'))}: ${safeString(readProperty(object, 'message'))}`;
      }
      if (object instanceof Date) {
        const time = reflectApply(dateGetTime, object, []) as number;
        return time === time ? (reflectApply(dateToISOString, object, []) as string) : 'Invalid Date';
      }
      if (object instanceof RegExp) return reflectApply(regExpToString, object, []) as string;
      if (depth > 2) return isArray(object) ? '[Array]' : '[Object]';
      seen[seen.length] = object;
      let out: string;
      if (isArray(object)) {
        const parts: string[] = [];
        const length = object.length;
        const shown = mathMin(length, 100);
        for (let i = 0; i < shown; i++) parts[parts.length] = inspect(object[i], depth + 1, seen, true);
        if (length > shown) parts[parts.length] = `... ${length - shown} more items`;
        out = parts.length === 0 ? '[]' : `[ ${join(parts, ', ')} ]`;
      } else if (object instanceof MapCtor) {
        const parts: string[] = [];
        (object as unknown as Map<unknown, unknown>).forEach((v, k) => {
          if (parts.length < 100) parts[parts.length] = `${inspect(k, depth + 1, seen, true)} => ${inspect(v, depth + 1, seen, true)}`;
        });
        out = `Map(${(object as unknown as Map<unknown, unknown>).size}) {${parts.length ? ' ' + join(parts, ', ') + ' ' : ''}}`;
      } else if (object instanceof SetCtor) {
        const parts: string[] = [];
        (object as unknown as Set<unknown>).forEach((v) => {
          if (parts.length < 100) parts[parts.length] = inspect(v, depth + 1, seen, true);
        });
        out = `Set(${(object as unknown as Set<unknown>).size}) {${parts.length ? ' ' + join(parts, ', ') + ' ' : ''}}`;
      } else if (object instanceof PromiseCtor) {
        out = 'Promise { <pending or settled> }';
      } else {
        const keys = objectKeys(object);
        const parts: string[] = [];
        const shown = mathMin(keys.length, 100);
        let length = 0;
        for (let i = 0; i < shown && length < MAX_FORMATTED; i++) {
          const key = keys[i] as string;
          const shownKey = /^[A-Za-z_$][\w$]*$/.test(key) ? key : quote(key);
          const part = `${shownKey}: ${inspect(object[key], depth + 1, seen, true)}`;
          length += part.length;
          parts[parts.length] = part;
        }
        if (keys.length > shown) parts[parts.length] = `... ${keys.length - shown} more properties`;
        const proto = getPrototypeOf(object) as { constructor?: { name?: unknown } } | null;
        const ctorName = proto === null ? '[Object: null prototype] ' : readProperty(readProperty(proto, 'constructor'), 'name');
        const prefix = typeof ctorName === 'string' && ctorName !== 'Object' && ctorName !== '' ? (ctorName[0] === '[' ? ctorName : `${ctorName} `) : '';
        out = parts.length === 0 ? `${prefix}{}` : `${prefix}{ ${join(parts, ', ')} }`;
      }
      seen.length = seen.length - 1;
      return out;
    } catch {
      return '[object]';
    }
  };
  const format = (args: unknown[]): string => {
    let first = args.length > 0 ? args[0] : '';
    let rest = 1;
    let out = '';
    if (typeof first === 'string' && args.length > 1) {
      let text = '';
      let i = 0;
      while (i < first.length) {
        const ch = first[i];
        if (ch === '%' && i + 1 < first.length) {
          const spec = first[i + 1];
          if (spec === '%') {
            text += '%';
            i += 2;
            continue;
          }
          if (rest < args.length && (spec === 's' || spec === 'd' || spec === 'i' || spec === 'f' || spec === 'j' || spec === 'o' || spec === 'O' || spec === 'c')) {
            const arg = args[rest++];
            if (spec === 's') text += typeof arg === 'string' ? arg : inspect(arg, 1, [], false);
            else if (spec === 'd') text += typeof arg === 'bigint' ? `${StringCtor(arg)}n` : StringCtor(NumberCtor(arg));
            else if (spec === 'i') text += StringCtor(mathFloor(NumberCtor(arg)));
            else if (spec === 'f') text += StringCtor(NumberCtor(arg));
            else if (spec === 'j') {
              try {
                text += jsonStringify(arg);
              } catch {
                text += '[Circular]';
              }
            } else if (spec !== 'c') text += inspect(arg, 0, [], true);
            i += 2;
            continue;
          }
        }
        text += ch;
        i++;
        if (text.length > MAX_FORMATTED) break;
      }
      first = text;
      out = text;
    } else {
      out = inspect(first, 0, [], false);
    }
    for (let i = rest; i < args.length && out.length < MAX_FORMATTED; i++) {
      const arg = args[i];
      out += ' ' + (typeof arg === 'string' ? arg : inspect(arg, 0, [], false));
    }
    return out.length > MAX_FORMATTED ? slice(out, 0, MAX_FORMATTED) : out;
  };
  const emit = (level: string, args: unknown[]): void => {
    let text: string;
    try {
      text = format(args);
    } catch {
      text = '[unprintable]';
    }
    callHost(hLog, level, typeof text === 'string' ? text : '[unprintable]');
  };
  const counters = new MapCtor<string, number>();
  const timersByLabel = new MapCtor<string, number>();
  const consoleObject = ordinary({
    __proto__: null,
    log: (...args: unknown[]) => emit('log', args),
    info: (...args: unknown[]) => emit('info', args),
    warn: (...args: unknown[]) => emit('warn', args),
    error: (...args: unknown[]) => emit('error', args),
    debug: (...args: unknown[]) => emit('debug', args),
    trace: (...args: unknown[]) => {
      const holder: { stack?: string } = {};
      if (typeof errorCaptureStackTrace === 'function') reflectApply(errorCaptureStackTrace, ErrorCtor, [holder]);
      emit('debug', [`Trace: ${format(args)}\n${slice(safeString(holder.stack), 6)}`]);
    },
    dir: (value: unknown) => emit('log', [inspect(value, 0, [], true)]),
    table: (...args: unknown[]) => emit('log', args),
    assert: (condition: unknown, ...args: unknown[]) => {
      if (!condition) emit('error', args.length ? ['Assertion failed:', ...args] : ['Assertion failed']);
    },
    count: (label: unknown = 'default') => {
      const key = safeString(label);
      const n = (get(counters, key) ?? 0) + 1;
      put(counters, key, n);
      emit('info', [`${key}: ${n}`]);
    },
    countReset: (label: unknown = 'default') => {
      del(counters, safeString(label));
    },
    time: (label: unknown = 'default') => {
      put(timersByLabel, safeString(label), callHost(hNow) as number);
    },
    timeEnd: (label: unknown = 'default') => {
      const key = safeString(label);
      const started = get(timersByLabel, key);
      if (started === undefined) return;
      del(timersByLabel, key);
      emit('info', [`${key}: ${((callHost(hNow) as number) - started).toFixed(3)}ms`]);
    },
    timeLog: (label: unknown = 'default', ...args: unknown[]) => {
      const key = safeString(label);
      const started = get(timersByLabel, key);
      if (started !== undefined) emit('info', [`${key}: ${((callHost(hNow) as number) - started).toFixed(3)}ms`, ...args]);
    },
    group: (...args: unknown[]) => {
      if (args.length) emit('log', args);
    },
    groupCollapsed: (...args: unknown[]) => {
      if (args.length) emit('log', args);
    },
    groupEnd: () => {},
  });

  // ---- timers --------------------------------------------------------------------------
  interface TimerEntry {
    fn: (...args: unknown[]) => unknown;
    args: unknown[];
    repeat: boolean;
  }
  const timers = new MapCtor<number, TimerEntry>();
  const handleIds = new WeakMapCtor<object, number>();
  let nextTimerId = 1;
  const TimeoutHandle = function (this: Record<string | symbol, unknown>, id: number) {
    this.id = id;
  } as unknown as new (id: number) => Record<string | symbol, unknown>;
  const timerProto = TimeoutHandle.prototype as Record<string | symbol, unknown>;
  timerProto.ref = function (this: unknown) {
    return this;
  };
  timerProto.unref = function (this: unknown) {
    return this;
  };
  timerProto.hasRef = () => true;
  timerProto.refresh = function (this: unknown) {
    return this;
  };
  timerProto.close = function (this: object) {
    clearTimer(this);
    return this;
  };
  timerProto[Symbol.toPrimitive] = function (this: object) {
    return reflectApply(weakMapGet, handleIds, [this]) as number;
  };
  const toDelay = (ms: unknown): number => {
    const n = NumberCtor(ms);
    return n >= 1 && n <= 2147483647 ? mathFloor(n) : 1;
  };
  const addTimer = (fn: unknown, ms: number, repeat: boolean, args: unknown[], what: string): object => {
    if (typeof fn !== 'function') {
      throw platformError(
        TypeErrorCtor,
        'ERR_INVALID_ARG_TYPE',
        `The "callback" argument of ${what} must be a function (code strings are not evaluated in actions)`,
      );
    }
    const id = nextTimerId++;
    if (callHost(hTimerSet, id, ms, repeat) !== true) {
      throw platformError(RangeErrorCtor, 'TOO_MANY_TIMERS', `${what}: too many active timers in this execution`);
    }
    put(timers, id, { fn: fn as TimerEntry['fn'], args, repeat });
    const handle = new TimeoutHandle(id);
    reflectApply(weakMapSet, handleIds, [handle, id]);
    return handle;
  };
  const clearTimer = (handle: unknown): void => {
    let id: unknown;
    if (isObjectLike(handle)) id = reflectApply(weakMapGet, handleIds, [handle]);
    else if (typeof handle === 'number' || typeof handle === 'string') id = NumberCtor(handle);
    if (typeof id !== 'number' || !has(timers, id)) return;
    del(timers, id);
    callHost(hTimerClear, id);
  };
  const timerFunctions = {
    setTimeout: (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, toDelay(ms), false, args, 'setTimeout'),
    setInterval: (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, toDelay(ms), true, args, 'setInterval'),
    setImmediate: (fn: unknown, ...args: unknown[]) => addTimer(fn, -1, false, args, 'setImmediate'),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    clearImmediate: clearTimer,
    queueMicrotask: (fn: unknown) => {
      if (typeof fn !== 'function') throw platformError(TypeErrorCtor, 'ERR_INVALID_ARG_TYPE', 'queueMicrotask needs a function');
      then(promiseResolve(undefined), () => {
        try {
          (fn as () => void)();
        } catch (error) {
          reportUncaught(error, 'queueMicrotask callback');
        }
      }, () => {});
    },
  };

  // ---- off-heap memory accounting ------------------------------------------------------
  // The worker's heap limit does not count array buffer memory, so every way the context can
  // allocate one goes through a check against the execution's budget. Frees are credited back
  // when the garbage collector reclaims the buffer.
  let externalBytes = 0;
  const credit = new FinalizationRegistryCtor<number>((bytes) => {
    externalBytes -= bytes;
  });
  const charge = (bytes: number): void => {
    if (!(bytes > 0)) return;
    if (externalLimit > 0 && externalBytes + bytes > externalLimit) {
      callHost(hMemoryExceeded);
      throw platformError(RangeErrorCtor, 'MEMORY_LIMIT', 'Array buffer allocation failed: the execution would exceed its memory limit');
    }
    externalBytes += bytes;
  };
  const track = <T extends object>(object: T, bytes: number): T => {
    if (bytes > 0) credit.register(object, bytes);
    return object;
  };
  const toIndex = (value: unknown): number => {
    const n = NumberCtor(value);
    return n > 0 ? mathFloor(n) : 0;
  };
  const abByteLength = (getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength') as PropertyDescriptor).get as () => number;
  const sabByteLength = (getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength') as PropertyDescriptor).get as () => number;
  const TypedArrayProto = getPrototypeOf(Uint8Array.prototype) as object;
  const taLength = (getOwnPropertyDescriptor(TypedArrayProto, 'length') as PropertyDescriptor).get as () => number;
  const taByteLength = (getOwnPropertyDescriptor(TypedArrayProto, 'byteLength') as PropertyDescriptor).get as () => number;
  const probe = (getter: () => number, value: unknown): number => {
    try {
      return reflectApply(getter, value, []) as number;
    } catch {
      return -1;
    }
  };
  // Proxy handlers have a null prototype, so no trap can be added through Object.prototype.
  const bufferHandler: ProxyHandler<new (...args: unknown[]) => object> = {
    __proto__: null,
    construct(target, args, newTarget) {
      const length = toIndex(args[0]);
      const options = args[1];
      const max = isObjectLike(options) ? toIndex(readProperty(options, 'maxByteLength')) : 0;
      const bytes = max > length ? max : length;
      charge(bytes);
      const made = reflectConstruct(target, max > 0 ? [length, { maxByteLength: max }] : [length], newTarget) as object;
      return track(made, bytes);
    },
  } as ProxyHandler<new (...args: unknown[]) => object>;
  /** Element size of each typed-array constructor (the handler below is shared by all of them). */
  const elementSizes = new MapCtor<unknown, number>();
  const typedArrayHandler: ProxyHandler<new (...args: unknown[]) => object> = {
    __proto__: null,
    construct(target, args, newTarget) {
      const size = get(elementSizes, target) ?? 8;
      const first = args[0];
      if (!isObjectLike(first)) {
        const length = toIndex(first);
        charge(length * size);
        return track(reflectConstruct(target, [length], newTarget) as object, length * size);
      }
      if (probe(abByteLength, first) >= 0 || probe(sabByteLength, first) >= 0) {
        return reflectConstruct(target, args, newTarget) as object; // a view: no new memory
      }
      const viewLength = probe(taLength, first);
      if (viewLength >= 0) {
        charge(viewLength * size);
        return track(reflectConstruct(target, [first], newTarget) as object, viewLength * size);
      }
      // Array-likes and iterables are materialised on the heap first (where the heap limit
      // applies), so a lying `length` cannot size the buffer.
      const items = arrayFrom(first as ArrayLike<unknown>);
      charge(items.length * size);
      return track(reflectConstruct(target, [items], newTarget) as object, items.length * size);
    },
  } as ProxyHandler<new (...args: unknown[]) => object>;
  const wrapConstructor = (name: string, Target: new (...args: unknown[]) => object, handler: ProxyHandler<new (...args: unknown[]) => object>): void => {
    const wrapped = new ProxyCtor(Target, handler);
    (Target.prototype as Record<string, unknown>).constructor = wrapped;
    G[name] = wrapped;
  };
  /** Calls a buffer-making built-in after charging the bytes its result will hold. */
  const chargedCall = (original: unknown, bytes: number, self: unknown, args: unknown[]): unknown => {
    charge(bytes);
    const made = reflectApply(original as (...a: unknown[]) => unknown, self, args);
    return isObjectLike(made) ? track(made, bytes) : made;
  };
  /** Replaces built-in methods (those this V8 has) by the same-named methods of `methods`, non-enumerable as built-ins are. */
  const replaceMethods = (proto: object, methods: Record<string, unknown>): void => {
    const names = objectKeys(methods);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if (typeof (proto as Record<string, unknown>)[name] !== 'function') continue;
      defineProperty(proto, name, { value: methods[name], writable: true, configurable: true, enumerable: false });
    }
  };

  // ---- require ---------------------------------------------------------------------------
  let allowedModules: string[] = [];
  try {
    const parsed = jsonParse(modulesJson) as unknown;
    if (isArray(parsed)) allowedModules = parsed as string[];
  } catch {
    allowedModules = [];
  }
  const allowed = new SetCtor<string>();
  for (let i = 0; i < allowedModules.length; i++) reflectApply(setAdd, allowed, [allowedModules[i]]);
  const factories = new MapCtor<string, (module: unknown, exports: unknown, require: unknown) => void>();
  const loaded = new MapCtor<string, { exports: unknown; id: string; loaded: boolean }>();
  const requireModule = function require(name: unknown): unknown {
    if (typeof name !== 'string') throw platformError(TypeErrorCtor, 'ERR_INVALID_ARG_TYPE', 'require() needs a module name string');
    const id = reflectApply(stringStartsWith, name, ['node:']) ? slice(name, 5) : name;
    const cached = get(loaded, id);
    if (cached) return cached.exports;
    if (!(reflectApply(setHas, allowed, [id]) as boolean)) {
      throw platformError(
        ErrorCtor,
        'MODULE_NOT_ALLOWED',
        `Cannot require "${name}": it is not available to actions. Available modules: ${join(allowedModules, ', ') || '(none)'}`,
      );
    }
    if (!has(factories, id) && callHost(hLoadModule, id) !== true) {
      throw platformError(ErrorCtor, 'MODULE_LOAD_FAILED', `Cannot require "${name}": the module failed to load`);
    }
    const factory = get(factories, id);
    if (typeof factory !== 'function') throw platformError(ErrorCtor, 'MODULE_LOAD_FAILED', `Cannot require "${name}": the module failed to load`);
    const module = { exports: {} as unknown, id, loaded: false };
    put(loaded, id, module);
    try {
      reflectApply(factory, module.exports, [module, module.exports, requireModule]);
    } catch (error) {
      del(loaded, id);
      throw error;
    }
    module.loaded = true;
    return module.exports;
  } as ((name: unknown) => unknown) & Record<string, unknown>;
  // Bundlers may rename the function expression; code that looks at the name sees Node's.
  defineProperty(requireModule, 'name', { value: 'require', configurable: true });
  requireModule.resolve = (name: unknown) => safeString(name);
  requireModule.cache = objectCreate(null);

  // ---- process -----------------------------------------------------------------------------
  const noop = function (this: unknown) {
    return this;
  };
  const env: Record<string, string> = {};
  const hrtime = (previous?: unknown): [number, number] => {
    const ms = callHost(hNow) as number;
    let seconds = mathFloor(ms / 1000);
    let nanos = mathFloor((ms - seconds * 1000) * 1e6);
    if (isArray(previous) && previous.length === 2) {
      seconds -= NumberCtor(previous[0]);
      nanos -= NumberCtor(previous[1]);
      if (nanos < 0) {
        seconds -= 1;
        nanos += 1e9;
      }
    }
    return [seconds, nanos];
  };
  (hrtime as unknown as Record<string, unknown>).bigint = () => BigInt(mathFloor((callHost(hNow) as number) * 1e6));
  const startedAt = callHost(hNow) as number;
  const processObject = ordinary({
    __proto__: null,
    env,
    argv: ['/usr/local/bin/node', '/action/index.js'],
    argv0: 'node',
    execArgv: [] as string[],
    execPath: '/usr/local/bin/node',
    version: `v${nodeVersion}`,
    versions: { node: nodeVersion },
    release: { name: 'node' },
    platform: 'linux',
    arch: 'x64',
    pid: 1,
    ppid: 0,
    title: 'node',
    exitCode: undefined as number | undefined,
    features: {},
    config: { variables: {} },
    stdout: { write: (chunk: unknown) => (emit('log', [safeString(chunk)]), true), isTTY: false },
    stderr: { write: (chunk: unknown) => (emit('error', [safeString(chunk)]), true), isTTY: false },
    cwd: () => '/action',
    chdir: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.chdir() is not available in actions');
    },
    umask: () => 0o22,
    uptime: () => ((callHost(hNow) as number) - startedAt) / 1000,
    hrtime,
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: externalBytes, arrayBuffers: externalBytes }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    exit: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.exit() is not available in actions: return from main (or call callback) instead');
    },
    abort: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.abort() is not available in actions');
    },
    kill: () => {
      throw platformError(ErrorCtor, 'ERR_NOT_AVAILABLE', 'process.kill() is not available in actions');
    },
    nextTick: (fn: unknown, ...args: unknown[]) => {
      if (typeof fn !== 'function') throw platformError(TypeErrorCtor, 'ERR_INVALID_ARG_TYPE', 'process.nextTick needs a function');
      then(promiseResolve(undefined), () => {
        try {
          reflectApply(fn as (...a: unknown[]) => unknown, undefined, args);
        } catch (error) {
          reportUncaught(error, 'process.nextTick callback');
        }
      }, () => {});
    },
    emitWarning: (warning: unknown) => emit('warn', [`Warning: ${isObjectLike(warning) ? safeString(readProperty(warning, 'message')) : safeString(warning)}`]),
    on: noop,
    once: noop,
    off: noop,
    addListener: noop,
    removeListener: noop,
    removeAllListeners: noop,
    prependListener: noop,
    setMaxListeners: noop,
    emit: () => false,
    listeners: () => [],
    listenerCount: () => 0,
  });

  // ---- the context's globals -----------------------------------------------------------------
  const defineGlobal = (name: string, value: unknown): void => {
    defineProperty(G, name, { value, writable: true, configurable: true, enumerable: false });
  };
  defineGlobal('global', G);
  defineGlobal('console', consoleObject);
  defineGlobal('process', processObject);
  for (const key of objectKeys(timerFunctions)) defineGlobal(key, (timerFunctions as Record<string, unknown>)[key]);
  // Nothing useful is left of WebAssembly with wasm code generation off, and its Memory and
  // Atomics.waitAsync would allocate or schedule work outside the accounting above.
  delete G.WebAssembly;
  delete (Atomics as unknown as Record<string, unknown>).waitAsync;
  wrapConstructor('ArrayBuffer', ArrayBuffer as unknown as new (...args: unknown[]) => object, bufferHandler);
  wrapConstructor('SharedArrayBuffer', SharedArrayBuffer as unknown as new (...args: unknown[]) => object, bufferHandler);
  const typedArrays: Array<[string, unknown]> = [
    ['Int8Array', Int8Array], ['Uint8Array', Uint8Array], ['Uint8ClampedArray', Uint8ClampedArray], ['Int16Array', Int16Array],
    ['Uint16Array', Uint16Array], ['Int32Array', Int32Array], ['Uint32Array', Uint32Array], ['Float16Array', G.Float16Array],
    ['Float32Array', Float32Array], ['Float64Array', Float64Array], ['BigInt64Array', BigInt64Array], ['BigUint64Array', BigUint64Array],
  ];
  for (let i = 0; i < typedArrays.length; i++) {
    const entry = typedArrays[i] as [string, unknown];
    const name = entry[0];
    const Target = entry[1];
    if (typeof Target !== 'function') continue;
    put(elementSizes, Target, (Target as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
    wrapConstructor(name, Target as new (...args: unknown[]) => object, typedArrayHandler);
  }
  const selfBytes = (self: unknown): number => {
    const n = probe(taByteLength, self);
    return n > 0 ? n : 0;
  };
  const argBytes = (args: unknown[]): number => (args[0] === undefined ? 0 : toIndex(args[0]));
  // Methods (not arrows): like the built-ins they replace, they are not constructors.
  const ta = TypedArrayProto as Record<string, unknown>;
  const taSlice = ta.slice, taMap = ta.map, taFilter = ta.filter, taToReversed = ta.toReversed, taToSorted = ta.toSorted, taWith = ta.with;
  replaceMethods(TypedArrayProto, {
    __proto__: null,
    slice(...args: unknown[]) { return chargedCall(taSlice, selfBytes(this), this, args); },
    map(...args: unknown[]) { return chargedCall(taMap, selfBytes(this), this, args); },
    filter(...args: unknown[]) { return chargedCall(taFilter, selfBytes(this), this, args); },
    toReversed(...args: unknown[]) { return chargedCall(taToReversed, selfBytes(this), this, args); },
    toSorted(...args: unknown[]) { return chargedCall(taToSorted, selfBytes(this), this, args); },
    with(...args: unknown[]) { return chargedCall(taWith, selfBytes(this), this, args); },
  } as Record<string, unknown>);
  const ab = ArrayBuffer.prototype as unknown as Record<string, unknown>;
  const abSlice = ab.slice, abTransfer = ab.transfer, abTransferToFixedLength = ab.transferToFixedLength;
  replaceMethods(ArrayBuffer.prototype, {
    __proto__: null,
    slice(...args: unknown[]) {
      const n = probe(abByteLength, this);
      return chargedCall(abSlice, n > 0 ? n : 0, this, args);
    },
    transfer(...args: unknown[]) { return chargedCall(abTransfer, argBytes(args), this, args); },
    transferToFixedLength(...args: unknown[]) { return chargedCall(abTransferToFixedLength, argBytes(args), this, args); },
  } as Record<string, unknown>);
  // FinalizationRegistry callbacks run whenever the collector decides, possibly while the
  // worker runs a later execution: they are disarmed once this execution ends.
  const guardedRegistry = new ProxyCtor(FinalizationRegistryCtor, {
    __proto__: null,
    construct(target, args, newTarget) {
      const cleanup = args[0];
      const guarded =
        typeof cleanup === 'function'
          ? (held: unknown) => {
              if (ended) return;
              try {
                (cleanup as (h: unknown) => void)(held);
              } catch (error) {
                reportUncaught(error, 'FinalizationRegistry callback');
              }
            }
          : cleanup;
      return reflectConstruct(target, [guarded], newTarget) as object;
    },
  } as ProxyHandler<FinalizationRegistryConstructor>);
  (FinalizationRegistryCtor.prototype as unknown as Record<string, unknown>).constructor = guardedRegistry;
  G.FinalizationRegistry = guardedRegistry;

  // ---- asynchronous work routed through the host ---------------------------------------------
  const fetchCallbacks = new MapCtor<number, (responseJson: string) => void>();
  const oauthCallbacks = new MapCtor<number, (value: unknown) => void>();
  let nextFetchId = 1;
  let nextOauthId = 1;
  const preludeBridge = objectFreeze({
    fetch: (requestJson: unknown, onDone: unknown): void => {
      if (typeof onDone !== 'function') return;
      const id = nextFetchId++;
      put(fetchCallbacks, id, onDone as (responseJson: string) => void);
      callHost(hFetch, id, typeof requestJson === 'string' ? requestJson : safeString(requestJson));
    },
    randomBytes: (size: unknown): string => {
      const result = callHost(hRandomBytes, toIndex(size));
      return typeof result === 'string' ? result : '';
    },
    now: (): number => {
      const result = callHost(hNow);
      return typeof result === 'number' ? result : 0;
    },
    // The runtime's internal modules (`codestep:` names, which `require` refuses since they are
    // not in `allowed`): the prelude loads the web runtime this way on a context's first use of
    // it. Returns the module function the host's `loadModule` produced by running the module's
    // script in this context and handed to `provideModule`: a function of this realm, never a
    // host object (only typeof-checked values of `factories` can come out, and only the worker's
    // `runInContext` puts them there), or undefined.
    loadModule: (name: unknown): unknown => {
      if (typeof name !== 'string' || !reflectApply(stringStartsWith, name, ['codestep:']) || (reflectApply(setHas, allowed, [name]) as boolean)) return undefined;
      if (!has(factories, name) && callHost(hLoadModule, name) !== true) return undefined;
      const factory = get(factories, name);
      return typeof factory === 'function' ? factory : undefined;
    },
  });
  const getOAuthToken = (handle: unknown): Promise<unknown> =>
    new PromiseCtor((resolve) => {
      if (typeof handle !== 'string' || handle === '') {
        resolve(objectFreeze({ token: null, error: 'getOAuthToken needs a connection handle (a non-empty string)' }));
        return;
      }
      const id = nextOauthId++;
      put(oauthCallbacks, id, resolve);
      if (callHost(hOauth, id, handle) !== true) {
        del(oauthCallbacks, id);
        resolve(objectFreeze({ token: null, error: 'Too many OAuth token requests from this execution' }));
      }
    });

  // ---- running the action ------------------------------------------------------------------------
  let settled = false;
  let callbackCalled = false;
  let runtime = 'hubspot';
  const fail = (thrown: unknown): void => {
    if (settled) return;
    settled = true;
    const d = describeThrown(thrown);
    settle('fail', { name: d.name, message: d.message, stack: d.stack, code: d.code });
  };
  const serialise = (value: unknown): unknown => {
    if (runtime === 'jsworkflows') return value === undefined ? {} : { returnValue: value };
    if (!isObjectLike(value)) return { notAnObject: value === null ? 'null' : typeof value };
    return { outputFields: readProperty(value, 'outputFields') };
  };
  const deliver = (kind: 'complete' | 'callback', value: unknown): void => {
    let json: unknown;
    try {
      json = jsonStringify(serialise(value));
    } catch (error) {
      settled = true;
      const d = describeThrown(error);
      settle('unserialisable', { message: `${d.name}: ${d.message}` });
      return;
    }
    callHost(hSettle, kind, typeof json === 'string' ? json : '{}');
  };
  const isThenable = (value: unknown): boolean => isObjectLike(value) && typeof readProperty(value, 'then') === 'function';

  const start = (configJson: string, inputJson: string, headersJson: string, factory: unknown): void => {
    const config = jsonParse(configJson) as { runtime: string; env: Record<string, string> };
    runtime = config.runtime;
    const secretNames = objectKeys(config.env);
    for (let i = 0; i < secretNames.length; i++) {
      const name = secretNames[i] as string;
      env[name] = config.env[name] as string;
    }
    const module = { exports: {} as Record<string, unknown>, id: '.', filename: '/action/index.js', loaded: false, children: [], paths: [] };
    (module as Record<string, unknown>).require = requireModule;
    if (typeof factory !== 'function') {
      fail(platformError(ErrorCtor, 'USER_CODE_ERROR', 'The action code did not compile to a module'));
      return;
    }
    try {
      reflectApply(factory, module.exports, [module.exports, requireModule, module, '/action/index.js', '/action']);
      module.loaded = true;
    } catch (error) {
      fail(error);
      return;
    }
    const exported = module.exports;
    if (runtime === 'jsworkflows') {
      const Workflow = readProperty(exported, 'Workflow') ?? readProperty(exported, 'default');
      if (typeof Workflow !== 'function') {
        fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', 'The workflow must export a class named Workflow (export class Workflow { async start(data, headers, api) {} })'));
        return;
      }
      let result: unknown;
      try {
        const instance = reflectConstruct(Workflow as new () => object, []) as Record<string, unknown>;
        const startMethod = instance.start;
        if (typeof startMethod !== 'function') {
          fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', 'The Workflow class must have a start(data, headers, api) method'));
          return;
        }
        const data = jsonParse(inputJson) as unknown;
        const headers = jsonParse(headersJson) as unknown;
        const api = objectFreeze({ getOAuthToken });
        result = reflectApply(startMethod, instance, [data, headers, api]);
      } catch (error) {
        fail(error);
        return;
      }
      then(
        promiseResolve(result),
        (value) => {
          if (settled) return;
          settled = true;
          deliver('complete', value);
        },
        fail,
      );
      return;
    }
    const main = readProperty(exported, 'main');
    if (typeof main !== 'function') {
      fail(platformError(ErrorCtor, 'NO_ENTRY_POINT', 'The action must export a function named main (exports.main = async (event) => { ... })'));
      return;
    }
    const callback = function callback(this: unknown, first: unknown, second?: unknown): void {
      if (callbackCalled || settled) {
        emit('warn', ['callback() was called more than once; only the first call counts']);
        return;
      }
      callbackCalled = true;
      // HubSpot's form is callback(result); code written for Lambda calls callback(null, result).
      const result = (first === null || first === undefined) && arguments.length > 1 ? second : first;
      if (result instanceof ErrorCtor) {
        fail(result);
        return;
      }
      deliver('callback', result);
    };
    let returned: unknown;
    try {
      const event = jsonParse(inputJson) as unknown;
      returned = reflectApply(main, exported, [event, callback]);
    } catch (error) {
      fail(error);
      return;
    }
    if (isThenable(returned)) {
      then(
        promiseResolve(returned),
        (value) => {
          if (settled || callbackCalled) return;
          if (value === undefined) {
            callHost(hSettle, 'nothing', '{}');
            return;
          }
          settled = true;
          deliver('complete', value);
        },
        (error) => {
          if (callbackCalled) return;
          fail(error);
        },
      );
    } else if (!callbackCalled && !settled) {
      if (returned === undefined) callHost(hSettle, 'nothing', '{}');
      else {
        settled = true;
        deliver('complete', returned);
      }
    }
  };

  const dispatch = (kind: string, id: number, payload: string): void => {
    if (ended) return;
    if (kind === 'timer') {
      const entry = get(timers, id);
      if (!entry) return;
      if (!entry.repeat) del(timers, id);
      try {
        reflectApply(entry.fn, undefined, entry.args);
      } catch (error) {
        reportUncaught(error, 'timer callback');
      }
    } else if (kind === 'fetch') {
      const onDone = get(fetchCallbacks, id);
      if (!onDone) return;
      del(fetchCallbacks, id);
      try {
        onDone(payload);
      } catch (error) {
        reportUncaught(error, 'fetch completion');
      }
    } else if (kind === 'oauth') {
      const resolve = get(oauthCallbacks, id);
      if (!resolve) return;
      del(oauthCallbacks, id);
      let answer: { token?: unknown; error?: unknown } = {};
      try {
        answer = jsonParse(payload) as { token?: unknown; error?: unknown };
      } catch {
        answer = { error: 'The OAuth token service sent an unreadable answer' };
      }
      const token = typeof answer.token === 'string' && answer.token !== '' ? answer.token : null;
      const error = typeof answer.error === 'string' && answer.error !== '' ? answer.error : token === null ? 'No token' : null;
      resolve(objectFreeze({ token, error }));
    }
  };

  const api: ContextApi = {
    installPrelude: (install: unknown): string => {
      if (typeof install !== 'function') return 'the runtime prelude did not evaluate to a function';
      try {
        (install as (g: unknown, b: unknown) => void)(G, preludeBridge);
        return '';
      } catch (error) {
        const d = describeThrown(error);
        return `${d.name}: ${d.message}`;
      }
    },
    provideModule: (name: string, factory: unknown): void => {
      if (typeof factory === 'function') put(factories, name, factory);
    },
    start: (configJson, inputJson, headersJson, factory) => {
      try {
        start(configJson, inputJson, headersJson, factory);
      } catch (error) {
        fail(error);
      }
    },
    dispatch: (kind, id, payload) => {
      try {
        dispatch(kind, id, payload);
      } catch {
        // dispatch catches user errors itself; nothing may cross back into the host
      }
    },
    describeError: (reason: unknown): string => {
      try {
        return jsonStringify(describeThrown(reason)) as string;
      } catch {
        return '{"name":"Error","message":"[unprintable]","stack":"","code":""}';
      }
    },
    makeError: (message: string): unknown => platformError(ErrorCtor, 'MODULE_NOT_ALLOWED', safeString(message)),
    end: (): void => {
      ended = true;
    },
  };
  // Frozen, null prototype: the worker reads nothing through it but these functions.
  return objectFreeze({
    __proto__: null,
    installPrelude: api.installPrelude,
    provideModule: api.provideModule,
    start: api.start,
    dispatch: api.dispatch,
    describeError: api.describeError,
    makeError: api.makeError,
    end: api.end,
  }) as ContextApi;
}
