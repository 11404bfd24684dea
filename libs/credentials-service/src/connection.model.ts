/**
 * What the broker stores. Token material only ever appears sealed (`credentials`,
 * `verifier`); everything else is safe to show, log and put in events.
 */
import type { GrantType } from './providers.ts';

export const COLLECTIONS = {
  connections: 'credential_connections',
  secrets: 'credential_secrets',
  states: 'credential_oauth_states',
  /** The queryable connections: a projection of `codestep.connections.v1`, no token material. */
  connectionViews: 'credential_connection_views',
  /**
   * Provider account → connections (HubSpot portal → the tenants' connections installed in it):
   * a projection of `codestep.connections.v1`, one document per connection, across tenants by
   * nature (a HubSpot call names a portal, not a tenant), like the webhook token index.
   */
  providerAccounts: 'credential_provider_accounts',
} as const;

/** A connection's entry in the provider-accounts index. */
export interface ProviderAccountDoc {
  tenantId: string;
  handle: string;
  provider: string;
  accountId: string;
  /** `<provider>:<accountId>`, the indexed lookup key; '' when the account is unknown. */
  accountKey: string;
  status: ConnectionStatus;
  authorizedAt: number;
}

export const accountKey = (provider: string, accountId: string): string => (accountId ? `${provider}:${accountId}` : '');

export type ConnectionStatus = 'pending' | 'active' | 'needs_reauth' | 'revoked';

/** The refresh lease: whoever holds it (until `until`, UNIX ms) is the one refreshing. */
export interface RefreshLease {
  holder: string;
  until: number;
}

export interface ConnectionDoc {
  tenantId: string;
  handle: string;
  provider: string;
  grantType: GrantType;
  /** The scopes asked. */
  scopes: string[];
  /** The preset permissions chosen (HubSpot), if any. */
  permissions: string[];
  grantedScopes: string[];
  status: ConnectionStatus;
  statusReason: string;
  createdAt: number;
  updatedAt: number;
  authorizedAt: number | null;
  refreshedAt: number | null;
  /** Sealed {@link StoredCredentials}; null until authorized and after revoke/needs_reauth. */
  credentials: string | null;
  /** Access token expiry, UNIX ms; null when the provider gave none. */
  expiresAt: number | null;
  /** Bumped on every token write, so a late lease holder can tell its result is stale. */
  generation: number;
  lease: RefreshLease | null;
  /** The last refresh that failed for a reason that may pass (outage), shown to waiters. */
  lastRefreshFailure: { at: number; code: string; message: string } | null;
  /** The provider account the tokens act for (HubSpot: the portal's hub id); absent when unknown. */
  accountId?: string;
  /** Visible changes so far: the `sequence` of the last `ConnectionChanged`. Absent on records older than the projection. */
  sequence?: number;
  /**
   * The events of changes not yet confirmed appended to the log, written with the change
   * itself (an outbox): whoever sees them appends them again, under the same ids.
   */
  outbox?: OutboxEntry[];
}

/** An event waiting in a record's outbox: the encoded `EventEnvelope`, base64. */
export interface OutboxEntry {
  eventId: string;
  type: string;
  encoded: string;
}

export interface StoredCredentials {
  accessToken: string;
  refreshToken?: string;
}

export interface SecretDoc {
  tenantId: string;
  name: string;
  sealed: string;
  updatedAt: number;
  /** The value's length in characters (absent on secrets stored before it was kept). */
  valueChars?: number;
}

/** A pending authorization: single use (deleted when redeemed), expiring. Keyed by sha256(state). */
export interface OAuthStateDoc {
  tenantId: string;
  handle: string;
  createdAt: number;
  expiresAt: number;
  /** Sealed PKCE verifier, bound to the state and the connection; null without PKCE. */
  verifier: string | null;
}

/** A connection as callers see it: no token material. */
export interface ConnectionView {
  tenantId: string;
  handle: string;
  provider: string;
  grantType: GrantType;
  scopes: string[];
  permissions: string[];
  grantedScopes: string[];
  status: ConnectionStatus;
  statusReason: string;
  createdAt: number;
  authorizedAt: number | null;
  expiresAt: number | null;
  refreshedAt: number | null;
  /** The provider account the tokens act for (HubSpot: the portal's hub id); '' when unknown. */
  accountId: string;
}

export function toView(doc: ConnectionDoc): ConnectionView {
  return {
    tenantId: doc.tenantId,
    handle: doc.handle,
    provider: doc.provider,
    grantType: doc.grantType,
    scopes: doc.scopes,
    permissions: doc.permissions,
    grantedScopes: doc.grantedScopes,
    status: doc.status,
    statusReason: doc.statusReason,
    createdAt: doc.createdAt,
    authorizedAt: doc.authorizedAt,
    expiresAt: doc.expiresAt,
    refreshedAt: doc.refreshedAt,
    accountId: doc.accountId ?? '',
  };
}

/**
 * A connection's aggregate id in its events (`codestep.connections.v1`), part of their
 * deterministic event ids, so it never changes. Not a store key: the broker's records and views
 * are reached by handle through `tenantScoped(store, tenantId)`.
 */
export const connectionId = (tenantId: string, handle: string): string => `${tenantId}/${handle}`;

/** Associated data for sealing: binds a ciphertext to its owner and its kind. */
export const aad = {
  connection: (tenantId: string, handle: string) => `connection:${tenantId}/${handle}`,
  secret: (tenantId: string, name: string) => `secret:${tenantId}/${name}`,
  state: (stateId: string, tenantId: string, handle: string) => `oauth-state:${stateId}:${tenantId}/${handle}`,
};
