/**
 * The broker's domain API: OAuth connections (create, authorize, refresh, revoke) and action
 * secrets, for one tenant at a time, encrypted at rest. A short composition of named parts:
 * the connection repository (records, compare-and-set, events and the view), the OAuth states,
 * the authorization flow, the token refresher, revocation and the secrets vault.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError, createLogger, systemClock } from '@codestep/core';
import { completeAuthorization, createConnection, startAuthorization, type CreateConnectionInput } from './authorization.flow.ts';
import type { BrokerContext } from './broker.context.ts';
import type { ConnectionView } from './connection.model.ts';
import { createConnectionRepository } from './connection.repository.ts';
import { findAccountConnection } from './provider-accounts.ts';
import type { CompleteAuthorizationInput, CompleteOutcome, CredentialsServiceOptions, GetOAuthTokenInput, ProviderView, SecretSizeView, SecretView, TokenOutcome } from './credentials.types.ts';
import { checkHandle, checkTenantId } from './names.policy.ts';
import { OAuthClient } from './oauth.client.ts';
import { createOAuthStateStore } from './oauth-state.store.ts';
import { ProviderRegistry } from './providers.ts';
import { revokeConnection } from './revocation.ts';
import { createSecretBox } from './secret-box.ts';
import { createSecretsVault, type SecretsVault } from './secrets.vault.ts';
import { createTokenRefresher, type TokenRefresher } from './token.refresher.ts';

export type {
  CompleteAuthorizationInput,
  CompleteErrorCode,
  CompleteOutcome,
  CredentialsServiceOptions,
  GetOAuthTokenInput,
  ProviderView,
  SecretSizeView,
  SecretView,
  TokenErrorCode,
  TokenOutcome,
} from './credentials.types.ts';

export class CredentialsBroker {
  readonly #ctx: BrokerContext;
  readonly #secrets: SecretsVault;
  readonly #refresher: TokenRefresher;

  constructor(options: CredentialsServiceOptions) {
    if (!URL.parse(options.redirectUri)) throw new ValidationError(`the OAuth redirect URI ${JSON.stringify(options.redirectUri)} is not a URL`);
    const httpTimeoutMs = options.httpTimeoutMs ?? 8_000;
    const leaseMs = options.leaseMs ?? 3 * httpTimeoutMs;
    if (leaseMs <= httpTimeoutMs) throw new ValidationError('the refresh lease must last longer than one provider call (leaseMs > httpTimeoutMs)');
    const instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    const clock = options.clock ?? systemClock;
    const box = createSecretBox(options.masterKey);
    const log = (options.logger ?? createLogger({ service: 'oauth-broker' })).child({ component: 'credentials', instance: instanceId });
    const { store, eventLog } = options;
    this.#ctx = {
      store,
      connections: createConnectionRepository({ store, eventLog, log }),
      states: createOAuthStateStore({ store, box, clock, ttlMs: options.stateTtlMs ?? 10 * 60_000, log }),
      box,
      providers: new ProviderRegistry(options.providers),
      oauth: new OAuthClient({ timeoutMs: httpTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) }),
      clock,
      log,
      redirectUri: options.redirectUri,
    };
    this.#secrets = createSecretsVault({ store, box, clock, log });
    this.#refresher = createTokenRefresher(this.#ctx, {
      skewMs: options.refreshSkewMs ?? 60_000,
      leaseMs,
      waitMs: options.refreshWaitMs ?? httpTimeoutMs + 1_000,
      pollMs: options.pollIntervalMs ?? 25,
      backoffMs: options.refreshFailureBackoffMs ?? 5_000,
      instanceId,
    });
  }

  /** Creates the store collections, the connections view and the event topic if missing; publishes events a crash left in outboxes. */
  async init(): Promise<void> {
    await this.#secrets.ensure();
    await this.#ctx.states.ensure();
    await this.#ctx.connections.ensure();
  }

  listProviders(): ProviderView[] {
    return this.#ctx.providers.list().map((p) => ({ id: p.id, displayName: p.displayName, grantType: p.grantType, defaultScopes: p.defaultScopes, permissions: p.permissions }));
  }

  /**
   * Creates a connection and starts its authorization. Client-credentials connections are
   * authorized at once (no user consent): `authorizeUrl` is then empty.
   * @throws ValidationError on a bad handle, provider, permission or scope.
   * @throws ConflictError when the tenant already has a connection with this handle.
   * @throws CodestepError `PROVIDER_UNAVAILABLE` / `PROVIDER_REJECTED` when a client-credentials token could not be had (nothing is created).
   */
  createConnection(input: CreateConnectionInput): Promise<{ connection: ConnectionView; authorizeUrl: string }> {
    return createConnection(this.#ctx, input);
  }

  /**
   * Starts (again) the authorization of an existing connection.
   * @throws NotFoundError when the tenant has no such connection.
   */
  startAuthorization(input: { tenantId: string; handle: string }): Promise<{ authorizeUrl: string; stateExpiresAt: number; connection: ConnectionView }> {
    return startAuthorization(this.#ctx, input);
  }

  /** The OAuth callback; every expected failure is an outcome with a plain sentence for the user. */
  completeAuthorization(input: CompleteAuthorizationInput): Promise<CompleteOutcome> {
    return completeAuthorization(this.#ctx, input);
  }

  /** The tenant's connections, from the connections view (a projection of their events). */
  listConnections(tenantId: string): Promise<ConnectionView[]> {
    return this.#ctx.connections.list(checkTenantId(tenantId));
  }

  /** @throws NotFoundError */
  async getConnection(input: { tenantId: string; handle: string }): Promise<ConnectionView> {
    const view = await this.#ctx.connections.view(checkTenantId(input.tenantId), checkHandle(input.handle));
    if (!view) throw new NotFoundError(`no connection named "${input.handle}" in this account`);
    return view;
  }

  /**
   * Revokes the tokens at the provider where possible and marks the connection revoked. Idempotent.
   * @throws NotFoundError
   */
  revokeConnection(input: { tenantId: string; handle: string }): Promise<ConnectionView> {
    return revokeConnection(this.#ctx, input);
  }

  /** A usable access token for an action, refreshed first when it expires within the skew. Never throws. */
  getOAuthToken(input: GetOAuthTokenInput): Promise<TokenOutcome> {
    return this.#refresher.getOAuthToken(input);
  }

  /**
   * The connection a provider account (a HubSpot portal) belongs to, from the provider-accounts
   * projection: the tenant's active connection (or, failing that, the one that needs
   * re-authorization, so callers can say "reconnect").
   * @throws NotFoundError when no tenant has connected the account.
   * @throws CodestepError `FAILED_PRECONDITION` when connections of two tenants act for it.
   */
  findAccountConnection(input: { provider: string; accountId: string }): Promise<ConnectionView> {
    return findAccountConnection(this.#ctx, input);
  }

  /**
   * A usable access token of a tenant's connection for the platform's own calls on the tenant's
   * behalf (completing HubSpot callbacks); never handed to an action. Never throws.
   */
  getConnectionToken(input: { tenantId: string; handle: string; purpose?: string }): Promise<TokenOutcome> {
    return this.#refresher.getOAuthToken({ tenantId: input.tenantId, handle: input.handle, declaredHandles: [input.handle], ...(input.purpose ? { executionId: input.purpose } : {}) });
  }

  /** Deletes authorization states past their expiry (links never used). Returns how many. */
  purgeExpiredStates(limit = 1000): Promise<number> {
    return this.#ctx.states.purgeExpired(limit);
  }

  /** Creates or replaces a secret. @throws ValidationError */
  putSecret(input: { tenantId: string; name: string; value: string }): Promise<SecretView> {
    return this.#secrets.put(input);
  }

  /** Names, update times and value lengths, never values. */
  listSecrets(tenantId: string): Promise<SecretSizeView[]> {
    return this.#secrets.list(tenantId);
  }

  deleteSecret(input: { tenantId: string; name: string }): Promise<boolean> {
    return this.#secrets.delete(input);
  }

  /**
   * The values of the secrets an action declares, from its own tenant only.
   * @throws CodestepError `DECRYPTION_FAILED` when a stored value cannot be opened (never silently missing).
   */
  resolveSecrets(input: { tenantId: string; names: readonly string[]; workflowId?: string; executionId?: string }): Promise<{ values: Record<string, string>; missing: string[] }> {
    return this.#secrets.resolve(input);
  }
}
