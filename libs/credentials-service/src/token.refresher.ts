/**
 * Serving access tokens to actions, refreshed first when they expire within the skew.
 *
 * Refresh coordination does not rely on anything in this process: the refresh lease is a field
 * of the connection record, taken with compare-and-set, so any number of broker instances
 * sharing the store refresh a connection once. Whoever does not hold the lease polls the record
 * until the holder has written its result (new token, needs_reauth, or an outage note).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodestepError } from '@codestep/core';
import { MetricAttributes, codestepMetrics } from '@codestep/telemetry';
import type { BrokerContext } from './broker.context.ts';
import { needsReauthMessage, statusOutcome } from './connection-status.ts';
import type { ConnectionDoc, StoredCredentials } from './connection.model.ts';
import type { GetOAuthTokenInput, TokenErrorCode, TokenOutcome } from './credentials.types.ts';
import { checkTenantId, isValidHandle } from './names.policy.ts';
import type { TokenResult, TokenSet } from './oauth.client.ts';
import { describeRejection, errorSummary, openCredentials, sealCredentials, tokenCall } from './provider-calls.ts';
import type { OAuthProvider } from './providers.ts';
import { revokeAtProvider } from './revocation.ts';

export interface RefresherSettings {
  /** Refresh this long before expiry, ms. */
  skewMs: number;
  /** How long a refresh lease holds, ms. */
  leaseMs: number;
  /** How long a caller waits for another instance's refresh, ms. */
  waitMs: number;
  /** How often a waiting caller re-reads the record, ms. */
  pollMs: number;
  /** How long a passing refresh failure is reported instead of retried, ms. */
  backoffMs: number;
  /** Names this instance in lease holder ids. */
  instanceId: string;
}

export interface TokenRefresher {
  /** A usable access token for an action. Never throws: every failure is an outcome naming the connection and the fix. */
  getOAuthToken(input: GetOAuthTokenInput): Promise<TokenOutcome>;
}

/** Rejections after which only the user can help: the grant is gone. */
const GRANT_GONE = new Set(['invalid_grant', 'BAD_REFRESH_TOKEN', 'no_refresh_token']);

/** An outage need not fail a caller whose token has not actually expired yet. */
function stillValidOr(doc: ConnectionDoc, creds: StoredCredentials | null, now: number, outcome: TokenOutcome): TokenOutcome {
  if (creds && doc.expiresAt !== null && doc.expiresAt > now + 1_000) return { ok: true, token: creds.accessToken, expiresAt: doc.expiresAt };
  return outcome;
}

const fail = (errorCode: TokenErrorCode, error: string): TokenOutcome => ({ ok: false, errorCode, error });

/** Serves from the record, waits for another holder, or takes the lease and refreshes. */
async function token(ctx: BrokerContext, s: RefresherSettings, tenantId: string, handle: string, input: GetOAuthTokenInput): Promise<TokenOutcome> {
  const started = ctx.clock();
  const deadline = started + s.waitMs;
  for (;;) {
    const stored = await ctx.connections.find(tenantId, handle);
    if (!stored) return fail('NOT_FOUND', `No OAuth connection named "${handle}" exists in this account. Create it under OAuth Connections, or fix the handle in your code.`);
    const doc = stored.doc;
    const unusable = statusOutcome(doc);
    if (unusable) return unusable;
    const now = ctx.clock();
    const creds = openCredentials(ctx.box, doc);
    if (creds && !(doc.expiresAt !== null && doc.expiresAt - s.skewMs <= now)) {
      ctx.log.debug({ tenantId, handle, workflowId: input.workflowId, executionId: input.executionId }, 'token served');
      return { ok: true, token: creds.accessToken, expiresAt: doc.expiresAt };
    }
    const leaseHeld = doc.lease !== null && doc.lease.until > now;
    if (!leaseHeld && doc.lastRefreshFailure && (doc.lastRefreshFailure.at >= started || now - doc.lastRefreshFailure.at < s.backoffMs)) {
      // The refresh everyone waited for failed for a passing reason: report it, do not pile on.
      return stillValidOr(doc, creds, now, fail(doc.lastRefreshFailure.code as TokenErrorCode, doc.lastRefreshFailure.message));
    }
    if (leaseHeld) {
      // Someone is renewing a token that still works: no need to wait for the new one.
      if (creds && doc.expiresAt !== null && doc.expiresAt > now + 1_000) return { ok: true, token: creds.accessToken, expiresAt: doc.expiresAt };
      if (now >= deadline) {
        return stillValidOr(doc, creds, now, fail('PROVIDER_UNAVAILABLE', `The token of OAuth connection "${handle}" is being refreshed and the provider has not answered yet. Try again later.`));
      }
      await sleep(s.pollMs * (0.5 + Math.random()));
      continue;
    }
    const lease = { holder: `${s.instanceId}/${randomUUID()}`, until: now + s.leaseMs };
    if (!(await ctx.connections.compareAndSet({ ...doc, lease }, stored.version))) continue;
    return await refreshHolding(ctx, { ...doc, lease }, creds, input);
  }
}

