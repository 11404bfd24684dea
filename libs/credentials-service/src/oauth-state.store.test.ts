import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import { COLLECTIONS } from './connection.model.ts';
import { hashState, createOAuthStateStore } from './oauth-state.store.ts';
import { pkceChallenge } from './oauth.client.ts';
import { createSecretBox } from './secret-box.ts';
import { memoryStore } from './testing/memory-ports.ts';

function setup() {
  let now = 1_000_000;
  const store = memoryStore();
  const states = createOAuthStateStore({ store, box: createSecretBox(randomBytes(32)), clock: () => now, ttlMs: 60_000, log: silentLogger });
  return { store, states, advance: (ms: number) => void (now += ms) };
}

describe('OAuth state store', () => {
  it('redeems a state once, for its tenant and connection, with the PKCE verifier that matches the challenge', async () => {
    const { store, states } = setup();
    const issued = await states.issue('t', 'crm', true);
    assert.ok(issued.codeChallenge);
    assert.equal(await store.get(COLLECTIONS.states, issued.state), null, 'only the hash of the state is stored');
    const redeemed = await states.redeem(issued.state);
    assert.ok(redeemed.ok);
    assert.equal(redeemed.state.tenantId, 't');
    assert.equal(redeemed.state.handle, 'crm');
    assert.equal(pkceChallenge(redeemed.verifier ?? ''), issued.codeChallenge);
    assert.deepEqual(await states.redeem(issued.state), { ok: false, reason: 'invalid' });
  });

  it('refuses an expired state and an unknown one', async () => {
    const { states, advance } = setup();
    const issued = await states.issue('t', 'crm', false);
    advance(60_000);
    const expired = await states.redeem(issued.state);
    assert.equal(expired.ok, false);
    assert.equal(!expired.ok && expired.reason, 'expired');
    assert.deepEqual(await states.redeem('never-issued'), { ok: false, reason: 'invalid' });
  });

  it('purges states past their expiry and keeps the others', async () => {
    const { store, states, advance } = setup();
    const old = await states.issue('t', 'old', false);
    advance(30_000);
    const fresh = await states.issue('t', 'fresh', false);
    advance(31_000);
    assert.equal(await states.purgeExpired(), 1);
    assert.equal(await store.get(COLLECTIONS.states, hashState(old.state)), null);
    assert.ok(await store.get(COLLECTIONS.states, hashState(fresh.state)));
  });
});
