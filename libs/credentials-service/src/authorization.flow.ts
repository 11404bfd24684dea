/**
 * Creating connections and authorizing them: the authorization-code flow (a state per link,
 * PKCE where the provider wants it, the callback redeeming the state and exchanging the code)
 * and the client-credentials grant (no user consent: authorized at once).
 */
import { CodestepError, ConflictError, ValidationError } from '@codestep/core';
import type { BrokerContext } from './broker.context.ts';
import { toView, type ConnectionDoc, type ConnectionView } from './connection.model.ts';
import type { CompleteAuthorizationInput, CompleteOutcome } from './credentials.types.ts';
import { checkHandle, checkTenantId } from './names.policy.ts';
import { buildAuthorizeUrl, type TokenSet } from './oauth.client.ts';
import { credentialsOf, describeRejection, sealCredentials, tokenCall } from './provider-calls.ts';
import { resolveScopes, type OAuthProvider } from './providers.ts';

export interface CreateConnectionInput {
  tenantId: string;
  handle: string;
  provider: string;
  permissions?: readonly string[];
  scopes?: readonly string[];
}

function newConnectionDoc(tenantId: string, handle: string, provider: OAuthProvider, scopes: string[], permissions: string[], now: number): ConnectionDoc {
  return {
    tenantId,
    handle,
    provider: provider.id,
    grantType: provider.grantType,
    scopes,
    permissions,
    grantedScopes: [],
    status: 'pending',
    statusReason: '',
    createdAt: now,
    updatedAt: now,
    authorizedAt: null,
    refreshedAt: null,
    credentials: null,
    expiresAt: null,
    generation: 0,
    lease: null,
    lastRefreshFailure: null,
  };
}

/** The record with fresh tokens (after a code exchange or a new client-credentials token). */
function withTokens(ctx: BrokerContext, doc: ConnectionDoc, tokens: TokenSet, now: number, accountId?: string): ConnectionDoc {
  return {
    ...doc,
    ...(accountId ? { accountId } : {}),
    status: 'active',
    statusReason: '',
    credentials: sealCredentials(ctx.box, doc.tenantId, doc.handle, credentialsOf(tokens)),
    expiresAt: tokens.expiresIn === undefined ? null : now + tokens.expiresIn * 1000,
    grantedScopes: tokens.scopes ?? doc.scopes,
    authorizedAt: now,
    generation: doc.generation + 1,
    lease: null,
    lastRefreshFailure: null,
    updatedAt: now,
  };
}

const taken = (handle: string) =>
  new ConflictError(`a connection named "${handle}" already exists in this account: handles are unique and cannot be renamed, so pick another handle or reconnect the existing one`);

async function clientCredentialsTokens(ctx: BrokerContext, provider: OAuthProvider, scopes: readonly string[]): Promise<TokenSet> {
  const result = await tokenCall(provider, 'client_credentials', () => ctx.oauth.clientCredentials(provider, [...scopes]));
  if (result.ok) return result.tokens;
  throw result.kind === 'rejected'
    ? new CodestepError('PROVIDER_REJECTED', `${provider.displayName} refused the platform's client credentials (${describeRejection(result)}); ask the operator to check the provider configuration`)
    : new CodestepError('UNAVAILABLE', `${provider.displayName} could not be reached (${result.description}); try again later`);
}

async function newAuthorization(ctx: BrokerContext, doc: ConnectionDoc, provider: OAuthProvider): Promise<{ authorizeUrl: string; stateExpiresAt: number }> {
  const issued = await ctx.states.issue(doc.tenantId, doc.handle, Boolean(provider.pkce));
  const authorizeUrl = buildAuthorizeUrl(provider, { redirectUri: ctx.redirectUri, scopes: doc.scopes, state: issued.state, ...(issued.codeChallenge ? { codeChallenge: issued.codeChallenge } : {}) });
  ctx.log.info({ tenantId: doc.tenantId, handle: doc.handle, provider: provider.id, pkce: Boolean(issued.codeChallenge) }, 'authorization started');
  return { authorizeUrl, stateExpiresAt: issued.expiresAt };
}

/**
 * Creates a connection and starts its authorization. Client-credentials connections are
 * authorized at once (no user consent): `authorizeUrl` is then empty, and when no token could
 * be had nothing is created.
 */
