/**
 * Pending authorizations: one state per authorization link, stored by its sha256 (the state
 * itself is only ever in the link), single use (redeeming deletes it), expiring, bound to a
 * tenant and a connection, with the PKCE verifier sealed to all of these.
 *
 * The collection stays on the plain store, not a tenant-scoped one: a provider's callback brings
 * only the state, and the tenant is learned from the redeemed document, not known before it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock, Logger } from '@codestep/core';
import type { DocumentStore } from '@codestep/store';
import { aad, COLLECTIONS, type OAuthStateDoc } from './connection.model.ts';
import { createPkce } from './oauth.client.ts';
import { errorSummary } from './provider-calls.ts';
import type { SecretBox } from './secret-box.ts';

/** A state redeemed: who it was for, and the PKCE verifier when there is one. */
export type Redeemed = { ok: true; state: OAuthStateDoc; verifier: string | undefined } | { ok: false; reason: 'invalid' | 'expired'; state?: OAuthStateDoc };

export interface OAuthStateStore {
  ensure(): Promise<void>;
  /** A new state for a connection's authorization, with a PKCE pair when asked. */
  issue(tenantId: string, handle: string, withPkce: boolean): Promise<{ state: string; expiresAt: number; codeChallenge?: string }>;
  /** Redeems a state once: of two concurrent redemptions, one wins. */
  redeem(state: string): Promise<Redeemed>;
  /** Deletes states past their expiry (links never used). Returns how many. */
  purgeExpired(limit?: number): Promise<number>;
  /** How long a link stays valid, ms. */
  readonly ttlMs: number;
}

export function hashState(state: string): string {
  return createHash('sha256').update(state).digest('base64url');
}

export function createOAuthStateStore(deps: { store: DocumentStore; box: SecretBox; clock: Clock; ttlMs: number; log: Logger }): OAuthStateStore {
  const { store, box, clock, ttlMs, log } = deps;

  async function purgeExpired(limit = 1000): Promise<number> {
    const now = clock();
    const states = await store.find<OAuthStateDoc>(COLLECTIONS.states, { orderBy: { field: 'expiresAt', direction: 'asc' }, limit });
    let purged = 0;
    for (const s of states) {
      if (s.doc.expiresAt > now) break;
      if (await store.delete(COLLECTIONS.states, s.id)) purged++;
    }
    return purged;
  }

  return {
    ttlMs,
    async ensure() {
      await store.ensureCollection(COLLECTIONS.states, [{ fields: ['expiresAt'] }]);
    },
    async issue(tenantId, handle, withPkce) {
      const state = randomBytes(32).toString('base64url');
      const stateId = hashState(state);
      const pkce = withPkce ? createPkce() : undefined;
      const now = clock();
      const doc: OAuthStateDoc = {
        tenantId,
        handle,
        createdAt: now,
        expiresAt: now + ttlMs,
        verifier: pkce ? box.seal(pkce.verifier, aad.state(stateId, tenantId, handle)) : null,
      };
      await store.insertIfAbsent(COLLECTIONS.states, stateId, doc);
      // Links nobody finished pile up otherwise; a little cleaning per new link keeps them bounded.
      await purgeExpired(50).catch((error: unknown) => log.warn({ error: errorSummary(error) }, 'purging expired authorization states failed'));
      return { state, expiresAt: doc.expiresAt, ...(pkce ? { codeChallenge: pkce.challenge } : {}) };
    },
    async redeem(state) {
      const stateId = hashState(state);
      const found = await store.get<OAuthStateDoc>(COLLECTIONS.states, stateId);
      // Deleting is the redemption: of two concurrent callbacks with one state, one wins.
      if (!found || !(await store.delete(COLLECTIONS.states, stateId))) return { ok: false, reason: 'invalid' };
      const st = found.doc;
      if (st.expiresAt <= clock()) return { ok: false, reason: 'expired', state: st };
      const verifier = st.verifier ? box.open(st.verifier, aad.state(stateId, st.tenantId, st.handle)) : undefined;
      return { ok: true, state: st, verifier };
    },
    purgeExpired,
  };
}
