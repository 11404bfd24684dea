'use strict';
// structuredClone for the sandbox context: the HTML structured clone algorithm for the types
// user code meets (plain data, Date, RegExp, Map, Set, ArrayBuffer and views, errors), cycles kept.

const { DOMException } = require('./events.cjs');

const ERRORS = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

function structuredClone(value, options = undefined) {
  if (options && options.transfer && options.transfer.length) throw new DOMException('Transferring is not supported', 'DataCloneError');
  const seen = new Map();
  const clone = (v) => {
    if (typeof v === 'function' || typeof v === 'symbol') throw new DOMException(`${String(typeof v === 'symbol' ? v.toString() : v.name || 'function')} could not be cloned.`, 'DataCloneError');
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return seen.get(v);
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    let out;
    switch (tag) {
      case 'Boolean':
      case 'Number':
      case 'String':
      case 'BigInt':
        out = Object(v.valueOf());
        break;
      case 'Date':
        out = new Date(v.getTime());
        break;
      case 'RegExp':
        out = new RegExp(v.source, v.flags);
        break;
      case 'ArrayBuffer':
        out = v.slice(0);
        break;
      case 'DataView':
        out = new DataView(clone(v.buffer), v.byteOffset, v.byteLength);
        break;
      case 'Map':
        out = new Map();
        seen.set(v, out);
        for (const [k, val] of v) out.set(clone(k), clone(val));
        return out;
      case 'Set':
        out = new Set();
        seen.set(v, out);
        for (const k of v) out.add(clone(k));
        return out;
      case 'Array':
        out = new Array(v.length);
        seen.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      case 'Error': {
        const Ctor = ERRORS[v.name] ?? Error;
        out = Object.create(Ctor.prototype);
        seen.set(v, out);
        Object.defineProperty(out, 'message', { value: String(v.message), writable: true, configurable: true });
        if (typeof v.stack === 'string') Object.defineProperty(out, 'stack', { value: v.stack, writable: true, configurable: true });
        if ('cause' in v) Object.defineProperty(out, 'cause', { value: clone(v.cause), writable: true, configurable: true });
        return out;
      }
      case 'Object':
        out = {};
        seen.set(v, out);
        for (const k of Object.keys(v)) out[k] = clone(v[k]);
        return out;
      default:
        if (ArrayBuffer.isView(v)) {
          out = new v.constructor(clone(v.buffer), v.byteOffset, v.length);
          break;
        }
        throw new DOMException(`${tag} object could not be cloned.`, 'DataCloneError');
    }
    seen.set(v, out);
    return out;
  };
  if (arguments.length === 0) throw new TypeError('The "value" argument must be specified');
  return clone(value);
}

module.exports = { structuredClone };
