/**
 * What a token costs the executor: `getOAuthToken` for a fresh token (store read + AES-GCM open)
 * against a bare store read, the same over gRPC, and a refresh with 100 callers waiting on it
 * against a refresh with one. Prints ratios against baselines measured in the same run.
 *
 *   node apps/oauth-broker/src/token-serving.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { credentialsV1 } from '@codestep/contracts';
import { genericOAuth2Provider, type CredentialsBroker } from '@codestep/credentials-service';
import { COLLECTIONS, startOAuthTestServer, type TestClient } from '@codestep/credentials-service/testing';
import { createClient, serve } from '@codestep/rpc';
import { tenantKey } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { join } from 'node:path';
import { brokerHarness, REDIRECT_URI } from './testing/broker-harness.ts';

const client: TestClient = { clientId: 'codestep', clientSecret: 'bench-client-secret', redirectUris: [REDIRECT_URI], scope: 'contacts.read' };
const oauth = await startOAuthTestServer({ clients: [client], scopes: ['contacts.read'], accessTokenTtlSeconds: 3600 });
const h = await brokerHarness([genericOAuth2Provider({ id: 'acme', authorizeUrl: oauth.authorizeUrl, tokenUrl: oauth.tokenUrl, clientId: client.clientId, clientSecret: client.clientSecret })]);
const api = h.service.api;
const instances: CredentialsBroker[] = [api, ...(await Promise.all([1, 2, 3].map(async () => (await h.instance()).api)))];

async function connect(handle: string): Promise<void> {
  const { authorizeUrl } = await api.createConnection({ tenantId: 't', handle, provider: 'acme', scopes: ['contacts.read'] });
  const cb = await oauth.authorize(authorizeUrl);
  const done = await api.completeAuthorization({ state: cb.searchParams.get('state') ?? '', code: cb.searchParams.get('code') ?? '' });
  if (!done.ok) throw new Error(done.error);
}

async function time(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await fn();
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - start) * 1000) / n; // µs per call
}

await connect('bench');
const store = new SqliteStore({ path: join(h.dir, 'credentials.db') });
const id = tenantKey('t', 'bench');
const request = { tenantId: 't', handle: 'bench', declaredHandles: ['bench'] };

const N = 3000;
const bare = await time(N, () => store.get(COLLECTIONS.connections, id));
const served = await time(N, () => api.getOAuthToken(request));
const server = await serve('127.0.0.1:0', [[credentialsV1.CredentialsService, h.service.grpc]], { tls: h.pki.tls('oauth-broker') });
const rpc = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${server.port}`, { tls: h.pki.tls('executor') });
const grant = h.grant('t', 'x', { connections: ['bench'] });
const overGrpc = await time(1000, () => rpc.getOAuthToken({ ...request, workflowId: 'wf', executionId: 'x', grant }));

// One refresh with one caller, then one refresh with 100 callers over 4 instances.
const refreshWith = async (handle: string, callers: number): Promise<number> => {
  await connect(handle);
  h.clock.advance(3600_000);
  const start = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: callers }, (_, i) => (instances[i % instances.length] as CredentialsBroker).getOAuthToken({ tenantId: 't', handle, declaredHandles: [handle] })),
  );
  const ms = performance.now() - start;
  h.clock.advance(-3600_000);
  if (outcomes.some((o) => !o.ok)) throw new Error('a refresh failed');
  return ms;
};
const before = oauth.tokenCalls.refresh_token ?? 0;
const single = await refreshWith('single', 1);
const crowd = await refreshWith('crowd', 100);
const refreshes = (oauth.tokenCalls.refresh_token ?? 0) - before;

console.log(`store.get (baseline)             ${bare.toFixed(1)} µs/call`);
console.log(`getOAuthToken, fresh token       ${served.toFixed(1)} µs/call  (${(served / bare).toFixed(2)}× store.get)`);
console.log(`getOAuthToken over gRPC          ${overGrpc.toFixed(1)} µs/call  (${(overGrpc / served).toFixed(2)}× in-process)`);
console.log(`refresh, 1 caller                ${single.toFixed(1)} ms`);
console.log(`refresh, 100 callers/4 instances ${crowd.toFixed(1)} ms  (${(crowd / single).toFixed(2)}× one caller; ${refreshes} token-endpoint refreshes for 2 connections)`);

rpc.close();
await server.stop();
await store.close();
await h.close();
await oauth.close();
