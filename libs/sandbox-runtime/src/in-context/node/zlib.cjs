'use strict';
// Node's `zlib` over the host's real zlib (one synchronous host call per operation, so the
// output is byte for byte Node's). Sync, callback and promisified forms; the stream forms
// (`createGzip`, …) are Transforms that compress or decompress once their input has ended
// (the output is the same, it only arrives at the end). Every output is capped by the
// execution's memory (`ERR_BUFFER_TOO_LARGE`), as is a `maxOutputLength` the code gives.
/* global __ZLIB_CONSTANTS__ */

const { Buffer } = require('buffer');
const { toBytes, hostCaller } = require('./host-call.cjs');

const call = hostCaller(require('./host-ref.cjs').host);
const constants = __ZLIB_CONSTANTS__;

function plainOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    const error = new TypeError('The "options" argument must be of type object');
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
  const out = {};
  for (const name of ['flush', 'finishFlush', 'chunkSize', 'windowBits', 'level', 'memLevel', 'strategy', 'maxOutputLength']) if (typeof options[name] === 'number') out[name] = options[name];
  if (options.dictionary !== undefined) out.dictionary = toBytes(options.dictionary, 'dictionary').toString('base64');
  if (options.params && typeof options.params === 'object') out.params = { ...options.params };
  return out;
}

function run(method, data, options) {
  const input = toBytes(data, 'buffer');
  const answer = call('zlib', { method, data: input.toString('base64'), options: plainOptions(options) });
  const out = Buffer.from(answer.data, 'base64');
  return options && options.info ? { buffer: out, engine: null } : out;
}

const METHODS = ['deflate', 'inflate', 'deflateRaw', 'inflateRaw', 'gzip', 'gunzip', 'unzip', 'brotliCompress', 'brotliDecompress'];
const STREAMS = { Deflate: 'deflate', Inflate: 'inflate', DeflateRaw: 'deflateRaw', InflateRaw: 'inflateRaw', Gzip: 'gzip', Gunzip: 'gunzip', Unzip: 'unzip', BrotliCompress: 'brotliCompress', BrotliDecompress: 'brotliDecompress' };

// The stream classes need `stream` (Node's streams, ~120 KB): made on first use, so that the
// sync and callback forms (what most actions use) do not load it.
let streamClasses = null;
function makeStreamClasses() {
  const { Transform } = require('stream');
  class ZlibStream extends Transform {
    constructor(method, options) {
      super(options);
      this._method = method;
      this._options = options;
      this._chunks = [];
      this.bytesWritten = 0;
    }
    _transform(chunk, encoding, done) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : toBytes(chunk);
      this._chunks.push(bytes);
      this.bytesWritten += bytes.length;
      done();
    }
    _flush(done) {
      let out;
      try {
        out = run(this._method, Buffer.concat(this._chunks), this._options);
      } catch (error) {
        done(error);
        return;
      }
      this._chunks = [];
      done(null, out);
    }
    close(callback) {
      if (callback) queueMicrotask(callback);
      this.destroy();
    }
    flush(kind, callback) {
      const cb = typeof kind === 'function' ? kind : callback;
      if (cb) queueMicrotask(cb);
    }
    params(level, strategy, callback) {
      if (callback) queueMicrotask(callback);
    }
    reset() {
      this._chunks = [];
    }
  }

  const classes = {};
  for (const [Name, method] of Object.entries(STREAMS)) {
    const Ctor = class extends ZlibStream {
      constructor(options) {
        super(method, options);
      }
    };
    Object.defineProperty(Ctor, 'name', { value: Name });
    classes[Name] = Ctor;
  }
  return classes;
}
const zlib = { constants, codes: {} };
for (const [name, value] of Object.entries(constants)) {
  if (/^Z_/.test(name)) {
    zlib[name] = value;
    if (value <= 2) zlib.codes[value] = name;
  }
}
for (const method of METHODS) {
  zlib[`${method}Sync`] = (data, options) => run(method, data, options);
  zlib[method] = (data, options, callback) => {
    if (typeof options === 'function') [callback, options] = [options, undefined];
    if (typeof callback !== 'function') {
      const error = new TypeError('The "callback" argument must be of type function');
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    let result;
    let failure = null;
    try {
      result = run(method, data, options);
    } catch (error) {
      failure = error;
    }
    setTimeout(() => (failure ? callback(failure) : callback(null, result)), 0);
  };
}
for (const Name of Object.keys(STREAMS)) {
  Object.defineProperty(zlib, Name, {
    enumerable: true,
    configurable: true,
    get: () => (streamClasses ??= makeStreamClasses())[Name],
  });
  zlib[`create${Name}`] = (options) => new zlib[Name](options);
}

/** CRC-32 (IEEE), as `zlib.crc32(data, value)` in Node 22+. */
let crcTable = null;
zlib.crc32 = (data, value = 0) => {
  if (crcTable === null) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const bytes = toBytes(data);
  let crc = ~value;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
};

module.exports = zlib;
