/** What the broker's parts share: its stores, its sealing box, the providers and the clock. */
import type { Clock, Logger } from '@codestep/core';
import type { DocumentStore } from '@codestep/store';
import type { ConnectionRepository } from './connection.repository.ts';
import type { OAuthClient } from './oauth.client.ts';
import type { OAuthStateStore } from './oauth-state.store.ts';
import type { ProviderRegistry } from './providers.ts';
import type { SecretBox } from './secret-box.ts';

export interface BrokerContext {
  /** The plain store, for the one lookup across tenants by nature (provider account → connection). */
  store: DocumentStore;
  connections: ConnectionRepository;
  states: OAuthStateStore;
  box: SecretBox;
  providers: ProviderRegistry;
  oauth: OAuthClient;
  clock: Clock;
  log: Logger;
  /** The gateway's public `/oauth/callback` URL. */
  redirectUri: string;
}
