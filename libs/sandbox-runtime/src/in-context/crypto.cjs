'use strict';
// Web Crypto's getRandomValues/randomUUID/subtle.digest and Node's `crypto` module (hashes, HMAC,
// random bytes). Randomness comes from the host's CSPRNG over the bridge.

const { base64ToBytes } = require('./encoding.cjs');
const { DOMException } = require('./events.cjs');
const { digest, hmac, algorithm, hashNames } = require('./hashes.cjs');

const INTEGER_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

function createWebCrypto(bridgeRandomBytes) {
  const random = (n) => {
    if (n === 0) return new Uint8Array(0);
    let text;
    try {
      text = bridgeRandomBytes(n);
    } catch {
      text = '';
    }
    const bytes = base64ToBytes(String(text));
    if (bytes.length !== n) throw new Error('The random number source is unavailable');
    return bytes;
  };
  const getRandomValues = (array) => {
    if (!ArrayBuffer.isView(array) || !INTEGER_ARRAYS.includes(Object.prototype.toString.call(array).slice(8, -1))) {
      throw new DOMException("The data argument must be an integer-type TypedArray", 'TypeMismatchError');
    }
    if (array.byteLength > 65536) throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, 'QuotaExceededError');
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random(array.byteLength));
    return array;
  };
  const randomUUID = () => {
    const b = random(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  const subtle = {
    async digest(alg, data) {
      const name = typeof alg === 'string' ? alg : alg && alg.name;
      if (!['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'].includes(String(name).toUpperCase())) throw new DOMException('Unrecognized algorithm name', 'NotSupportedError');
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return digest(String(name), bytes).buffer;
    },
  };
  class Crypto {
    get subtle() {
      return subtle;
    }
    getRandomValues(array) {
      return getRandomValues(array);
    }
    randomUUID() {
      return randomUUID();
    }
    get [Symbol.toStringTag]() {
      return 'Crypto';
    }
  }
  return { crypto: new Crypto(), Crypto, random };
}

function toBytes(data, encoding) {
  if (typeof data === 'string') return Buffer.from(data, encoding || 'utf8');
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
}

function output(bytes, encoding) {
  const buf = Buffer.from(bytes);
  return encoding === undefined || encoding === 'buffer' ? buf : buf.toString(encoding);
}

class Hash {
  #name;
  #chunks = [];
  #done = false;
  constructor(name) {
    algorithm(name);
    this.#name = name;
  }
  update(data, encoding) {
    if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    this.#chunks.push(Buffer.from(toBytes(data, encoding)));
    return this;
  }
  digest(encoding) {
    if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    this.#done = true;
    return output(digest(this.#name, Buffer.concat(this.#chunks)), encoding);
  }
  copy() {
    const h = new Hash(this.#name);
    for (const c of this.#chunks) h.update(c);
    return h;
  }
}

class Hmac {
  #name;
  #key;
  #chunks = [];
  #done = false;
  constructor(name, key) {
    algorithm(name);
    this.#name = name;
    this.#key = Buffer.from(toBytes(key && key.export ? key.export() : key));
  }
  update(data, encoding) {
    this.#chunks.push(Buffer.from(toBytes(data, encoding)));
    return this;
  }
  digest(encoding) {
    if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    this.#done = true;
    return output(hmac(this.#name, this.#key, Buffer.concat(this.#chunks)), encoding);
  }
}

function createNodeCrypto(web) {
  const randomBytes = (size, callback) => {
    if (!Number.isInteger(size) || size < 0 || size > 2 ** 31 - 1) throw new RangeError(`The value of "size" is out of range. Received ${size}`);
    const chunks = [];
    for (let left = size; left > 0; left -= 65536) chunks.push(web.random(Math.min(left, 65536)));
    const buf = Buffer.concat(chunks.map((c) => Buffer.from(c)), size);
    if (typeof callback === 'function') {
      queueMicrotask(() => callback(null, buf));
      return undefined;
    }
    return buf;
  };
  const randomFillSync = (buf, offset = 0, size) => {
    const view = new Uint8Array(buf.buffer ?? buf, buf.byteOffset ?? 0, buf.byteLength);
    const n = size ?? view.length - offset;
    view.set(randomBytes(n), offset);
    return buf;
  };
  const randomInt = (min, max, callback) => {
    if (max === undefined || typeof max === 'function') {
      callback = max;
      max = min;
      min = 0;
    }
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min || max - min > 2 ** 48) {
      throw new RangeError('randomInt: min and max must be safe integers with 0 < max - min <= 2^48');
    }
    const range = max - min;
    const limit = 2 ** 48 - (2 ** 48 % range);
    let x;
    do {
      x = randomBytes(6).readUIntBE(0, 6);
    } while (x >= limit);
    const value = min + (x % range);
    if (typeof callback === 'function') {
      queueMicrotask(() => callback(null, value));
      return undefined;
    }
    return value;
  };
  const timingSafeEqual = (a, b) => {
    const x = toBytes(a);
    const y = toBytes(b);
    if (x.length !== y.length) throw Object.assign(new RangeError('Input buffers must have the same byte length'), { code: 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH' });
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  };
  const unsupported = (name) => () => {
    throw Object.assign(new Error(`crypto.${name} is not available in the codestep sandbox (hashes, HMAC and random values are)`), { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' });
  };
  return {
    createHash: (name) => new Hash(name),
    createHmac: (name, key) => new Hmac(name, key),
    getHashes: () => hashNames.slice(),
    randomBytes,
    pseudoRandomBytes: randomBytes,
    randomFillSync,
    randomFill: (buf, offset, size, callback) => {
      const cb = [offset, size, callback].find((x) => typeof x === 'function');
      randomFillSync(buf, typeof offset === 'number' ? offset : 0, typeof size === 'number' ? size : undefined);
      queueMicrotask(() => cb(null, buf));
    },
    randomInt,
    randomUUID: () => web.crypto.randomUUID(),
    getRandomValues: (array) => web.crypto.getRandomValues(array),
    webcrypto: web.crypto,
    subtle: web.crypto.subtle,
    timingSafeEqual,
    Hash,
    Hmac,
    createCipheriv: unsupported('createCipheriv'),
    createDecipheriv: unsupported('createDecipheriv'),
    createSign: unsupported('createSign'),
    createVerify: unsupported('createVerify'),
    pbkdf2: unsupported('pbkdf2'),
    pbkdf2Sync: unsupported('pbkdf2Sync'),
    scrypt: unsupported('scrypt'),
    scryptSync: unsupported('scryptSync'),
    generateKeyPair: unsupported('generateKeyPair'),
    generateKeyPairSync: unsupported('generateKeyPairSync'),
    constants: {},
  };
}

module.exports = { createWebCrypto, createNodeCrypto };
