/**
 * The broker's domain API: OAuth connections (create, authorize, refresh, revoke) and action
 * secrets, for one tenant at a time, encrypted at rest.
 *
 * Refresh coordination does not rely on anything in this process: the refresh lease is a field
 * of the connection record, taken with `compareAndSet`, so any number of broker instances
 * sharing the store refresh a connection once. Whoever does not hold the lease polls the record
 * until the holder has written its result (new token, needs_reauth, or an outage note).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodestepError, ConflictError, NotFoundError, ValidationError, createLogger, systemClock, type Clock, type Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { Topics } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { withSpan } from '@codestep/telemetry';
import { appendConnectionEvent, type ConnectionEvent } from './connection.events.ts';
import {
  COLLECTIONS,
  aad,
  connectionId,
  secretId,
  toView,
  type ConnectionDoc,
  type ConnectionView,
  type OAuthStateDoc,
  type SecretDoc,
  type StoredCredentials,
} from './connection.model.ts';
import { checkHandle, checkSecretName, checkSecretValue, checkTenantId, isValidHandle } from './names.policy.ts';
import { OAuthClient, buildAuthorizeUrl, createPkce, type FetchLike, type TokenResult, type TokenSet } from './oauth.client.ts';
import { ProviderRegistry, resolveScopes, type OAuthProvider, type ProviderPermission, type GrantType } from './providers.ts';
import { createSecretBox, type SecretBox } from './secret-box.ts';

export interface CredentialsServiceOptions {
  store: DocumentStore;
  eventLog: EventLog;
  /** 32 bytes; see `loadOrCreateMasterKey` and `parseMasterKey`. */
  masterKey: Uint8Array;
  providers: readonly OAuthProvider[];
  /** The gateway's public `/oauth/callback` URL, registered with every provider. */
  redirectUri: string;
  clock?: Clock;
  /** For provider calls (token, revocation). @default globalThis.fetch */
  fetch?: FetchLike;
  /** Timeout of one provider call, ms. @default 8000 */
  httpTimeoutMs?: number;
  /** Refresh a token this long before it expires, ms. @default 60000 */
  refreshSkewMs?: number;
  /** How long a refresh lease holds, ms; must exceed `httpTimeoutMs`. @default 3 × httpTimeoutMs */
  leaseMs?: number;
  /**
   * How long a caller waits for another instance's refresh before answering "try later", ms.
   * Keep it under the callers' gRPC deadline (the executor's default is 10 s).
   * @default httpTimeoutMs + 1000
   */
  refreshWaitMs?: number;
  /** How often a waiting caller re-reads the connection, ms. @default 25 */
  pollIntervalMs?: number;
  /** After a refresh failed for a passing reason, callers get that failure for this long instead of retrying, ms. @default 5000 */
  refreshFailureBackoffMs?: number;
  /** How long an authorization link (its state) stays valid, ms. @default 600000 (10 min) */
  stateTtlMs?: number;
  /** Names this instance in lease holder ids (logs, debugging). @default a random id */
  instanceId?: string;
  logger?: Logger;
}

export type TokenErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_DECLARED'
  | 'NOT_FOUND'
  | 'NOT_AUTHORIZED'
  | 'NEEDS_REAUTH'
  | 'REVOKED'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_REJECTED'
  | 'PROVIDER_NOT_CONFIGURED'
  | 'DECRYPTION_FAILED'
  | 'INTERNAL';

/** `api.getOAuthToken(handle)` on the broker side: a token or a sentence saying what to do. */
export type TokenOutcome = { ok: true; token: string; expiresAt: number | null } | { ok: false; errorCode: TokenErrorCode; error: string };

export interface GetOAuthTokenInput {
  tenantId: string;
  workflowId?: string;
  executionId?: string;
  handle: string;
  /** The handles the running action declares. */
  declaredHandles: readonly string[];
}

export type CompleteErrorCode = 'INVALID_REQUEST' | 'INVALID_STATE' | 'STATE_EXPIRED' | 'CONNECTION_GONE' | 'PROVIDER_DENIED' | 'PROVIDER_REJECTED' | 'PROVIDER_UNAVAILABLE' | 'PROVIDER_NOT_CONFIGURED';

export type CompleteOutcome = { ok: true; connection: ConnectionView } | { ok: false; errorCode: CompleteErrorCode; error: string; connection?: ConnectionView };

export interface CompleteAuthorizationInput {
  state: string;
  code?: string;
  /** The provider's `error` parameter on the callback (e.g. `access_denied`). */
  error?: string;
  errorDescription?: string;
}

export interface ProviderView {
  id: string;
  displayName: string;
  grantType: GrantType;
  defaultScopes: readonly string[];
  permissions: readonly ProviderPermission[];
}

export interface SecretView {
  name: string;
  updatedAt: number;
}

/** Rejections after which only the user can help: the grant is gone. */
const GRANT_GONE = new Set(['invalid_grant', 'BAD_REFRESH_TOKEN', 'no_refresh_token']);