export async function createConnection(ctx: BrokerContext, input: CreateConnectionInput): Promise<{ connection: ConnectionView; authorizeUrl: string }> {
  const tenantId = checkTenantId(input.tenantId);
  const handle = checkHandle(input.handle);
  const provider = ctx.providers.require(input.provider);
  const permissions = [...new Set(input.permissions ?? [])];
  const scopes = resolveScopes(provider, permissions, input.scopes ?? []);
  if (provider.permissions.length > 0 && scopes.length === 0) {
    throw new ValidationError(`choose at least one ${provider.displayName} permission: ${provider.permissions.map((p) => p.id).join(', ')}`, { field: 'permissions' });
  }
  const doc = newConnectionDoc(tenantId, handle, provider, scopes, permissions, ctx.clock());
  if (provider.grantType === 'client_credentials') {
    // The token first: a connection is created authorized or not at all.
    if (await ctx.connections.find(tenantId, handle)) throw taken(handle);
    const tokens = await clientCredentialsTokens(ctx, provider, scopes);
    const now = ctx.clock();
    const active = withTokens(ctx, { ...doc, createdAt: now }, tokens, now);
    if (!(await ctx.connections.insert(active, { $case: 'connectionAuthorized', value: { handle, provider: provider.id, scopes: active.grantedScopes } }))) throw taken(handle);
    ctx.log.info({ tenantId, handle, provider: provider.id }, 'connection created');
    return { connection: toView(active), authorizeUrl: '' };
  }
  if (!(await ctx.connections.insert(doc))) throw taken(handle);
  ctx.log.info({ tenantId, handle, provider: provider.id }, 'connection created');
  const { authorizeUrl } = await newAuthorization(ctx, doc, provider);
  return { connection: toView(doc), authorizeUrl };
}

/** Authorizes (again) a client-credentials connection with a new token. */
async function authorizeClientCredentials(ctx: BrokerContext, tenantId: string, handle: string, provider: OAuthProvider): Promise<ConnectionView> {
  const stored = await ctx.connections.require(tenantId, handle);
  const tokens = await clientCredentialsTokens(ctx, provider, stored.doc.scopes);
  return toView(await storeTokens(ctx, tenantId, handle, tokens, provider));
}

/** Writes fresh tokens and announces the authorization. */
async function storeTokens(ctx: BrokerContext, tenantId: string, handle: string, tokens: TokenSet, provider: OAuthProvider, accountId?: string): Promise<ConnectionDoc> {
  const now = ctx.clock();
  const written = await ctx.connections.update(
    tenantId,
    handle,
    (doc) => withTokens(ctx, doc, tokens, now, accountId),
    (next) => ({ $case: 'connectionAuthorized', value: { handle, provider: provider.id, scopes: next.grantedScopes } }),
  );
  return written.doc;
}

/**
 * Starts (again) the authorization of an existing connection: after needs_reauth or revoke,
 * after a denied consent, or to renew consent.
 */
export async function startAuthorization(ctx: BrokerContext, input: { tenantId: string; handle: string }): Promise<{ authorizeUrl: string; stateExpiresAt: number; connection: ConnectionView }> {
  const tenantId = checkTenantId(input.tenantId);
  const handle = checkHandle(input.handle);
  const stored = await ctx.connections.require(tenantId, handle);
  const provider = ctx.providers.get(stored.doc.provider);
  if (!provider) throw new CodestepError('FAILED_PRECONDITION', `the provider "${stored.doc.provider}" of connection "${handle}" is no longer offered by this platform`);
  if (provider.grantType === 'client_credentials') {
    const connection = await authorizeClientCredentials(ctx, tenantId, handle, provider);
    return { authorizeUrl: '', stateExpiresAt: 0, connection };
  }
  const started = await newAuthorization(ctx, stored.doc, provider);
  return { ...started, connection: toView(stored.doc) };
}

/**
 * The OAuth callback: redeems the state (single use, expiring, bound to tenant and handle),
 * exchanges the code and stores the tokens. Every expected failure is an outcome with a plain
 * sentence for the user, not a throw.
 */
