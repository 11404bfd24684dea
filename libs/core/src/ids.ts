import { hash, randomFillSync, randomUUID } from 'node:crypto';

/** Source of ids, passed in so that pure code and tests stay deterministic. */
export type IdGenerator = () => string;

export const randomId: IdGenerator = () => randomUUID();

/**
 * Random bytes drawn ahead from the CSPRNG, as `randomUUID` does: one `randomFillSync` serves
 * hundreds of ids instead of one call per id. Each byte is handed out once.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `bytes` random bytes (1 to 256) as lowercase hex, from the CSPRNG: for ids and other values
 * that are unique but not secret (keys, tokens and salts use `randomBytes`).
 */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 256) throw new RangeError(`randomHex takes 1 to 256 bytes, not ${bytes}`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

/** A prefixed random id of 128 bits, e.g. `enr_3f9a...` (32 hex digits). */
export function newId(prefix: string): string {
  return `${prefix}_${randomHex(16)}`;
}

/**
 * A deterministic id derived from its parts: the same inputs (say, a consumed event and the
 * step it decides) always give the same id, so a redelivered input produces the same event id.
 * SHA-256 in one call (`crypto.hash`: no hash object per id), the first 128 bits in hex.
 */
export function deterministicId(prefix: string, ...parts: Array<string | number>): string {
  return `${prefix}_${hash('sha256', parts.join('\u0000'), 'hex').slice(0, 32)}`;
}

export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
