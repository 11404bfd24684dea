/**
 * The host side of the in-context `crypto` module's ciphers, key derivation and signatures:
 * Node's own crypto, run synchronously in the worker for one execution. Every value crosses as
 * a primitive (JSON text, bytes as base64), so Node's objects never reach the context; cipher
 * state stays here behind a numeric handle, per execution, and is dropped when it ends.
 *
 * Costs are bounded before any work starts, since native crypto cannot be interrupted by the
 * execution's deadline: PBKDF2 by iterations × output blocks, scrypt by its memory, every input
 * by {@link CRYPTO_CAPS.maxInputBytes}.
 */
import crypto from 'node:crypto';

export const CRYPTO_CAPS = {
  /** Live cipher handles per execution. */
  maxCiphers: 256,
  /** Bytes of one input (data, key, salt) crossing the bridge. */
  maxInputBytes: 64 * 1024 * 1024,
  /** PBKDF2 hash blocks (iterations × ceil(keylen / digest length)) per call: ~1–2 s of CPU. */
  maxPbkdf2Blocks: 5_000_000,
  /** scrypt's `maxmem` ceiling, bytes. */
  maxScryptMem: 64 * 1024 * 1024,
  /** Output bytes of one key derivation. */
  maxDerivedBytes: 1024 * 1024,
};

export class BuiltinCallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

type Args = Record<string, unknown>;

function bytes(value: unknown, what: string): Buffer {
  if (typeof value !== 'string') throw new BuiltinCallError('ERR_INVALID_ARG_TYPE', `The "${what}" argument must be bytes`);
  if (value.length > (CRYPTO_CAPS.maxInputBytes * 4) / 3 + 4)
    throw new BuiltinCallError('ERR_OUT_OF_RANGE', `The "${what}" argument is larger than the sandbox allows (${CRYPTO_CAPS.maxInputBytes} bytes)`);
  return Buffer.from(value, 'base64');
}

function optionalBytes(value: unknown, what: string): Buffer | null {
  return value === null || value === undefined ? null : bytes(value, what);
}

function int(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new BuiltinCallError('ERR_OUT_OF_RANGE', `The "${what}" argument must be a non-negative integer`);
  return value;
}

/** A key as the context describes it: PEM/JWK text or DER bytes, with its options. */
function keyInput(value: unknown): crypto.KeyLike | crypto.SignKeyObjectInput | crypto.PrivateKeyInput {
  if (typeof value !== 'object' || value === null) throw new BuiltinCallError('ERR_INVALID_ARG_TYPE', 'The "key" argument must be a string, Buffer or KeyObject');
  const k = value as Args;
  const key = typeof k.pem === 'string' ? k.pem : bytes(k.der, 'key');
  const out: Args = { key };
  for (const name of ['format', 'type', 'passphrase', 'padding', 'saltLength', 'dsaEncoding', 'encoding'] as const) {
    if (k[name] !== undefined && k[name] !== null) out[name] = k[name];
  }
  if (typeof k.passphrase === 'string') out.passphrase = k.passphrase;
  if (out.format === undefined && typeof key !== 'string') out.format = 'der';
  return out as unknown as crypto.PrivateKeyInput;
}

type Cipher = crypto.Cipheriv | crypto.Decipheriv;

/** Crypto state and operations for one execution. */
export class CryptoHost {
  readonly #ciphers = new Map<number, Cipher>();
  #next = 1;