/** Refreshes while holding the lease, writes the result for everyone, releases the lease. */
async function refreshHolding(ctx: BrokerContext, doc: ConnectionDoc, creds: StoredCredentials | null, input: GetOAuthTokenInput): Promise<TokenOutcome> {
  const holder = doc.lease?.holder;
  const mine = (cur: ConnectionDoc) => cur.lease?.holder === holder || (cur.lease === null && cur.generation === doc.generation);
  const log = { tenantId: doc.tenantId, handle: doc.handle, provider: doc.provider, workflowId: input.workflowId, executionId: input.executionId };
  const provider = ctx.providers.get(doc.provider);
  if (!provider) {
    await ctx.connections.update(doc.tenantId, doc.handle, (cur) => (mine(cur) ? { ...cur, lease: null } : null));
    return fail('PROVIDER_NOT_CONFIGURED', `OAuth connection "${doc.handle}" uses the provider "${doc.provider}", which this platform no longer offers. Ask the operator.`);
  }
  let result: TokenResult;
  if (doc.grantType === 'client_credentials') {
    result = await tokenCall(provider, 'client_credentials', () => ctx.oauth.clientCredentials(provider, doc.scopes));
  } else if (creds?.refreshToken) {
    const refreshToken = creds.refreshToken;
    result = await tokenCall(provider, 'refresh_token', () => ctx.oauth.refresh(provider, refreshToken));
  } else {
    result = { ok: false, kind: 'rejected', status: 0, error: 'no_refresh_token', description: `${provider.displayName} issued no refresh token, so the expired access token cannot be renewed` };
  }
  const now = ctx.clock();
  const counted = (outcome: 'refreshed' | 'needs_reauth' | 'failed') => codestepMetrics().tokenRefreshes.add(1, { [MetricAttributes.provider]: doc.provider, [MetricAttributes.outcome]: outcome });
  if (result.ok) {
    counted('refreshed');
    return refreshed(ctx, doc, creds, provider, result.tokens, now, mine, log);
  }
  if (result.kind === 'rejected' && doc.grantType === 'authorization_code' && GRANT_GONE.has(result.error)) {
    counted('needs_reauth');
    const reason = `${provider.displayName} refused to refresh the token (${describeRejection(result)})`;
    const written = await ctx.connections.update(
      doc.tenantId,
      doc.handle,
      (cur) =>
        cur.status !== 'active' || !mine(cur)
          ? null
          : { ...cur, status: 'needs_reauth', statusReason: reason, credentials: null, expiresAt: null, lease: null, lastRefreshFailure: null, generation: cur.generation + 1, updatedAt: now },
      () => ({ $case: 'connectionNeedsReauth', value: { handle: doc.handle, reason } }),
    );
    ctx.log.warn({ ...log, providerError: result.error }, 'connection needs re-authorization');
    return statusOutcome(written.doc) ?? fail('NEEDS_REAUTH', needsReauthMessage(doc.handle, reason));
  }
  const failure =
    result.kind === 'unavailable'
      ? { code: 'PROVIDER_UNAVAILABLE', message: `Could not refresh the token of OAuth connection "${doc.handle}": ${provider.displayName} is unreachable (${result.description}). Try again later.` }
      : {
          code: 'PROVIDER_REJECTED',
          message: `${provider.displayName} rejected the token refresh of OAuth connection "${doc.handle}" (${describeRejection(result)}). This is a platform configuration problem: contact your administrator.`,
        };
  ctx.log.warn({ ...log, kind: result.kind, status: result.status }, 'token refresh failed');
  counted('failed');
  await ctx.connections.update(doc.tenantId, doc.handle, (cur) => (mine(cur) ? { ...cur, lease: null, lastRefreshFailure: { at: now, ...failure }, updatedAt: now } : null));
  return stillValidOr(doc, creds, now, fail(failure.code as TokenErrorCode, failure.message));
}

