'use strict';
// What the `crypto` module adds to the web runtime's hashes, HMACs and random values: ciphers
// (`createCipheriv`/`createDecipheriv`, every algorithm of the host's OpenSSL), PBKDF2, scrypt,
// HKDF and signatures (`createSign`/`createVerify`, `sign`/`verify`), each done by Node's own
// crypto in the worker (a synchronous host call), so results are Node's. A cipher's state stays
// on the host behind a handle; a `Cipher` here is not a stream (`update`/`final` only).

const { Buffer } = require('buffer');
const { toBytes, b64, hostCaller } = require('./host-call.cjs');

const call = hostCaller(require('./host-ref.cjs').host);

function invalidArg(name, expected, value) {
  const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${value === null ? 'null' : typeof value}`);
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

/** Output as Node gives it: a Buffer, or text through a StringDecoder kept across calls. */
function encodeOut(holder, bytes, encoding, final) {
  if (encoding === undefined || encoding === 'buffer') return bytes;
  if (holder._decoder === null) {
    const { StringDecoder } = require('string_decoder');
    holder._decoder = new StringDecoder(encoding);
    holder._encoding = encoding;
  }
  return final ? holder._decoder.end(bytes) : holder._decoder.write(bytes);
}

class Cipheriv {
  constructor(algorithm, key, iv, options, decipher) {
    if (typeof algorithm !== 'string') throw invalidArg('cipher', 'of type string', algorithm);
    const keyBytes = key instanceof KeyObject ? key._secret() : toBytes(key, 'key');
    const ivBytes = iv === null || iv === undefined ? null : toBytes(iv, 'iv');
    const authTagLength = options && typeof options.authTagLength === 'number' ? options.authTagLength : undefined;
    this._decipher = decipher;
    this._h = call('crypto.cipher.create', { algorithm, key: b64(keyBytes), iv: ivBytes === null ? null : b64(ivBytes), decipher, authTagLength }).h;
    this._decoder = null;
    this._authTag = null;
    this._finished = false;
  }
  update(data, inputEncoding, outputEncoding) {
    const bytes = typeof data === 'string' ? Buffer.from(data, inputEncoding || 'utf8') : toBytes(data);
    const out = Buffer.from(call('crypto.cipher.update', { h: this._h, data: b64(bytes) }).data, 'base64');
    return encodeOut(this, out, outputEncoding, false);
  }
  final(outputEncoding) {
    const answer = call('crypto.cipher.final', { h: this._h, decipher: this._decipher });
    this._finished = true;
    if (answer.authTag) this._authTag = Buffer.from(answer.authTag, 'base64');
    return encodeOut(this, Buffer.from(answer.data, 'base64'), outputEncoding, true);
  }
  setAAD(buffer, options) {
    call('crypto.cipher.setAAD', { h: this._h, data: b64(toBytes(buffer, 'buffer')), plaintextLength: options && options.plaintextLength });
    return this;
  }
  setAuthTag(tag, encoding) {
    call('crypto.cipher.setAuthTag', { h: this._h, tag: b64(typeof tag === 'string' ? Buffer.from(tag, encoding) : toBytes(tag, 'buffer')) });
    return this;
  }
  getAuthTag() {
    if (this._authTag === null) {
      const error = new Error('Invalid state for operation getAuthTag');
      error.code = 'ERR_CRYPTO_INVALID_STATE';
      throw error;
    }
    return this._authTag;
  }
  setAutoPadding(padding = true) {
    call('crypto.cipher.setAutoPadding', { h: this._h, padding: padding !== false });
    return this;
  }
}

/** A key as the host takes it: PEM text or DER bytes, with its options. */
function describeKey(key) {
  if (key instanceof KeyObject) return key._description;
  if (typeof key === 'string') return { pem: key };
  if (Buffer.isBuffer(key) || ArrayBuffer.isView(key)) return { pem: toBytes(key).toString('utf8') };
  if (key && typeof key === 'object' && key.key !== undefined) {
    const inner = key.key instanceof KeyObject ? key.key._description : key.format === 'der' ? { der: b64(toBytes(key.key, 'key')) } : { pem: typeof key.key === 'string' ? key.key : toBytes(key.key, 'key').toString('utf8') };
    const out = { ...inner };
    for (const name of ['format', 'type', 'passphrase', 'padding', 'saltLength', 'dsaEncoding']) if (key[name] !== undefined) out[name] = key[name];
    if (typeof out.passphrase !== 'string' && out.passphrase !== undefined) out.passphrase = toBytes(out.passphrase).toString('utf8');
    if (out.format === 'pem') delete out.format;
    return out;
  }
  throw invalidArg('key', 'of type string or an instance of Buffer, TypedArray, DataView, or KeyObject', key);
}

class KeyObject {
  constructor(type, description, secret) {
    this.type = type;
    this._description = description;
    this._secretBytes = secret;
  }
  _secret() {
    if (this._secretBytes === null) throw new TypeError('Invalid key object type, expected secret');
    return this._secretBytes;
  }
  get symmetricKeySize() {
    return this._secretBytes === null ? undefined : this._secretBytes.length;
  }
  export(options) {
    if (this._secretBytes !== null) return options && options.format === 'jwk' ? { kty: 'oct', k: this._secretBytes.toString('base64url') } : Buffer.from(this._secretBytes);
    if (this._description.pem !== undefined) return this._description.pem;
    return Buffer.from(this._description.der, 'base64');
  }
  equals(other) {
    return other instanceof KeyObject && JSON.stringify(other._description) === JSON.stringify(this._description);
  }
}

const asymmetricKey = (type) => (input) => new KeyObject(type, input instanceof KeyObject ? input._description : describeKey(input), null);

class SignOrVerify {
  constructor(algorithm) {
    this._algorithm = String(algorithm);
    this._chunks = [];
  }
  update(data, encoding) {
    this._chunks.push(Buffer.from(typeof data === 'string' ? Buffer.from(data, encoding || 'utf8') : toBytes(data)));
    return this;
  }
  sign(key, outputEncoding) {
    const data = call('crypto.sign', { algorithm: this._algorithm, data: b64(Buffer.concat(this._chunks)), key: describeKey(key) }).data;
    const out = Buffer.from(data, 'base64');
    return outputEncoding === undefined || outputEncoding === 'buffer' ? out : out.toString(outputEncoding);
  }
  verify(key, signature, signatureEncoding) {
    const sig = typeof signature === 'string' ? Buffer.from(signature, signatureEncoding || 'utf8') : toBytes(signature, 'signature');
    return call('crypto.verify', { algorithm: this._algorithm, data: b64(Buffer.concat(this._chunks)), key: describeKey(key), signature: b64(sig) }).verified === true;
  }
  end() {
    return this;
  }
  write(data, encoding) {
    this.update(data, encoding);
    return true;
  }
}

const later = (callback, fn) => {
  if (typeof callback !== 'function') throw invalidArg('callback', 'of type function', callback);
  let result;
  let failure = null;
  try {
    result = fn();
  } catch (error) {
    failure = error;
  }
  setTimeout(() => (failure ? callback(failure) : callback(null, result)), 0);
};

const pbkdf2Sync = (password, salt, iterations, keylen, digest) =>
  Buffer.from(call('crypto.pbkdf2', { password: b64(toBytes(password, 'password')), salt: b64(toBytes(salt, 'salt')), iterations, keylen, digest: String(digest) }).data, 'base64');
const scryptSync = (password, salt, keylen, options) =>
  Buffer.from(call('crypto.scrypt', { password: b64(toBytes(password, 'password')), salt: b64(toBytes(salt, 'salt')), keylen, options: options || {} }).data, 'base64');
const hkdfSync = (digest, ikm, salt, info, keylen) => {
  const key = ikm instanceof KeyObject ? ikm._secret() : toBytes(ikm, 'ikm');
  const out = Buffer.from(call('crypto.hkdf', { digest: String(digest), ikm: b64(key), salt: b64(toBytes(salt, 'salt')), info: b64(toBytes(info, 'info')), keylen }).data, 'base64');
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.length);
};
let lists = null;
const hostLists = () => (lists ??= call('crypto.lists', {}));

module.exports = {
  createCipheriv: (algorithm, key, iv, options) => new Cipheriv(algorithm, key, iv, options, false),
  createDecipheriv: (algorithm, key, iv, options) => new Cipheriv(algorithm, key, iv, options, true),
  Cipheriv,
  Decipheriv: Cipheriv,
  getCiphers: () => hostLists().ciphers.slice(),
  getCurves: () => hostLists().curves.slice(),
  pbkdf2Sync,
  pbkdf2: (password, salt, iterations, keylen, digest, callback) => later(callback, () => pbkdf2Sync(password, salt, iterations, keylen, digest)),
  scryptSync,
  scrypt: (password, salt, keylen, options, callback) => {
    if (typeof options === 'function') [callback, options] = [options, undefined];
    later(callback, () => scryptSync(password, salt, keylen, options));
  },
  hkdfSync,
  hkdf: (digest, ikm, salt, info, keylen, callback) => later(callback, () => hkdfSync(digest, ikm, salt, info, keylen)),
  createSign: (algorithm) => new SignOrVerify(algorithm),
  createVerify: (algorithm) => new SignOrVerify(algorithm),
  Sign: SignOrVerify,
  Verify: SignOrVerify,
  sign: (algorithm, data, key, callback) => {
    const run = () => Buffer.from(call('crypto.sign', { algorithm: algorithm === null || algorithm === undefined ? null : String(algorithm), data: b64(toBytes(data)), key: describeKey(key) }).data, 'base64');
    if (typeof callback === 'function') return later(callback, run);
    return run();
  },
  verify: (algorithm, data, key, signature, callback) => {
    const run = () => call('crypto.verify', { algorithm: algorithm === null || algorithm === undefined ? null : String(algorithm), data: b64(toBytes(data)), key: describeKey(key), signature: b64(toBytes(signature, 'signature')) }).verified === true;
    if (typeof callback === 'function') return later(callback, run);
    return run();
  },
  KeyObject,
  createPrivateKey: asymmetricKey('private'),
  createPublicKey: asymmetricKey('public'),
  createSecretKey: (key, encoding) => new KeyObject('secret', null, Buffer.from(typeof key === 'string' ? Buffer.from(key, encoding) : toBytes(key, 'key'))),
};
