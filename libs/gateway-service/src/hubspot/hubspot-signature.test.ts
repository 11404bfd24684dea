/**
 * The gateway's HubSpot signature check against requests signed by `Signature` of the official
 * `@hubspot/api-client` (which we did not write): each version accepted when right, refused with
 * a reason when the secret, URL, body or timestamp is wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Signature } from '@hubspot/api-client';
import { verifyHubSpotSignature } from './hubspot-signature.ts';

const SECRET = 'app-secret-5f1d';
const URL_ = 'https://codestep.example.com/integrations/hubspot/actions?x=1';
const BODY = JSON.stringify({ callbackId: 'ap-1-2-3', origin: { portalId: 62515 }, inputFields: { note: 'ünïcode ✓' } });
const NOW = 1_800_000_000_000;

function signed(version: 'v1' | 'v2' | 'v3', over: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = over.timestamp ?? NOW - 1_000;
  const signature = Signature.getSignature('POST', version, { clientSecret: over.secret ?? SECRET, requestBody: BODY, url: URL_, timestamp, signature: '' });
  return version === 'v3' ? { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) } : { 'x-hubspot-signature': signature, 'x-hubspot-signature-version': version };
}

const check = (headers: Record<string, string | undefined>, over: { url?: string; body?: string; now?: number } = {}) =>
  verifyHubSpotSignature({ method: 'POST', url: over.url ?? URL_, body: Buffer.from(over.body ?? BODY), headers }, SECRET, over.now ?? NOW);

describe('HubSpot request signatures', () => {
  it('accepts v1, v2 and v3 as the official api-client signs them', () => {
    for (const version of ['v1', 'v2', 'v3'] as const) assert.deepEqual(check(signed(version)), { ok: true, version });
  });

  it('refuses another secret, a changed body or URL, naming why', () => {
    for (const version of ['v2', 'v3'] as const) {
      const wrongSecret = check(signed(version, { secret: 'other' }));
      assert.equal(wrongSecret.ok, false);
      assert.match(wrongSecret.ok ? '' : wrongSecret.reason, /does not match this request/);
      assert.equal(check(signed(version), { body: BODY.replace('62515', '62516') }).ok, false);
      assert.equal(check(signed(version), { url: URL_.replace('x=1', 'x=2') }).ok, false);
    }
    assert.equal(check(signed('v1'), { body: '[]' }).ok, false);
  });

  it('refuses a v3 timestamp older than 5 minutes (or as far ahead), and a missing one', () => {
    const stale = check(signed('v3', { timestamp: NOW - 5 * 60_000 - 1 }));
    assert.match(stale.ok ? '' : stale.reason, /accepted for 5 minutes/);
    assert.equal(check(signed('v3', { timestamp: NOW + 6 * 60_000 })).ok, false);
    assert.equal(check({ 'x-hubspot-signature-v3': signed('v3')['x-hubspot-signature-v3']! }).ok, false);
  });

  it('lets a bad v3 decide even next to a valid v2, and refuses an unsigned request', () => {
    const headers = { ...signed('v2'), 'x-hubspot-signature-v3': signed('v3', { secret: 'other' })['x-hubspot-signature-v3']!, 'x-hubspot-request-timestamp': String(NOW - 1_000) };
    assert.equal(check(headers).ok, false);
    const none = check({});
    assert.match(none.ok ? '' : none.reason, /carries no HubSpot signature/);
    assert.equal(check({ 'x-hubspot-signature': 'abc', 'x-hubspot-signature-version': 'v9' }).ok, false);
  });
});