export class CredentialsBroker {
  readonly #store: DocumentStore;
  readonly #eventLog: EventLog;
  readonly #box: SecretBox;
  readonly #providers: ProviderRegistry;
  readonly #redirectUri: string;
  readonly #clock: Clock;
  readonly #oauth: OAuthClient;
  readonly #skewMs: number;
  readonly #leaseMs: number;
  readonly #waitMs: number;
  readonly #pollMs: number;
  readonly #backoffMs: number;
  readonly #stateTtlMs: number;
  readonly #instanceId: string;
  readonly #log: Logger;

  constructor(options: CredentialsServiceOptions) {
    this.#store = options.store;
    this.#eventLog = options.eventLog;
    this.#box = createSecretBox(options.masterKey);
    this.#providers = new ProviderRegistry(options.providers);
    if (!URL.parse(options.redirectUri)) throw new ValidationError(`the OAuth redirect URI ${JSON.stringify(options.redirectUri)} is not a URL`);
    this.#redirectUri = options.redirectUri;
    this.#clock = options.clock ?? systemClock;
    const httpTimeoutMs = options.httpTimeoutMs ?? 8_000;
    this.#oauth = new OAuthClient({ timeoutMs: httpTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.#skewMs = options.refreshSkewMs ?? 60_000;
    this.#leaseMs = options.leaseMs ?? 3 * httpTimeoutMs;
    if (this.#leaseMs <= httpTimeoutMs) throw new ValidationError('the refresh lease must last longer than one provider call (leaseMs > httpTimeoutMs)');
    this.#waitMs = options.refreshWaitMs ?? httpTimeoutMs + 1_000;
    this.#pollMs = options.pollIntervalMs ?? 25;
    this.#backoffMs = options.refreshFailureBackoffMs ?? 5_000;
    this.#stateTtlMs = options.stateTtlMs ?? 10 * 60_000;
    this.#instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    this.#log = (options.logger ?? createLogger({ service: 'oauth-broker' })).child({ component: 'credentials', instance: this.#instanceId });
  }

  /** Creates the store collections and the event topic if missing. */
  async init(): Promise<void> {
    await this.#store.ensureCollection(COLLECTIONS.connections, [{ fields: ['tenantId'] }]);
    await this.#store.ensureCollection(COLLECTIONS.secrets, [{ fields: ['tenantId'] }]);
    await this.#store.ensureCollection(COLLECTIONS.states, [{ fields: ['expiresAt'] }]);
    await this.#eventLog.ensureTopics([Topics.connections]);
  }

  listProviders(): ProviderView[] {
    return this.#providers.list().map((p) => ({ id: p.id, displayName: p.displayName, grantType: p.grantType, defaultScopes: p.defaultScopes, permissions: p.permissions }));
  }

  // ---- connections -------------------------------------------------------------------------

  /**
   * Creates a connection and starts its authorization. Client-credentials connections are
   * authorized at once (no user consent): `authorizeUrl` is then empty.
   * @throws ValidationError on a bad handle, provider, permission or scope.
   * @throws ConflictError when the tenant already has a connection with this handle.
   * @throws CodestepError `PROVIDER_UNAVAILABLE` / `PROVIDER_REJECTED` when a client-credentials token could not be had (nothing is created).
   */
  async createConnection(input: { tenantId: string; handle: string; provider: string; permissions?: readonly string[]; scopes?: readonly string[] }): Promise<{ connection: ConnectionView; authorizeUrl: string }> {
    const tenantId = checkTenantId(input.tenantId);
    const handle = checkHandle(input.handle);
    const provider = this.#providers.require(input.provider);
    const permissions = [...new Set(input.permissions ?? [])];
    const scopes = resolveScopes(provider, permissions, input.scopes ?? []);
    if (provider.permissions.length > 0 && scopes.length === 0) {
      throw new ValidationError(`choose at least one ${provider.displayName} permission: ${provider.permissions.map((p) => p.id).join(', ')}`, { field: 'permissions' });
    }
    const now = this.#clock();
    const doc: ConnectionDoc = {
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
    const id = connectionId(tenantId, handle);
    if (!(await this.#store.insertIfAbsent(COLLECTIONS.connections, id, doc))) {
      throw new ConflictError(`a connection named "${handle}" already exists in this account: handles are unique and cannot be renamed, so pick another handle or reconnect the existing one`);
    }
    this.#log.info({ tenantId, handle, provider: provider.id }, 'connection created');
    if (provider.grantType === 'client_credentials') {
      try {
        const connection = await this.#authorizeClientCredentials(tenantId, handle, provider);
        return { connection, authorizeUrl: '' };
      } catch (error) {
        await this.#store.delete(COLLECTIONS.connections, id);
        throw error;
      }
    }
    const { authorizeUrl } = await this.#newAuthorization(doc, provider);
    return { connection: toView(doc), authorizeUrl };
  }

  /**
   * Starts (again) the authorization of an existing connection: after needs_reauth or revoke,
   * after a denied consent, or to renew consent.
   * @throws NotFoundError when the tenant has no such connection.
   */
  async startAuthorization(input: { tenantId: string; handle: string }): Promise<{ authorizeUrl: string; stateExpiresAt: number; connection: ConnectionView }> {
    const tenantId = checkTenantId(input.tenantId);
    const handle = checkHandle(input.handle);
    const stored = await this.#getConnection(tenantId, handle);
    const provider = this.#requireConfiguredProvider(stored.doc);
    if (provider.grantType === 'client_credentials') {
      const connection = await this.#authorizeClientCredentials(tenantId, handle, provider);
      return { authorizeUrl: '', stateExpiresAt: 0, connection };
    }
    const started = await this.#newAuthorization(stored.doc, provider);
    return { ...started, connection: toView(stored.doc) };
  }

  /**
   * The OAuth callback: redeems the state (single use, expiring, bound to tenant and handle),
   * exchanges the code and stores the tokens. Every expected failure is an outcome with a plain
   * sentence for the user, not a throw.
   */
  async completeAuthorization(input: CompleteAuthorizationInput): Promise<CompleteOutcome> {
    // A provider error is worth showing even when the state is unusable: it says what went wrong.
    const providerSaid = input.error ? `The provider reported: ${[input.error, input.errorDescription].filter(Boolean).join(': ').slice(0, 300)}. ` : '';
    if (!input.state || input.state.length > 200) {
      return { ok: false, errorCode: 'INVALID_STATE', error: `${providerSaid}This authorization link has no valid state. Start connecting again from OAuth Connections.` };
    }
    const stateId = hashState(input.state);
    const found = await this.#store.get<OAuthStateDoc>(COLLECTIONS.states, stateId);
    // Deleting is the redemption: of two concurrent callbacks with one state, one wins.
    if (!found || !(await this.#store.delete(COLLECTIONS.states, stateId))) {
      return { ok: false, errorCode: 'INVALID_STATE', error: `${providerSaid}This authorization link is not valid or was already used. Start connecting again from OAuth Connections.` };
    }
    const st = found.doc;
    const now = this.#clock();
    if (st.expiresAt <= now) {
      return { ok: false, errorCode: 'STATE_EXPIRED', error: `This authorization link expired (links are valid for ${Math.round(this.#stateTtlMs / 60_000)} minutes). Start connecting "${st.handle}" again.` };
    }
    const stored = await this.#store.get<ConnectionDoc>(COLLECTIONS.connections, connectionId(st.tenantId, st.handle));
    if (!stored) return { ok: false, errorCode: 'CONNECTION_GONE', error: `The connection "${st.handle}" no longer exists. Create it again from OAuth Connections.` };
    const conn = stored.doc;
    const provider = this.#providers.get(conn.provider);
    if (!provider) return { ok: false, errorCode: 'PROVIDER_NOT_CONFIGURED', error: `The provider "${conn.provider}" of connection "${conn.handle}" is no longer offered by this platform.`, connection: toView(conn) };
    const log = { tenantId: conn.tenantId, handle: conn.handle, provider: provider.id };
    if (input.error) {
      const said = [input.error, input.errorDescription].filter(Boolean).join(': ').slice(0, 300);
      this.#log.info({ ...log, providerError: input.error.slice(0, 100) }, 'authorization denied by the provider');
      return {
        ok: false,
        errorCode: 'PROVIDER_DENIED',
        error: `${provider.displayName} did not grant access to "${conn.handle}" (${said}). Nothing was connected; start connecting again to retry.`,
        connection: toView(conn),
      };
    }
    if (!input.code) return { ok: false, errorCode: 'INVALID_REQUEST', error: `${provider.displayName} sent no authorization code. Start connecting "${conn.handle}" again.`, connection: toView(conn) };
    let verifier: string | undefined;
    if (st.verifier) verifier = this.#box.open(st.verifier, aad.state(stateId, st.tenantId, st.handle));
    const result = await this.#tokenCall(provider, 'authorization_code', () =>
      this.#oauth.exchangeCode(provider, { code: input.code ?? '', redirectUri: this.#redirectUri, ...(verifier ? { codeVerifier: verifier } : {}) }),
    );
    if (!result.ok) {
      this.#log.warn({ ...log, kind: result.kind, status: result.status, providerError: result.kind === 'rejected' ? result.error : undefined }, 'code exchange failed');
      return result.kind === 'rejected'
        ? { ok: false, errorCode: 'PROVIDER_REJECTED', error: `${provider.displayName} refused the authorization (${describeRejection(result)}). Start connecting "${conn.handle}" again.`, connection: toView(conn) }
        : { ok: false, errorCode: 'PROVIDER_UNAVAILABLE', error: `${provider.displayName} could not be reached to finish the authorization (${result.description}). Try connecting "${conn.handle}" again later.`, connection: toView(conn) };
    }
    const written = await this.#storeTokens(conn.tenantId, conn.handle, result.tokens, now, { authorized: true });
    this.#log.info({ ...log, expiresAt: written.doc.expiresAt }, 'connection authorized');
    await this.#emit(written.doc, written.version, { $case: 'connectionAuthorized', value: { handle: conn.handle, provider: provider.id, scopes: written.doc.grantedScopes } });
    return { ok: true, connection: toView(written.doc) };
  }

  async listConnections(tenantIdInput: string): Promise<ConnectionView[]> {
    const tenantId = checkTenantId(tenantIdInput);
    const docs = await this.#store.find<ConnectionDoc>(COLLECTIONS.connections, { where: { tenantId }, orderBy: { field: 'handle', direction: 'asc' } });
    // The where clause scopes the query; the check keeps a store bug from crossing tenants.
    return docs.filter((d) => d.doc.tenantId === tenantId).map((d) => toView(d.doc));
  }

  /** @throws NotFoundError */
  async getConnection(input: { tenantId: string; handle: string }): Promise<ConnectionView> {
    const stored = await this.#getConnection(checkTenantId(input.tenantId), checkHandle(input.handle));
    return toView(stored.doc);
  }

  /**
   * Revokes the connection's tokens at the provider when it has a revocation endpoint, and
   * marks the connection revoked either way (its tokens are deleted here). Idempotent.
   * @throws NotFoundError
   */
  async revokeConnection(input: { tenantId: string; handle: string }): Promise<ConnectionView> {
    const tenantId = checkTenantId(input.tenantId);
    const handle = checkHandle(input.handle);
    const stored = await this.#getConnection(tenantId, handle);
    if (stored.doc.status === 'revoked') return toView(stored.doc);
    const provider = this.#providers.get(stored.doc.provider);
    const creds = this.#openCredentials(stored.doc);
    let reason = 'revoked by a user';
    if (creds && provider?.revocation) {
      const outcome = await this.#revokeAtProvider(provider, creds);
      if (outcome) reason += `; ${provider.displayName}'s revocation endpoint failed (${outcome}), the tokens were deleted here`;
    } else if (creds && provider) {
      reason += `; ${provider.displayName} has no revocation endpoint, the tokens were deleted here`;
    }
    const now = this.#clock();
    const written = await this.#update(tenantId, handle, (doc) =>
      doc.status === 'revoked'
        ? null
        : { ...doc, status: 'revoked', statusReason: reason, credentials: null, expiresAt: null, lease: null, lastRefreshFailure: null, generation: doc.generation + 1, updatedAt: now },
    );
    if (written.changed) {
      this.#log.info({ tenantId, handle, provider: stored.doc.provider }, 'connection revoked');
      await this.#emit(written.doc, written.version, { $case: 'connectionRevoked', value: { handle } });
    }
    return toView(written.doc);
  }

  /**
   * A usable access token for an action, refreshed first when it expires within the skew.
   * Never throws: every failure is an outcome naming the connection and the fix.
   */
  async getOAuthToken(input: GetOAuthTokenInput): Promise<TokenOutcome> {
    const { handle } = input;
    const fail = (errorCode: TokenErrorCode, error: string): TokenOutcome => ({ ok: false, errorCode, error });
    try {
      if (!input.tenantId) return fail('INVALID_ARGUMENT', 'The request names no tenant.');
      const tenantId = checkTenantId(input.tenantId);
      if (typeof handle !== 'string' || !isValidHandle(handle)) {
        return fail('NOT_FOUND', `No OAuth connection named ${JSON.stringify(handle)}: handles use lowercase letters, digits and hyphens only (e.g. my-hubspot). Fix the handle in your code.`);
      }
      if (!input.declaredHandles.includes(handle)) {
        return fail('NOT_DECLARED', `OAuth connection "${handle}" is not declared by this action. Add it to the action's connections to use it.`);
      }
      return await this.#token(tenantId, handle, input);
    } catch (error) {
      this.#log.error({ tenantId: input.tenantId, handle, error: errorSummary(error) }, 'getOAuthToken failed');
      if (error instanceof CodestepError && error.code === 'DECRYPTION_FAILED') {
        return fail('DECRYPTION_FAILED', `The stored token of OAuth connection "${handle}" could not be decrypted (the platform's master key changed?). Reconnect it under OAuth Connections.`);
      }
      return fail('INTERNAL', `Could not get a token for OAuth connection "${handle}" because of an internal error. Try again.`);
    }
  }

  /** Deletes authorization states past their expiry (links never used). Returns how many. */
  async purgeExpiredStates(limit = 1000): Promise<number> {
    const now = this.#clock();
    const states = await this.#store.find<OAuthStateDoc>(COLLECTIONS.states, { orderBy: { field: 'expiresAt', direction: 'asc' }, limit });
    let purged = 0;
    for (const s of states) {
      if (s.doc.expiresAt > now) break;
      if (await this.#store.delete(COLLECTIONS.states, s.id)) purged++;
    }
    return purged;
  }

  // ---- secrets -------------------------------------------------------------------------------

  /** Creates or replaces a secret. @throws ValidationError */
  async putSecret(input: { tenantId: string; name: string; value: string }): Promise<SecretView> {
    const tenantId = checkTenantId(input.tenantId);
    const name = checkSecretName(input.name);
    const value = checkSecretValue(input.value);
    const updatedAt = this.#clock();
    const doc: SecretDoc = { tenantId, name, sealed: this.#box.seal(value, aad.secret(tenantId, name)), updatedAt };
    await this.#store.put(COLLECTIONS.secrets, secretId(tenantId, name), doc);
    this.#log.info({ tenantId, name }, 'secret stored');
    return { name, updatedAt };
  }

  async listSecrets(tenantIdInput: string): Promise<SecretView[]> {
    const tenantId = checkTenantId(tenantIdInput);
    const docs = await this.#store.find<SecretDoc>(COLLECTIONS.secrets, { where: { tenantId }, orderBy: { field: 'name', direction: 'asc' } });
    return docs.filter((d) => d.doc.tenantId === tenantId).map((d) => ({ name: d.doc.name, updatedAt: d.doc.updatedAt }));
  }

  async deleteSecret(input: { tenantId: string; name: string }): Promise<boolean> {
    const tenantId = checkTenantId(input.tenantId);
    const name = checkSecretName(input.name);
    const deleted = await this.#store.delete(COLLECTIONS.secrets, secretId(tenantId, name));
    if (deleted) this.#log.info({ tenantId, name }, 'secret deleted');
    return deleted;
  }

  /**
   * The values of the secrets an action declares, from its own tenant only.
   * @throws CodestepError `DECRYPTION_FAILED` when a stored value cannot be opened (never silently missing).
   */
  async resolveSecrets(input: { tenantId: string; names: readonly string[]; workflowId?: string; executionId?: string }): Promise<{ values: Record<string, string>; missing: string[] }> {
    const tenantId = checkTenantId(input.tenantId);
    const names = [...new Set(input.names)];
    const valid = names.filter((n) => /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(n));
    const found = await this.#store.getMany<SecretDoc>(COLLECTIONS.secrets, valid.map((n) => secretId(tenantId, n)));
    const values: Record<string, string> = {};
    const missing: string[] = [];
    for (const name of names) {
      const stored = found.get(secretId(tenantId, name));
      if (!stored || stored.doc.tenantId !== tenantId || stored.doc.name !== name) {
        missing.push(name);
        continue;
      }
      values[name] = this.#box.open(stored.doc.sealed, aad.secret(tenantId, name));
    }
    this.#log.debug({ tenantId, workflowId: input.workflowId, executionId: input.executionId, resolved: Object.keys(values), missing }, 'secrets resolved');
    return { values, missing };
  }

  // ---- internals -----------------------------------------------------------------------------

  async #getConnection(tenantId: string, handle: string): Promise<{ doc: ConnectionDoc; version: number }> {
    const stored = await this.#store.get<ConnectionDoc>(COLLECTIONS.connections, connectionId(tenantId, handle));
    if (!stored || stored.doc.tenantId !== tenantId) throw new NotFoundError(`no connection named "${handle}" in this account`);
    return stored;
  }

  #requireConfiguredProvider(doc: ConnectionDoc): OAuthProvider {
    const provider = this.#providers.get(doc.provider);
    if (!provider) throw new CodestepError('FAILED_PRECONDITION', `the provider "${doc.provider}" of connection "${doc.handle}" is no longer offered by this platform`);
    return provider;
  }

  async #newAuthorization(doc: ConnectionDoc, provider: OAuthProvider): Promise<{ authorizeUrl: string; stateExpiresAt: number }> {
    const state = randomBytes(32).toString('base64url');
    const stateId = hashState(state);
    const pkce = provider.pkce ? createPkce() : undefined;
    const now = this.#clock();
    const st: OAuthStateDoc = {
      tenantId: doc.tenantId,
      handle: doc.handle,
      createdAt: now,
      expiresAt: now + this.#stateTtlMs,
      verifier: pkce ? this.#box.seal(pkce.verifier, aad.state(stateId, doc.tenantId, doc.handle)) : null,
    };
    await this.#store.insertIfAbsent(COLLECTIONS.states, stateId, st);
    // Links nobody finished pile up otherwise; a little cleaning per new link keeps them bounded.
    await this.purgeExpiredStates(50).catch((error: unknown) => this.#log.warn({ error: errorSummary(error) }, 'purging expired authorization states failed'));
    const authorizeUrl = buildAuthorizeUrl(provider, { redirectUri: this.#redirectUri, scopes: doc.scopes, state, ...(pkce ? { codeChallenge: pkce.challenge } : {}) });
    this.#log.info({ tenantId: doc.tenantId, handle: doc.handle, provider: provider.id, pkce: Boolean(pkce) }, 'authorization started');
    return { authorizeUrl, stateExpiresAt: st.expiresAt };
  }

  async #authorizeClientCredentials(tenantId: string, handle: string, provider: OAuthProvider): Promise<ConnectionView> {
    const stored = await this.#getConnection(tenantId, handle);
    const result = await this.#tokenCall(provider, 'client_credentials', () => this.#oauth.clientCredentials(provider, stored.doc.scopes));
    if (!result.ok) {
      throw result.kind === 'rejected'
        ? new CodestepError('PROVIDER_REJECTED', `${provider.displayName} refused the platform's client credentials (${describeRejection(result)}); ask the operator to check the provider configuration`)
        : new CodestepError('UNAVAILABLE', `${provider.displayName} could not be reached (${result.description}); try again later`);
    }
    const written = await this.#storeTokens(tenantId, handle, result.tokens, this.#clock(), { authorized: true });
    await this.#emit(written.doc, written.version, { $case: 'connectionAuthorized', value: { handle, provider: provider.id, scopes: written.doc.grantedScopes } });
    return toView(written.doc);
  }

  /** Writes fresh tokens (after a code exchange or a new client-credentials token). */
  async #storeTokens(tenantId: string, handle: string, tokens: TokenSet, now: number, opts: { authorized: boolean }): Promise<{ doc: ConnectionDoc; version: number }> {
    const sealed = this.#box.seal(JSON.stringify(credentialsOf(tokens)), aad.connection(tenantId, handle));
    const written = await this.#update(tenantId, handle, (doc) => ({
      ...doc,
      status: 'active',
      statusReason: '',
      credentials: sealed,
      expiresAt: tokens.expiresIn === undefined ? null : now + tokens.expiresIn * 1000,
      grantedScopes: tokens.scopes ?? doc.scopes,
      authorizedAt: opts.authorized ? now : doc.authorizedAt,
      generation: doc.generation + 1,
      lease: null,
      lastRefreshFailure: null,
      updatedAt: now,
    }));
    return written;
  }

  async #token(tenantId: string, handle: string, input: GetOAuthTokenInput): Promise<TokenOutcome> {
    const id = connectionId(tenantId, handle);
    const started = this.#clock();
    const deadline = started + this.#waitMs;
    for (;;) {
      const stored = await this.#store.get<ConnectionDoc>(COLLECTIONS.connections, id);
      if (!stored || stored.doc.tenantId !== tenantId) {
        return { ok: false, errorCode: 'NOT_FOUND', error: `No OAuth connection named "${handle}" exists in this account. Create it under OAuth Connections, or fix the handle in your code.` };
      }
      const doc = stored.doc;
      const unusable = statusOutcome(doc);
      if (unusable) return unusable;
      const now = this.#clock();
      const creds = this.#openCredentials(doc);
      if (creds && !this.#needsRefresh(doc, now)) {
        this.#log.debug({ tenantId, handle, workflowId: input.workflowId, executionId: input.executionId }, 'token served');
        return { ok: true, token: creds.accessToken, expiresAt: doc.expiresAt };
      }
      const leaseHeld = doc.lease !== null && doc.lease.until > now;
      if (!leaseHeld && doc.lastRefreshFailure && (doc.lastRefreshFailure.at >= started || now - doc.lastRefreshFailure.at < this.#backoffMs)) {
        // The refresh everyone waited for failed for a passing reason: report it, do not pile on.
        return this.#stillValidOr(doc, creds, now, { ok: false, errorCode: doc.lastRefreshFailure.code as TokenErrorCode, error: doc.lastRefreshFailure.message });
      }
      if (leaseHeld) {
        // Someone is renewing a token that still works: no need to wait for the new one.
        if (creds && doc.expiresAt !== null && doc.expiresAt > now + 1_000) return { ok: true, token: creds.accessToken, expiresAt: doc.expiresAt };
        if (now >= deadline) {
          return this.#stillValidOr(doc, creds, now, {
            ok: false,
            errorCode: 'PROVIDER_UNAVAILABLE',
            error: `The token of OAuth connection "${handle}" is being refreshed and the provider has not answered yet. Try again later.`,
          });
        }
        await sleep(this.#pollMs * (0.5 + Math.random()));
        continue;
      }
      const lease = { holder: `${this.#instanceId}/${randomUUID()}`, until: now + this.#leaseMs };
      if (!(await this.#store.compareAndSet(COLLECTIONS.connections, id, stored.version, { ...doc, lease }))) continue;
      return await this.#refreshHolding({ ...doc, lease }, creds, input);
    }
  }

  /** Refreshes while holding the lease, writes the result for everyone, releases the lease. */
  async #refreshHolding(doc: ConnectionDoc, creds: StoredCredentials | null, input: GetOAuthTokenInput): Promise<TokenOutcome> {
    const { tenantId, handle } = doc;
    const holder = doc.lease?.holder;
    const generation = doc.generation;
    const mine = (cur: ConnectionDoc) => cur.lease?.holder === holder || (cur.lease === null && cur.generation === generation);
    const log = { tenantId, handle, provider: doc.provider, workflowId: input.workflowId, executionId: input.executionId };
    const provider = this.#providers.get(doc.provider);
    if (!provider) {
      await this.#update(tenantId, handle, (cur) => (mine(cur) ? { ...cur, lease: null } : null));
      return { ok: false, errorCode: 'PROVIDER_NOT_CONFIGURED', error: `OAuth connection "${handle}" uses the provider "${doc.provider}", which this platform no longer offers. Ask the operator.` };
    }
    let result: TokenResult;
    if (doc.grantType === 'client_credentials') {
      result = await this.#tokenCall(provider, 'client_credentials', () => this.#oauth.clientCredentials(provider, doc.scopes));
    } else if (creds?.refreshToken) {
      const refreshToken = creds.refreshToken;
      result = await this.#tokenCall(provider, 'refresh_token', () => this.#oauth.refresh(provider, refreshToken));
    } else {
      result = { ok: false, kind: 'rejected', status: 0, error: 'no_refresh_token', description: `${provider.displayName} issued no refresh token, so the expired access token cannot be renewed` };
    }
    const now = this.#clock();

    if (result.ok) {
      const tokens = result.tokens;
      // Rotating providers send a new refresh token; the others keep the old one valid.
      const next: StoredCredentials = { accessToken: tokens.accessToken, ...((tokens.refreshToken ?? creds?.refreshToken) ? { refreshToken: tokens.refreshToken ?? creds?.refreshToken } : {}) };
      const sealed = this.#box.seal(JSON.stringify(next), aad.connection(tenantId, handle));
      const expiresAt = tokens.expiresIn === undefined ? null : now + tokens.expiresIn * 1000;
      const written = await this.#update(tenantId, handle, (cur) =>
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
      );
      if (!written.changed) {
        // Revoked (or reconnected) while we refreshed: these tokens must not outlive that.
        this.#log.warn({ ...log, status: written.doc.status }, 'refresh result discarded: the connection changed meanwhile');
        if (provider.revocation && written.doc.status === 'revoked') await this.#revokeAtProvider(provider, next);
        // Still active: another holder took over after our lease ran out and wrote its own
        // tokens. The access token we were given works all the same.
        return statusOutcome(written.doc) ?? { ok: true, token: tokens.accessToken, expiresAt };
      }
      this.#log.info({ ...log, expiresAt, rotated: Boolean(tokens.refreshToken && tokens.refreshToken !== creds?.refreshToken) }, 'token refreshed');
      await this.#emit(written.doc, written.version, { $case: 'connectionRefreshed', value: { handle, expiresAt: expiresAt ?? 0 } });
      return { ok: true, token: tokens.accessToken, expiresAt };
    }

    if (result.kind === 'rejected' && doc.grantType === 'authorization_code' && GRANT_GONE.has(result.error)) {
      const reason = `${provider.displayName} refused to refresh the token (${describeRejection(result)})`;
      const written = await this.#update(tenantId, handle, (cur) =>
        cur.status !== 'active' || !mine(cur)
          ? null
          : { ...cur, status: 'needs_reauth', statusReason: reason, credentials: null, expiresAt: null, lease: null, lastRefreshFailure: null, generation: cur.generation + 1, updatedAt: now },
      );
      this.#log.warn({ ...log, providerError: result.error }, 'connection needs re-authorization');
      if (written.changed) await this.#emit(written.doc, written.version, { $case: 'connectionNeedsReauth', value: { handle, reason } });
      return statusOutcome(written.doc) ?? { ok: false, errorCode: 'NEEDS_REAUTH', error: needsReauthMessage(handle, reason) };
    }

    const failure =
      result.kind === 'unavailable'
        ? { code: 'PROVIDER_UNAVAILABLE', message: `Could not refresh the token of OAuth connection "${handle}": ${provider.displayName} is unreachable (${result.description}). Try again later.` }
        : {
            code: 'PROVIDER_REJECTED',
            message: `${provider.displayName} rejected the token refresh of OAuth connection "${handle}" (${describeRejection(result)}). This is a platform configuration problem: contact your administrator.`,
          };
    this.#log.warn({ ...log, kind: result.kind, status: result.status }, 'token refresh failed');
    await this.#update(tenantId, handle, (cur) => (mine(cur) ? { ...cur, lease: null, lastRefreshFailure: { at: now, ...failure }, updatedAt: now } : null));
    return this.#stillValidOr(doc, creds, now, { ok: false, errorCode: failure.code as TokenErrorCode, error: failure.message });
  }

  /** An outage need not fail a caller whose token has not actually expired yet. */
  #stillValidOr(doc: ConnectionDoc, creds: StoredCredentials | null, now: number, outcome: TokenOutcome): TokenOutcome {
    if (creds && doc.expiresAt !== null && doc.expiresAt > now + 1_000) return { ok: true, token: creds.accessToken, expiresAt: doc.expiresAt };
    return outcome;
  }

  #needsRefresh(doc: ConnectionDoc, now: number): boolean {
    return doc.expiresAt !== null && doc.expiresAt - this.#skewMs <= now;
  }

  #openCredentials(doc: ConnectionDoc): StoredCredentials | null {
    if (!doc.credentials) return null;
    return JSON.parse(this.#box.open(doc.credentials, aad.connection(doc.tenantId, doc.handle))) as StoredCredentials;
  }

  /** Best effort; returns why it failed, or undefined when it worked. */
  async #revokeAtProvider(provider: OAuthProvider, creds: StoredCredentials): Promise<string | undefined> {
    const failures: string[] = [];
    if (creds.refreshToken) {
      const r = await this.#oauth.revoke(provider, creds.refreshToken, 'refresh_token');
      if (!r.ok) failures.push(r.description);
    }
    // HubSpot revokes refresh tokens only; RFC 7009 providers take the access token too.
    if (provider.revocation?.style === 'rfc7009') {
      const r = await this.#oauth.revoke(provider, creds.accessToken, 'access_token');
      if (!r.ok) failures.push(r.description);
    }
    return failures.length ? failures.join('; ') : undefined;
  }

  #tokenCall(provider: OAuthProvider, grant: string, call: () => Promise<TokenResult>): Promise<TokenResult> {
    return withSpan('oauth token', { attributes: { 'oauth.provider': provider.id, 'oauth.grant_type': grant } }, async (span) => {
      const result = await call();
      span.setAttribute('oauth.outcome', result.ok ? 'ok' : result.kind);
      if (!result.ok && result.status) span.setAttribute('http.response.status_code', result.status);
      return result;
    });
  }

  /**
   * Read-modify-write with compareAndSet, retried on conflict. `change` returns null to leave
   * the record as it is.
   */
  async #update(tenantId: string, handle: string, change: (doc: ConnectionDoc) => ConnectionDoc | null): Promise<{ doc: ConnectionDoc; version: number; changed: boolean }> {
    const id = connectionId(tenantId, handle);
    for (let attempt = 0; attempt < 100; attempt++) {
      const stored = await this.#store.get<ConnectionDoc>(COLLECTIONS.connections, id);
      if (!stored) throw new NotFoundError(`no connection named "${handle}" in this account`);
      const next = change(stored.doc);
      if (!next) return { doc: stored.doc, version: stored.version, changed: false };
      if (await this.#store.compareAndSet(COLLECTIONS.connections, id, stored.version, next)) return { doc: next, version: stored.version + 1, changed: true };
    }
    throw new CodestepError('CONFLICT', `connection "${handle}" is changing too often to update; try again`);
  }

  async #emit(doc: ConnectionDoc, version: number, event: ConnectionEvent): Promise<void> {
    try {
      await appendConnectionEvent(this.#eventLog, { tenantId: doc.tenantId, handle: doc.handle, version, occurredAt: doc.updatedAt }, event);
    } catch (error) {
      // The store holds the truth; a lost notification must not undo or fail the change.
      this.#log.error({ tenantId: doc.tenantId, handle: doc.handle, event: event.$case, error: errorSummary(error) }, 'connection event not appended');
    }
  }
}