/** Writes refreshed tokens, unless the connection changed meanwhile (revoked, reconnected, taken over). */
async function refreshed(
  ctx: BrokerContext,
  doc: ConnectionDoc,
  creds: StoredCredentials | null,
  provider: OAuthProvider,
  tokens: TokenSet,
  now: number,
  mine: (cur: ConnectionDoc) => boolean,
  log: Record<string, unknown>,
): Promise<TokenOutcome> {
  // Rotating providers send a new refresh token; the others keep the old one valid.
  const refreshToken = tokens.refreshToken ?? creds?.refreshToken;
  const next: StoredCredentials = { accessToken: tokens.accessToken, ...(refreshToken ? { refreshToken } : {}) };
  const sealed = sealCredentials(ctx.box, doc.tenantId, doc.handle, next);
  const expiresAt = tokens.expiresIn === undefined ? null : now + tokens.expiresIn * 1000;
  const written = await ctx.connections.update(
    doc.tenantId,
    doc.handle,
    (cur) =>
      cur.status !== 'active' || !mine(cur)
        ? null
        : {
            ...cur,
            credentials: sealed,
            expiresAt,
            grantedScopes: tokens.scopes ?? cur.grantedScopes,
            refreshedAt: now,
            generation: cur.generation + 1,
            lease: null,
            lastRefreshFailure: null,
            updatedAt: now,
          },
    () => ({ $case: 'connectionRefreshed', value: { handle: doc.handle, expiresAt: expiresAt ?? 0 } }),
  );
  if (!written.changed) {
    // Revoked (or reconnected) while we refreshed: these tokens must not outlive that.
    ctx.log.warn({ ...log, status: written.doc.status }, 'refresh result discarded: the connection changed meanwhile');
    if (provider.revocation && written.doc.status === 'revoked') await revokeAtProvider(ctx.oauth, provider, next);
    // Still active: another holder took over after our lease ran out and wrote its own
    // tokens. The access token we were given works all the same.
    return statusOutcome(written.doc) ?? { ok: true, token: tokens.accessToken, expiresAt };
  }
  ctx.log.info({ ...log, expiresAt, rotated: Boolean(tokens.refreshToken && tokens.refreshToken !== creds?.refreshToken) }, 'token refreshed');
  return { ok: true, token: tokens.accessToken, expiresAt };
}

async function getOAuthToken(ctx: BrokerContext, s: RefresherSettings, input: GetOAuthTokenInput): Promise<TokenOutcome> {
  const { handle } = input;
  try {
    if (!input.tenantId) return fail('INVALID_ARGUMENT', 'The request names no tenant.');
    const tenantId = checkTenantId(input.tenantId);
    if (typeof handle !== 'string' || !isValidHandle(handle)) {
      return fail('NOT_FOUND', `No OAuth connection named ${JSON.stringify(handle)}: handles use lowercase letters, digits and hyphens only (e.g. my-hubspot). Fix the handle in your code.`);
    }
    if (!input.declaredHandles.includes(handle)) {
      return fail('NOT_DECLARED', `OAuth connection "${handle}" is not declared by this action. Add it to the action's connections to use it.`);
    }
    return await token(ctx, s, tenantId, handle, input);
  } catch (error) {
    ctx.log.error({ tenantId: input.tenantId, handle, error: errorSummary(error) }, 'getOAuthToken failed');
    if (error instanceof CodestepError && error.code === 'DECRYPTION_FAILED') {
      return fail('DECRYPTION_FAILED', `The stored token of OAuth connection "${handle}" could not be decrypted (the platform's master key changed?). Reconnect it under OAuth Connections.`);
    }
    return fail('INTERNAL', `Could not get a token for OAuth connection "${handle}" because of an internal error. Try again.`);
  }
}

/** The refresher over the broker's context. */
export function createTokenRefresher(ctx: BrokerContext, settings: RefresherSettings): TokenRefresher {
  return { getOAuthToken: (input) => getOAuthToken(ctx, settings, input) };
}
