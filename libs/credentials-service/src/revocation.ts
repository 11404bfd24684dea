/**
 * Revoking connections: the tokens are revoked at the provider where it has a revocation
 * endpoint (best effort) and deleted here either way.
 */
import type { BrokerContext } from './broker.context.ts';
import { toView, type ConnectionView, type StoredCredentials } from './connection.model.ts';
import { checkHandle, checkTenantId } from './names.policy.ts';
import type { OAuthClient } from './oauth.client.ts';
import { openCredentials } from './provider-calls.ts';
import type { OAuthProvider } from './providers.ts';

/** Best effort; returns why it failed, or undefined when it worked. */
export async function revokeAtProvider(oauth: OAuthClient, provider: OAuthProvider, creds: StoredCredentials): Promise<string | undefined> {
  const failures: string[] = [];
  if (creds.refreshToken) {
    const r = await oauth.revoke(provider, creds.refreshToken, 'refresh_token');
    if (!r.ok) failures.push(r.description);
  }
  // HubSpot revokes refresh tokens only; RFC 7009 providers take the access token too.
  if (provider.revocation?.style === 'rfc7009') {
    const r = await oauth.revoke(provider, creds.accessToken, 'access_token');
    if (!r.ok) failures.push(r.description);
  }
  return failures.length ? failures.join('; ') : undefined;
}

/**
 * Revokes the connection's tokens at the provider when it has a revocation endpoint, and
 * marks the connection revoked either way (its tokens are deleted here). Idempotent.
 * @throws NotFoundError
 */
export async function revokeConnection(ctx: BrokerContext, input: { tenantId: string; handle: string }): Promise<ConnectionView> {
  const tenantId = checkTenantId(input.tenantId);
  const handle = checkHandle(input.handle);
  const stored = await ctx.connections.require(tenantId, handle);
  if (stored.doc.status === 'revoked') return toView(stored.doc);
  const provider = ctx.providers.get(stored.doc.provider);
  const creds = openCredentials(ctx.box, stored.doc);
  let reason = 'revoked by a user';
  if (creds && provider?.revocation) {
    const outcome = await revokeAtProvider(ctx.oauth, provider, creds);
    if (outcome) reason += `; ${provider.displayName}'s revocation endpoint failed (${outcome}), the tokens were deleted here`;
  } else if (creds && provider) {
    reason += `; ${provider.displayName} has no revocation endpoint, the tokens were deleted here`;
  }
  const now = ctx.clock();
  const written = await ctx.connections.update(
    tenantId,
    handle,
    (doc) =>
      doc.status === 'revoked'
        ? null
        : { ...doc, status: 'revoked', statusReason: reason, credentials: null, expiresAt: null, lease: null, lastRefreshFailure: null, generation: doc.generation + 1, updatedAt: now },
    () => ({ $case: 'connectionRevoked', value: { handle } }),
  );
  if (written.changed) ctx.log.info({ tenantId, handle, provider: stored.doc.provider }, 'connection revoked');
  return toView(written.doc);
}