function credentialsOf(tokens: TokenSet): StoredCredentials {
  return { accessToken: tokens.accessToken, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) };
}

function hashState(state: string): string {
  return createHash('sha256').update(state).digest('base64url');
}

function describeRejection(r: { error: string; description: string }): string {
  return r.description ? `${r.error}: ${r.description}` : r.error;
}

function needsReauthMessage(handle: string, reason: string): string {
  return `OAuth connection "${handle}" needs to be reconnected: ${reason || 'its authorization is no longer valid'}. Reconnect it under OAuth Connections.`;
}

function statusOutcome(doc: ConnectionDoc): TokenOutcome | undefined {
  switch (doc.status) {
    case 'active':
      return undefined;
    case 'pending':
      return { ok: false, errorCode: 'NOT_AUTHORIZED', error: `OAuth connection "${doc.handle}" has not been authorized yet. Finish connecting it under OAuth Connections (sign in and grant access).` };
    case 'needs_reauth':
      return { ok: false, errorCode: 'NEEDS_REAUTH', error: needsReauthMessage(doc.handle, doc.statusReason) };
    case 'revoked':
      return { ok: false, errorCode: 'REVOKED', error: `OAuth connection "${doc.handle}" was revoked. Reconnect it under OAuth Connections to use it again.` };
  }
}

/** Name and code only: error messages from lower layers are not trusted to be token-free. */
function errorSummary(error: unknown): Record<string, unknown> {
  if (error instanceof CodestepError) return { name: error.name, code: error.code, message: error.message };
  return { name: error instanceof Error ? error.name : typeof error };
}
