/**
 * The broker's options and the shapes of its answers: token outcomes and callback outcomes
 * carry a sentence for the user instead of throwing.
 */
import type { Clock, Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import type { DocumentStore } from '@codestep/store';
import type { ConnectionView } from './connection.model.ts';
import type { FetchLike } from './oauth.client.ts';
import type { GrantType, OAuthProvider, ProviderPermission } from './providers.ts';

export interface CredentialsServiceOptions {
  store: DocumentStore;
  eventLog: EventLog;
  /** 32 bytes; see `loadOrCreateMasterKey` and `parseMasterKey`. */
  masterKey: Uint8Array;
  /** 32 bytes, shared with the enrollment service: checks the execution grants of ResolveSecrets and GetOAuthToken. */
  grantKey: Uint8Array;
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

export type CompleteErrorCode =
  'INVALID_REQUEST' | 'INVALID_STATE' | 'STATE_EXPIRED' | 'CONNECTION_GONE' | 'PROVIDER_DENIED' | 'PROVIDER_REJECTED' | 'PROVIDER_UNAVAILABLE' | 'PROVIDER_NOT_CONFIGURED';

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

/** A secret as listed for the workflow check: its length, never its value. */
export interface SecretSizeView extends SecretView {
  valueChars: number;
}
