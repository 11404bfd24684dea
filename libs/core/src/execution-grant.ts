/**
 * Execution grants: what lets the OAuth broker hand an executor secrets and tokens only for an
 * execution that was actually requested. The enrollment service signs one when it requests an
 * action (the tenant, the execution id, the secret names and connection handles that workflow
 * version selected, an expiry); the executor passes it along; the broker checks it before it
 * opens anything. HMAC-SHA256 with a key only those two services hold: the broker verifies with
 * the same key it could sign with, and it is the one holding the secrets anyway, so a public-key
 * scheme would protect nothing more. A grant carries names only, never secret material.
 *
 * Format: `g1.<base64url(JSON payload)>.<base64url(HMAC over "g1." + payload)>`.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { CodestepError } from './errors.ts';

/** Bytes of a grant key (HMAC-SHA256). */
export const GRANT_KEY_BYTES = 32;

/** What a grant allows. */
export interface ExecutionGrant {
  tenantId: string;
  executionId: string;
  /** Secret names the action's workflow version selected. */
  secrets: string[];
  /** OAuth connection handles the action's workflow version declared. */
  connections: string[];
  /** UNIX ms after which the grant is refused. */
  expiresAt: number;
}

const PREFIX = 'g1.';

/**
 * The grant keys as `KeyObject`s, made once per key (by its bytes): an HMAC keyed with raw bytes
 * prepares a secret key on every call, several times the cost of the HMAC itself.
 */
const keyObjects = new Map<string, KeyObject>();
function keyObjectOf(key: Uint8Array): KeyObject {
  const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
  let k = keyObjects.get(id);
  if (!k) {
    if (keyObjects.size >= 16) keyObjects.clear(); // a process holds one or two grant keys
    k = createSecretKey(key);
    keyObjects.set(id, k);
  }
  return k;
}

function mac(key: Uint8Array, payload: string): Buffer {
  return createHmac('sha256', keyObjectOf(key))
    .update(PREFIX + payload)
    .digest();
}

/** Signs a grant with the grant key. */
export function signGrant(key: Uint8Array, grant: ExecutionGrant): string {
  if (key.length !== GRANT_KEY_BYTES) throw new CodestepError('INVALID_CONFIG', `the grant key must be ${GRANT_KEY_BYTES} bytes`);
  const payload = Buffer.from(JSON.stringify({ t: grant.tenantId, e: grant.executionId, s: grant.secrets, c: grant.connections, x: grant.expiresAt })).toString('base64url');
  return `${PREFIX}${payload}.${mac(key, payload).toString('base64url')}`;
}

/** Why a grant was refused (PERMISSION_DENIED), for the caller. */
const refuse = (why: string): CodestepError => new CodestepError('PERMISSION_DENIED', `execution grant refused: ${why}`);

function decode(key: Uint8Array, token: string | undefined): ExecutionGrant {
  if (!token) throw refuse('the request carries none (only an action request the enrollment service made has one)');
  const parts = token.split('.');
  if (parts.length !== 3 || `${parts[0]}.` !== PREFIX) throw refuse('it is not a codestep grant');
  const [, payload, signature] = parts as [string, string, string];
  const expected = mac(key, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse('its signature does not verify');
  const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { t: string; e: string; s: string[]; c: string[]; x: number };
  return { tenantId: p.t, executionId: p.e, secrets: p.s, connections: p.c, expiresAt: p.x };
}

/**
 * Checks a grant's signature, that it is for this tenant and execution and not expired.
 * @throws CodestepError `PERMISSION_DENIED` saying which check failed.
 */
export function verifyGrant(key: Uint8Array, token: string | undefined, expect: { tenantId: string; executionId: string; now: number }): ExecutionGrant {
  const grant = decode(key, token);
  if (grant.tenantId !== expect.tenantId) throw refuse('it was issued for another tenant');
  if (grant.executionId !== expect.executionId) throw refuse('it was issued for another execution');
  if (expect.now > grant.expiresAt) throw refuse(`it expired at ${new Date(grant.expiresAt).toISOString()}; the action is retried with a new one`);
  return grant;
}

/**
 * Decodes a base64 (or base64url) grant key.
 * @throws CodestepError `INVALID_CONFIG` naming `source` unless it decodes to exactly 32 bytes.
 */
export function parseGrantKey(encoded: string, source = 'CODESTEP_GRANT_KEY'): Buffer {
  const text = encoded.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text.replaceAll('-', '+').replaceAll('_', '/'), 'base64') : Buffer.alloc(0);
  if (key.length !== GRANT_KEY_BYTES) {
    throw new CodestepError('INVALID_CONFIG', `${source} must be the base64 of ${GRANT_KEY_BYTES} random bytes: generate one with \`openssl rand -base64 32\``);
  }
  return key;
}
