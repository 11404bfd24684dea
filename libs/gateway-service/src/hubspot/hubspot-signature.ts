/**
 * Checks that a request comes from HubSpot, as HubSpot's "Validating requests" page says:
 *
 * - v3 (`X-HubSpot-Signature-v3`, sent with `X-HubSpot-Request-Timestamp` in UNIX ms): base64
 *   HMAC-SHA256, keyed by the app's client secret, of method + URI + body + timestamp, the URI
 *   with a few percent-encoded characters decoded. A timestamp more than 5 minutes old (or as far
 *   in the future) is refused, so a captured request cannot be replayed later.
 * - v2 (`X-HubSpot-Signature`, `X-HubSpot-Signature-Version: v2`, workflow actions): hex SHA-256
 *   of client secret + method + URI + body. v1 (webhooks): hex SHA-256 of client secret + body.
 *
 * When v3 is sent it decides (a valid older signature does not rescue a bad v3); the older ones
 * are accepted alone only where HubSpot sends them alone. Comparisons take constant time.
 * The tests check this against `Signature` of `@hubspot/api-client`.
 */
import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** HubSpot's (and the api-client's) bound on a v3 timestamp's age, ms. */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;

export interface SignedRequest {
  method: string;
  /** The URL HubSpot called, as the app registered it: the public base URL + the request target. */
  url: string;
  body: Buffer;
  headers: Record<string, string | undefined>;
}

export type SignatureCheck = { ok: true; version: 'v1' | 'v2' | 'v3' } | { ok: false; reason: string };

const V3_DECODED: Readonly<Record<string, string>> = { '3A': ':', '2F': '/', '3F': '?', '40': '@', '21': '!', '24': '$', '27': "'", '28': '(', '29': ')', '2A': '*', '2C': ',', '3B': ';' };

function v3Uri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m, hex: string) => V3_DECODED[hex.toUpperCase()] ?? m);
}

/** The client secret as a `KeyObject`, made once: an HMAC keyed with a string prepares a key on every call. */
const secretKeys = new Map<string, KeyObject>();
function secretKeyOf(clientSecret: string): KeyObject {
  let k = secretKeys.get(clientSecret);
  if (!k) {
    if (secretKeys.size >= 16) secretKeys.clear(); // one app's secret, or a few in tests
    k = createSecretKey(Buffer.from(clientSecret, 'utf8'));
    secretKeys.set(clientSecret, k);
  }
  return k;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Verifies the request's HubSpot signature with the app's client secret at time `now` (UNIX ms). */
export function verifyHubSpotSignature(req: SignedRequest, clientSecret: string, now: number): SignatureCheck {
  const body = req.body.toString('utf8');
  const v3 = req.headers['x-hubspot-signature-v3'];
  if (v3 !== undefined) {
    const raw = req.headers['x-hubspot-request-timestamp'] ?? '';
    const timestamp = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(timestamp)) return { ok: false, reason: 'X-HubSpot-Signature-v3 came without a valid X-HubSpot-Request-Timestamp' };
    if (Math.abs(now - timestamp) > MAX_SIGNATURE_AGE_MS) {
      return { ok: false, reason: `the request's timestamp is ${Math.round((now - timestamp) / 1000)} s from now; HubSpot signatures are accepted for 5 minutes (a replayed or delayed request)` };
    }
    const expected = createHmac('sha256', secretKeyOf(clientSecret))
      .update(req.method + v3Uri(req.url) + body + raw, 'utf8')
      .digest('base64');
    return same(v3, expected)
      ? { ok: true, version: 'v3' }
      : { ok: false, reason: 'X-HubSpot-Signature-v3 does not match this request: it was not signed with this app’s client secret, or the URL or body changed on the way' };
  }
  const legacy = req.headers['x-hubspot-signature'];
  const version = req.headers['x-hubspot-signature-version'] ?? 'v1';
  if (legacy === undefined) return { ok: false, reason: 'the request carries no HubSpot signature (X-HubSpot-Signature-v3 or X-HubSpot-Signature)' };
  if (version !== 'v1' && version !== 'v2') return { ok: false, reason: `unknown X-HubSpot-Signature-Version ${JSON.stringify(version.slice(0, 10))}` };
  const source = version === 'v1' ? clientSecret + body : clientSecret + req.method + req.url + body;
  const expected = createHash('sha256').update(source, 'utf8').digest('hex');
  return same(legacy.toLowerCase(), expected)
    ? { ok: true, version }
    : { ok: false, reason: `X-HubSpot-Signature (${version}) does not match this request: it was not signed with this app’s client secret, or the URL or body changed on the way` };
}