export async function completeAuthorization(ctx: BrokerContext, input: CompleteAuthorizationInput): Promise<CompleteOutcome> {
  // A provider error is worth showing even when the state is unusable: it says what went wrong.
  const providerSaid = input.error ? `The provider reported: ${[input.error, input.errorDescription].filter(Boolean).join(': ').slice(0, 300)}. ` : '';
  if (!input.state || input.state.length > 200) {
    return { ok: false, errorCode: 'INVALID_STATE', error: `${providerSaid}This authorization link has no valid state. Start connecting again from OAuth Connections.` };
  }
  const redeemed = await ctx.states.redeem(input.state);
  if (!redeemed.ok && redeemed.reason === 'invalid') {
    return { ok: false, errorCode: 'INVALID_STATE', error: `${providerSaid}This authorization link is not valid or was already used. Start connecting again from OAuth Connections.` };
  }
  if (!redeemed.ok) {
    return {
      ok: false,
      errorCode: 'STATE_EXPIRED',
      error: `This authorization link expired (links are valid for ${Math.round(ctx.states.ttlMs / 60_000)} minutes). Start connecting "${redeemed.state?.handle ?? ''}" again.`,
    };
  }
  const st = redeemed.state;
  const stored = await ctx.connections.find(st.tenantId, st.handle);
  if (!stored) return { ok: false, errorCode: 'CONNECTION_GONE', error: `The connection "${st.handle}" no longer exists. Create it again from OAuth Connections.` };
  const conn = stored.doc;
  const provider = ctx.providers.get(conn.provider);
  if (!provider)
    return {
      ok: false,
      errorCode: 'PROVIDER_NOT_CONFIGURED',
      error: `The provider "${conn.provider}" of connection "${conn.handle}" is no longer offered by this platform.`,
      connection: toView(conn),
    };
  return exchangeCode(ctx, conn, provider, input, redeemed.verifier);
}

/** The callback's second half: the provider's answer for a valid state. */
async function exchangeCode(ctx: BrokerContext, conn: ConnectionDoc, provider: OAuthProvider, input: CompleteAuthorizationInput, verifier: string | undefined): Promise<CompleteOutcome> {
  const log = { tenantId: conn.tenantId, handle: conn.handle, provider: provider.id };
  if (input.error) {
    const said = [input.error, input.errorDescription].filter(Boolean).join(': ').slice(0, 300);
    ctx.log.info({ ...log, providerError: input.error.slice(0, 100) }, 'authorization denied by the provider');
    return {
      ok: false,
      errorCode: 'PROVIDER_DENIED',
      error: `${provider.displayName} did not grant access to "${conn.handle}" (${said}). Nothing was connected; start connecting again to retry.`,
      connection: toView(conn),
    };
  }
  if (!input.code) return { ok: false, errorCode: 'INVALID_REQUEST', error: `${provider.displayName} sent no authorization code. Start connecting "${conn.handle}" again.`, connection: toView(conn) };
  const code = input.code;
  const result = await tokenCall(provider, 'authorization_code', () => ctx.oauth.exchangeCode(provider, { code, redirectUri: ctx.redirectUri, ...(verifier ? { codeVerifier: verifier } : {}) }));
  if (!result.ok) {
    ctx.log.warn({ ...log, kind: result.kind, status: result.status, providerError: result.kind === 'rejected' ? result.error : undefined }, 'code exchange failed');
    return result.kind === 'rejected'
      ? {
          ok: false,
          errorCode: 'PROVIDER_REJECTED',
          error: `${provider.displayName} refused the authorization (${describeRejection(result)}). Start connecting "${conn.handle}" again.`,
          connection: toView(conn),
        }
      : {
          ok: false,
          errorCode: 'PROVIDER_UNAVAILABLE',
          error: `${provider.displayName} could not be reached to finish the authorization (${result.description}). Try connecting "${conn.handle}" again later.`,
          connection: toView(conn),
        };
  }
  // Which account the install is for (HubSpot: the portal), so the account's calls find this tenant.
  const account = await ctx.oauth.accountOf(provider, result.tokens.accessToken);
  if (!account.ok) ctx.log.warn({ ...log, reason: account.description }, 'the account of the new token is unknown; calls from that account will not find this connection until it is reconnected');
  const doc = await storeTokens(ctx, conn.tenantId, conn.handle, result.tokens, provider, account.ok ? account.accountId : undefined);
  ctx.log.info({ ...log, expiresAt: doc.expiresAt, accountId: doc.accountId }, 'connection authorized');
  return { ok: true, connection: toView(doc) };
}
