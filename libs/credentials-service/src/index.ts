/**
 * The OAuth broker: platform-managed OAuth connections (HubSpot preset and generic OAuth 2.0
 * providers) and action secrets, encrypted at rest, served over gRPC `Credentials`.
 */
import type { credentialsV1 } from '@codestep/contracts';
import { systemClock } from '@codestep/core';
import { credentialsHandlers, credentialsServer, type CredentialsHandlers } from './credentials.grpc.ts';
import { CredentialsBroker, type CredentialsServiceOptions } from './credentials.service.ts';

export interface CredentialsService {
  /** The domain API (what the gRPC handlers call). */
  api: CredentialsBroker;
  /** The grpc-js implementation of `credentialsV1.CredentialsService`. */
  grpc: credentialsV1.CredentialsServer;
  /** The same, as plain async functions (in-process callers, tests). */
  handlers: CredentialsHandlers;
}

/**
 * Builds the broker over the given ports and creates its collections and topic.
 * @throws ValidationError / CodestepError `INVALID_CONFIG` on bad options (master key, providers, redirect URI).
 */
export async function createCredentialsService(options: CredentialsServiceOptions): Promise<CredentialsService> {
  const api = new CredentialsBroker(options);
  await api.init();
  const handlers = credentialsHandlers(api, { key: options.grantKey, clock: options.clock ?? systemClock });
  return { api, handlers, grpc: credentialsServer(handlers, options.logger) };
}

export {
  CredentialsBroker,
  type CompleteAuthorizationInput,
  type CompleteErrorCode,
  type CompleteOutcome,
  type CredentialsServiceOptions,
  type GetOAuthTokenInput,
  type ProviderView,
  type SecretSizeView,
  type SecretView,
  type TokenErrorCode,
  type TokenOutcome,
} from './credentials.service.ts';
export { connectionsProjection, startConnectionsConsumer } from './connections.projection.ts';
export { credentialsHandlers, credentialsServer, toConnectionInfo, type CredentialsHandlers, type GrantCheck } from './credentials.grpc.ts';
export { COLLECTIONS, type ConnectionStatus, type ConnectionView } from './connection.model.ts';
export { HUBSPOT_PERMISSIONS, HUBSPOT_PROVIDER_ID, hubspotPreset, type HubSpotPresetOptions } from './hubspot.preset.ts';
export { MASTER_KEY_FILE, isMasterKeyFileExposed, loadOrCreateMasterKey, parseMasterKey, type MasterKeyFile } from './master-key.ts';
export { checkHandle, checkSecretName, isValidHandle } from './names.policy.ts';
export { OAuthClient, buildAuthorizeUrl, createPkce, pkceChallenge, type FetchLike, type TokenResult, type TokenSet } from './oauth.client.ts';
export {
  ProviderRegistry,
  genericOAuth2Provider,
  parseGenericProviders,
  resolveScopes,
  type GenericProviderConfig,
  type GrantType,
  type OAuthProvider,
  type ProviderPermission,
  type RevocationEndpoint,
  type TokenAuthMethod,
} from './providers.ts';
export { createSecretBox, MASTER_KEY_BYTES, type SecretBox } from './secret-box.ts';