  call(op: string, args: Args): Args {
    switch (op) {
      case 'cipher.create':
        return this.#create(args);
      case 'cipher.update':
        return { data: this.#cipher(args).update(bytes(args.data, 'data')).toString('base64') };
      case 'cipher.final':
        return this.#final(args);
      case 'cipher.setAAD': {
        const c = this.#cipher(args) as crypto.CipherGCM;
        c.setAAD(bytes(args.data, 'buffer'), typeof args.plaintextLength === 'number' ? { plaintextLength: args.plaintextLength } : undefined);
        return {};
      }
      case 'cipher.setAuthTag':
        (this.#cipher(args) as crypto.DecipherGCM).setAuthTag(bytes(args.tag, 'buffer'));
        return {};
      case 'cipher.setAutoPadding':
        this.#cipher(args).setAutoPadding(args.padding !== false);
        return {};
      case 'cipher.free':
        this.#ciphers.delete(Number(args.h));
        return {};
      case 'pbkdf2':
        return { data: pbkdf2(args).toString('base64') };
      case 'scrypt':
        return { data: scrypt(args).toString('base64') };
      case 'hkdf':
        return { data: Buffer.from(crypto.hkdfSync(String(args.digest), bytes(args.ikm, 'ikm'), bytes(args.salt, 'salt'), bytes(args.info, 'info'), derivedLength(args.keylen))).toString('base64') };
      case 'sign':
        return { data: crypto.sign(args.algorithm === null ? null : String(args.algorithm), bytes(args.data, 'data'), keyInput(args.key) as crypto.SignKeyObjectInput).toString('base64') };
      case 'verify':
        return {
          verified: crypto.verify(
            args.algorithm === null ? null : String(args.algorithm),
            bytes(args.data, 'data'),
            keyInput(args.key) as crypto.SignKeyObjectInput,
            bytes(args.signature, 'signature'),
          ),
        };
      case 'lists':
        return { ciphers: crypto.getCiphers(), hashes: crypto.getHashes(), curves: crypto.getCurves() };
      default:
        throw new BuiltinCallError('ERR_INVALID_ARG_VALUE', `unknown crypto operation ${op.slice(0, 40)}`);
    }
  }

  dispose(): void {
    this.#ciphers.clear();
  }

  #create(args: Args): Args {
    if (this.#ciphers.size >= CRYPTO_CAPS.maxCiphers)
      throw new BuiltinCallError('ERR_OUT_OF_RANGE', `more than ${CRYPTO_CAPS.maxCiphers} ciphers are open in this execution; call final() on the ones you are done with`);
    const algorithm = String(args.algorithm);
    const key = bytes(args.key, 'key');
    const iv = optionalBytes(args.iv, 'iv');
    const options = typeof args.authTagLength === 'number' ? { authTagLength: args.authTagLength } : undefined;
    const cipher =
      args.decipher === true ? crypto.createDecipheriv(algorithm, key, iv, options as crypto.CipherGCMOptions) : crypto.createCipheriv(algorithm, key, iv, options as crypto.CipherGCMOptions);
    const h = this.#next++;
    this.#ciphers.set(h, cipher);
    return { h };
  }

  #final(args: Args): Args {
    const cipher = this.#cipher(args);
    this.#ciphers.delete(Number(args.h));
    const data = cipher.final().toString('base64');
    const withTag = cipher as crypto.CipherGCM;
    let authTag: string | null = null;
    if (args.decipher !== true && typeof withTag.getAuthTag === 'function') {
      try {
        authTag = withTag.getAuthTag().toString('base64');
      } catch {
        authTag = null;
      }
    }
    return { data, authTag };
  }

  #cipher(args: Args): Cipher {
    const cipher = this.#ciphers.get(Number(args.h));
    if (cipher === undefined) throw new BuiltinCallError('ERR_CRYPTO_INVALID_STATE', 'Unsupported state or unable to authenticate data');
    return cipher;
  }
}

function derivedLength(value: unknown): number {
  const n = int(value, 'keylen');
  if (n > CRYPTO_CAPS.maxDerivedBytes) throw new BuiltinCallError('ERR_OUT_OF_RANGE', `The "keylen" argument is more than the sandbox allows (${CRYPTO_CAPS.maxDerivedBytes})`);
  return n;
}

function pbkdf2(args: Args): Buffer {
  const iterations = int(args.iterations, 'iterations');
  const keylen = derivedLength(args.keylen);
  const digest = String(args.digest);
  let digestLength: number;
  try {
    digestLength = crypto.createHash(digest).digest().length;
  } catch {
    throw new BuiltinCallError('ERR_CRYPTO_INVALID_DIGEST', `Invalid digest: ${digest.slice(0, 40)}`);
  }
  const blocks = iterations * Math.max(1, Math.ceil(keylen / digestLength));
  if (blocks > CRYPTO_CAPS.maxPbkdf2Blocks) {
    throw new BuiltinCallError(
      'ERR_OUT_OF_RANGE',
      `pbkdf2 with ${iterations} iterations for ${keylen} bytes is more work than the sandbox allows in one call (${CRYPTO_CAPS.maxPbkdf2Blocks} hash blocks)`,
    );
  }
  return crypto.pbkdf2Sync(bytes(args.password, 'password'), bytes(args.salt, 'salt'), iterations, keylen, digest);
}

function scrypt(args: Args): Buffer {
  const keylen = derivedLength(args.keylen);
  const given = (typeof args.options === 'object' && args.options !== null ? args.options : {}) as crypto.ScryptOptions;
  const options: crypto.ScryptOptions = {};
  for (const name of ['N', 'r', 'p', 'cost', 'blockSize', 'parallelization', 'maxmem'] as const) {
    if (typeof given[name] === 'number') options[name] = given[name];
  }
  options.maxmem = Math.min(options.maxmem ?? 32 * 1024 * 1024, CRYPTO_CAPS.maxScryptMem);
  return crypto.scryptSync(bytes(args.password, 'password'), bytes(args.salt, 'salt'), keylen, options);
}
