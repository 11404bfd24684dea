'use strict';
// The built-ins' synchronous host calls (`module.host.builtin`): arguments as JSON with bytes as
// base64, the answer parsed back; a refusal becomes an Error with Node's `code` (and `name`).

const { Buffer } = require('buffer');

function toBytes(data, name = 'data', encoding = 'utf8') {
  if (typeof data === 'string') return Buffer.from(data, encoding);
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  const error = new TypeError(`The "${name}" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received ${data === null ? 'null' : typeof data}`);
  error.code = 'ERR_INVALID_ARG_TYPE';
  throw error;
}

const b64 = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function makeError(error) {
  const Ctor = error.name === 'RangeError' ? RangeError : error.name === 'TypeError' ? TypeError : Error;
  const out = new Ctor(String(error.message || 'the operation failed'));
  if (error.code) out.code = error.code;
  return out;
}

/** `call(op, args)`: the answer object, or throws the host's error as an Error of this realm. */
function hostCaller(host) {
  return (op, args) => {
    let answer;
    try {
      answer = JSON.parse(host.builtin(op, JSON.stringify(args)));
    } catch {
      answer = { ok: false, error: { code: 'ERR_SANDBOX', message: `${op}: the host sent an unreadable answer` } };
    }
    if (!answer || answer.ok !== true) throw makeError((answer && answer.error) || {});
    return answer;
  };
}

module.exports = { toBytes, b64, hostCaller, makeError };
