/** Wiring of the OAuth broker (Credentials): master key, providers, store, gRPC server. */
import { credentialsV1 } from '@codestep/contracts';
import { systemClock, type Logger } from '@codestep/core';
import { createCredentialsService, hubspotPreset, startConnectionsConsumer, loadOrCreateMasterKey, parseGenericProviders, parseMasterKey, type OAuthProvider } from '@codestep/credentials-service';
import { connectionRoutes, type Route } from '@codestep/gateway-service';
import { serve, type PromiseClient } from '@codestep/rpc';
import { openEventLog, openStore } from './adapters.ts';
import type { PlatformConfig } from './platform.config.ts';
import { grantKeyOf } from './grant.key.ts';
import { registerLocal, tlsFor, type Running, type Shared } from './services.ts';

export function providersFrom(config: PlatformConfig): OAuthProvider[] {
  const providers: OAuthProvider[] = [];
  if (config.hubspotClientId && config.hubspotClientSecret) {
    providers.push(
      hubspotPreset({
        clientId: config.hubspotClientId,
        clientSecret: config.hubspotClientSecret,
        authorizeUrl: config.hubspotAuthorizeUrl,
        tokenUrl: config.hubspotTokenUrl,
        refreshTokenRevocationUrl: config.hubspotRevokeUrl,
      }),
    );
  }
  if (config.oauthProviders) providers.push(...parseGenericProviders(config.oauthProviders));
  return providers;
}

export function publicUrlOf(config: PlatformConfig): string {
  return config.publicUrl ?? `http://${config.httpHost}:${config.httpPort}`;
}

export async function startBrokerApp(config: PlatformConfig, logger: Logger, shared: Shared = {}): Promise<Running & { port: number }> {
  const tls = tlsFor(config, 'oauth-broker', shared);
  const masterKey = config.masterKey ? parseMasterKey(config.masterKey) : loadOrCreateMasterKey(config.dataDir).key;
  const store = await openStore(config, 'broker');
  const owned = !shared.eventLog;
  const eventLog = shared.eventLog ?? (await openEventLog(config, 'codestep-oauth-broker'));
  const service = await createCredentialsService({
    store,
    eventLog,
    masterKey,
    grantKey: grantKeyOf(config),
    providers: providersFrom(config),
    redirectUri: `${publicUrlOf(config)}/oauth/callback`,
    clock: systemClock,
    logger: logger.child({ service: 'oauth-broker' }),
  });
  // The connections view follows the log too: events other instances appended, outboxes flushed late.
  const consumer = await startConnectionsConsumer({ store, eventLog, logger });
  const server = await serve(config.brokerGrpc, [[credentialsV1.CredentialsService, service.grpc as never]], { tls });
  registerLocal(shared, [[credentialsV1.CredentialsClient, service.grpc as never]]);
  let stopped: Promise<void> | undefined;
  return {
    name: 'oauth-broker',
    port: server.port,
    stop: () =>
      (stopped ??= (async () => {
        await server.stop();
        await consumer.stop();
        if (owned) await eventLog.close();
        await store.close();
      })()),
  };
}

/** The gateway's connection and secret routes, over the broker's gRPC client. */
export function brokerRoutes(clients: { credentials: PromiseClient<credentialsV1.CredentialsClient> }): Route[] {
  return connectionRoutes(clients.credentials.raw);
}
