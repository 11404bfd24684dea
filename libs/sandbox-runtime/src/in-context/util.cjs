'use strict';
// The parts of Node's `util` that libraries and user code reach for: format/inspect, inherits,
// promisify/callbackify, deprecate, debuglog, types, isDeepStrictEqual.

const { TextEncoder, TextDecoder } = require('./encoding.cjs');

const customInspect = Symbol.for('nodejs.util.inspect.custom');
const customPromisify = Symbol.for('nodejs.util.promisify.custom');
const tagOf = (v) => Object.prototype.toString.call(v).slice(8, -1);

function quote(s) {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function keyString(k) {
  return typeof k === 'symbol' ? `[${k.toString()}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
}

function inspect(value, opts = {}) {
  const options = typeof opts === 'object' && opts !== null ? opts : {};
  const maxDepth = options.depth === undefined ? 2 : options.depth === null ? Infinity : options.depth;
  const maxArray = options.maxArrayLength ?? 100;
  const maxString = options.maxStringLength ?? 10000;
  const seen = [];
  const fmt = (v, depth, nested) => {
    switch (typeof v) {
      case 'string': {
        const s = v.length > maxString ? v.slice(0, maxString) + `... ${v.length - maxString} more characters` : v;
        return nested ? quote(s) : s;
      }
      case 'number':
        return Object.is(v, -0) ? '-0' : String(v);
      case 'bigint':
        return `${v}n`;
      case 'undefined':
        return 'undefined';
      case 'boolean':
        return String(v);
      case 'symbol':
        return v.toString();
      case 'function': {
        const isClass = /^class[\s{]/.test(Function.prototype.toString.call(v));
        const keys = Object.keys(v);
        const base = isClass ? `[class ${v.name || '(anonymous)'}]` : `[Function: ${v.name || '(anonymous)'}]`;
        return keys.length && depth <= maxDepth ? `${base} ${objectBody(v, keys, depth)}` : base;
      }
    }
    if (v === null) return 'null';
    if (typeof v[customInspect] === 'function' && v[customInspect] !== inspect) {
      const r = v[customInspect](maxDepth - depth, { ...options, stylize: (s) => s }, inspect);
      return typeof r === 'string' ? r : fmt(r, depth, nested);
    }
    if (seen.includes(v)) return '[Circular *1]';
    const tag = tagOf(v);
    if (v instanceof Error || tag === 'Error') {
      const stack = typeof v.stack === 'string' && v.stack.length ? v.stack : `${v.name}: ${v.message}`;
      const extra = Object.keys(v).filter((k) => k !== 'stack' && k !== 'message');
      return extra.length && depth <= maxDepth ? `${stack} ${objectBody(v, extra, depth)}` : stack;
    }
    if (tag === 'Date') return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    if (tag === 'RegExp') return String(v);
    if (tag === 'Promise') return 'Promise { <unknown> }';
    if (tag === 'Boolean' || tag === 'Number' || tag === 'String') return `[${tag}: ${fmt(v.valueOf(), depth, true)}]`;
    if (depth > maxDepth) return Array.isArray(v) ? '[Array]' : `[${constructorName(v) || 'Object'}]`;
    seen.push(v);
    try {
      if (Array.isArray(v)) {
        const items = v.slice(0, maxArray).map((x) => fmt(x, depth + 1, true));
        if (v.length > maxArray) items.push(`... ${v.length - maxArray} more items`);
        return wrap(items, '[', ']');
      }
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        const name = typeof Buffer === 'function' && Buffer.isBuffer && Buffer.isBuffer(v) ? 'Buffer' : tag;
        if (name === 'Buffer') {
          const hex = Array.from(v.subarray(0, 50), (b) => b.toString(16).padStart(2, '0')).join(' ');
          return `<Buffer${hex ? ' ' + hex : ''}${v.length > 50 ? ` ... ${v.length - 50} more bytes` : ''}>`;
        }
        const items = Array.from(v.subarray(0, maxArray), (x) => fmt(x, depth + 1, true));
        if (v.length > maxArray) items.push(`... ${v.length - maxArray} more items`);
        return `${name}(${v.length}) ${wrap(items, '[', ']')}`;
      }
      if (tag === 'Map') return `Map(${v.size}) ${wrap([...v].map(([k, x]) => `${fmt(k, depth + 1, true)} => ${fmt(x, depth + 1, true)}`), '{', '}')}`;
      if (tag === 'Set') return `Set(${v.size}) ${wrap([...v].map((x) => fmt(x, depth + 1, true)), '{', '}')}`;
      const name = constructorName(v);
      const body = objectBody(v, [...Object.keys(v), ...Object.getOwnPropertySymbols(v).filter((s) => Object.prototype.propertyIsEnumerable.call(v, s))], depth);
      if (name === 'Object') return body;
      if (name === null) return `[Object: null prototype] ${body}`;
      return body === '{}' ? `${name} {}` : `${name} ${body}`;
    } finally {
      seen.pop();
    }
  };
  const objectBody = (v, keys, depth) => {
    const items = keys.map((k) => {
      const desc = Object.getOwnPropertyDescriptor(v, k);
      const shown = desc && desc.get ? (desc.set ? '[Getter/Setter]' : '[Getter]') : desc && desc.set ? '[Setter]' : fmt(v[k], depth + 1, true);
      return `${keyString(k)}: ${shown}`;
    });
    return wrap(items, '{', '}');
  };
  const wrap = (items, open, close) => {
    if (items.length === 0) return `${open}${close}`;
    const oneLine = `${open} ${items.join(', ')} ${close}`;
    if (oneLine.length <= 72 && !items.some((i) => i.includes('\n'))) return oneLine;
    return `${open}\n${items.map((i) => '  ' + i.replace(/\n/g, '\n  ')).join(',\n')}\n${close}`;
  };
  return fmt(value, 0, false);
}
inspect.custom = customInspect;
inspect.defaultOptions = { depth: 2 };

function constructorName(v) {
  const proto = Object.getPrototypeOf(v);
  if (proto === null) return null;
  const ctor = proto.constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'Object';
}

function format(first, ...args) {
  if (typeof first !== 'string') return [first, ...args].map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
  let i = 0;
  let out = first.replace(/%[sdifjoOc%]/g, (token) => {
    if (token === '%%') return '%';
    if (i >= args.length) return token;
    const a = args[i++];
    switch (token) {
      case '%s':
        return typeof a === 'string' ? a : typeof a === 'bigint' ? `${a}n` : typeof a === 'object' && a !== null ? inspect(a, { depth: 1 }) : String(a);
      case '%d':
        return typeof a === 'bigint' ? `${a}n` : typeof a === 'object' && a !== null ? 'NaN' : String(Number(a));
      case '%i':
        return typeof a === 'bigint' ? `${a}n` : String(parseInt(a, 10));
      case '%f':
        return String(parseFloat(a));
      case '%j':
        try {
          return JSON.stringify(a);
        } catch {
          return '[Circular]';
        }
      case '%o':
      case '%O':
        return inspect(a, { depth: token === '%o' ? 4 : 2 });
      case '%c':
        return '';
    }
    return token;
  });
  for (; i < args.length; i++) out += ' ' + (typeof args[i] === 'string' ? args[i] : inspect(args[i]));
  return out;
}

function inherits(ctor, superCtor) {
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

function promisify(original) {
  if (typeof original !== 'function') throw new TypeError('The "original" argument must be of type function');
  if (original[customPromisify]) return original[customPromisify];
  function fn(...args) {
    return new Promise((resolve, reject) => {
      original.call(this, ...args, (err, ...values) => (err ? reject(err) : resolve(values.length > 1 ? values : values[0])));
    });
  }
  Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
  return Object.defineProperties(fn, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

function callbackify(original) {
  return function (...args) {
    const cb = args.pop();
    original.apply(this, args).then(
      (v) => queueMicrotask(() => cb(null, v)),
      (e) => queueMicrotask(() => cb(e || Object.assign(new Error('Promise was rejected with a falsy value'), { reason: e }))),
    );
  };
}

function deprecate(fn, msg) {
  let warned = false;
  return function (...args) {
    if (!warned && typeof console === 'object' && console && typeof console.warn === 'function') {
      warned = true;
      console.warn(`DeprecationWarning: ${msg}`);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
  };
}

function isDeepStrictEqual(a, b, seen = new Map()) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || tagOf(a) !== tagOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Map) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && isDeepStrictEqual(v, b.get(k), seen));
  if (a instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
  if (ArrayBuffer.isView(a)) return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isDeepStrictEqual(a[k], b[k], seen));
}

const types = {
  isDate: (v) => tagOf(v) === 'Date',
  isRegExp: (v) => tagOf(v) === 'RegExp',
  isMap: (v) => tagOf(v) === 'Map',
  isSet: (v) => tagOf(v) === 'Set',
  isPromise: (v) => tagOf(v) === 'Promise',
  isNativeError: (v) => tagOf(v) === 'Error',
  isArrayBuffer: (v) => tagOf(v) === 'ArrayBuffer',
  isAnyArrayBuffer: (v) => tagOf(v) === 'ArrayBuffer' || tagOf(v) === 'SharedArrayBuffer',
  isArrayBufferView: (v) => ArrayBuffer.isView(v),
  isTypedArray: (v) => ArrayBuffer.isView(v) && tagOf(v) !== 'DataView',
  isUint8Array: (v) => tagOf(v) === 'Uint8Array',
  isDataView: (v) => tagOf(v) === 'DataView',
  isAsyncFunction: (v) => tagOf(v) === 'AsyncFunction' || tagOf(v) === 'AsyncGeneratorFunction',
  isGeneratorFunction: (v) => tagOf(v) === 'GeneratorFunction' || tagOf(v) === 'AsyncGeneratorFunction',
  isGeneratorObject: (v) => tagOf(v) === 'Generator',
  isWeakMap: (v) => tagOf(v) === 'WeakMap',
  isWeakSet: (v) => tagOf(v) === 'WeakSet',
  isBoxedPrimitive: (v) => ['Number', 'String', 'Boolean', 'BigInt', 'Symbol'].includes(tagOf(v)) && typeof v === 'object',
  isProxy: () => false,
};

function debuglog() {
  const log = () => {};
  log.enabled = false;
  return log;
}

module.exports = {
  format,
  formatWithOptions: (_opts, ...args) => format(...args),
  inspect,
  inherits,
  promisify,
  callbackify,
  deprecate,
  debuglog,
  debug: debuglog,
  isDeepStrictEqual,
  types,
  TextEncoder,
  TextDecoder,
  isArray: Array.isArray,
  isBoolean: (v) => typeof v === 'boolean',
  isNull: (v) => v === null,
  isNullOrUndefined: (v) => v == null,
  isNumber: (v) => typeof v === 'number',
  isString: (v) => typeof v === 'string',
  isSymbol: (v) => typeof v === 'symbol',
  isUndefined: (v) => v === undefined,
  isRegExp: types.isRegExp,
  isObject: (v) => v !== null && typeof v === 'object',
  isDate: types.isDate,
  isError: (v) => v instanceof Error || tagOf(v) === 'Error',
  isFunction: (v) => typeof v === 'function',
  isPrimitive: (v) => v === null || (typeof v !== 'object' && typeof v !== 'function'),
  stripVTControlCharacters: (s) => String(s).replace(/\u001b\[[0-9;]*[A-Za-z]/g, ''),
  toUSVString: (s) => String(s).toWellFormed(),
};
