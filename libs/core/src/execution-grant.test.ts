import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseGrantKey, signGrant, verifyGrant, type ExecutionGrant } from './execution-grant.ts';

const key = randomBytes(32);
const grant: ExecutionGrant = { tenantId: 't1', executionId: 'exe_1', secrets: ['API_KEY'], connections: ['my-hubspot'], expiresAt: 10_000 };
const expect = { tenantId: 't1', executionId: 'exe_1', now: 5_000 };

describe('execution grants', () => {
  it('verify for their tenant and execution before they expire, and give back what they allow', () => {
    assert.deepEqual(verifyGrant(key, signGrant(key, grant), expect), grant);
  });

  it('are refused when missing, expired, for another tenant or execution, or signed with another key', () => {
    const token = signGrant(key, grant);
    const cases: Array<[string | undefined, typeof expect, Uint8Array, RegExp]> = [
      [undefined, expect, key, /carries none/],
      ['', expect, key, /carries none/],
      [token, { ...expect, now: 10_001 }, key, /expired/],
      [token, { ...expect, tenantId: 't2' }, key, /another tenant/],
      [token, { ...expect, executionId: 'exe_2' }, key, /another execution/],
      [token, expect, randomBytes(32), /signature does not verify/],
      ['g1.abc', expect, key, /not a codestep grant/],
    ];
    for (const [t, e, k, message] of cases) {
      assert.throws(
        () => verifyGrant(k, t, e),
        (error: { code?: string; message?: string }) => error.code === 'PERMISSION_DENIED' && message.test(error.message ?? ''),
      );
    }
  });

  it('are refused when their payload was changed, even to widen what they allow', () => {
    const [prefix, , signature] = signGrant(key, grant).split('.');
    const widened = Buffer.from(JSON.stringify({ t: 't1', e: 'exe_1', s: ['API_KEY', 'OTHER'], c: [], x: 10_000 })).toString('base64url');
    assert.throws(() => verifyGrant(key, `${prefix}.${widened}.${signature}`, expect), /signature does not verify/);
  });

  it('keys are 32 bytes of base64, and a bad one names its variable and how to make one', () => {
    assert.equal(parseGrantKey(key.toString('base64')).length, 32);
    assert.throws(() => parseGrantKey('short', 'CODESTEP_GRANT_KEY'), /CODESTEP_GRANT_KEY must be the base64 of 32 random bytes: generate one with `openssl rand -base64 32`/);
  });
});
