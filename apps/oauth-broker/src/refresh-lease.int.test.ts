/**
 * Exactly one refresh per connection, however many callers ask at once and however many broker
 * instances (executor-side processes) they ask through: the lease lives in the shared store.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@codestep/store-sqlite';
import { genericOAuth2Provider, type CredentialsBroker, type GenericProviderConfig, type TokenOutcome } from '@codestep/credentials-service';
import { COLLECTIONS, startOAuthTestServer, type ConnectionDoc, type OAuthTestServer, type TestClient } from '@codestep/credentials-service/testing';
import { brokerHarness, REDIRECT_URI, type BrokerHarness } from './testing/broker-harness.ts';
import type { WorkerGo, WorkerMessage } from './testing/refresh-worker.ts';

const client: TestClient = { clientId: 'codestep', clientSecret: 'platform-client-secret-lease', redirectUris: [REDIRECT_URI], scope: 'contacts.read' };
const T = 'portal-77';
const TTL_S = 120;

describe('refresh coordination through a lease in the store', () => {
  let server: OAuthTestServer;
  let h: BrokerHarness;
  let providerConfig: GenericProviderConfig;
  let instances: CredentialsBroker[];

  before(async () => {
    server = await startOAuthTestServer({ clients: [client], scopes: ['contacts.read'], accessTokenTtlSeconds: TTL_S });
    providerConfig = {
      id: 'acme',
      displayName: 'Acme CRM',
      authorizeUrl: server.authorizeUrl,
      tokenUrl: server.tokenUrl,
      revocationUrl: server.revocationUrl,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      scopes: ['contacts.read'],
    };
    h = await brokerHarness([genericOAuth2Provider(providerConfig)], { refreshSkewMs: 30_000 });
    // Four broker instances over one SQLite store file, each with its own connection to it.
    instances = [h.service.api, ...(await Promise.all([1, 2, 3].map(async (i) => (await h.instance({ instanceId: `instance-${i}` })).api)))];
  });
  after(async () => {
    await h.close();
    await server.close();
  });

  async function connect(handle: string): Promise<string> {
    const api = h.service.api;
    const { authorizeUrl } = await api.createConnection({ tenantId: T, handle, provider: 'acme' });
    const callback = await server.authorize(authorizeUrl);
    const outcome = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
    assert.ok(outcome.ok);
    const t = await api.getOAuthToken({ tenantId: T, handle, declaredHandles: [handle] });
    assert.ok(t.ok);
    return t.token;
  }

  const refreshedEvents = async (handle: string) => (await h.events()).filter((e) => e.event.$case === 'connectionRefreshed' && e.aggregateId === `${T}/${handle}`).length;

  it('100 concurrent requests at expiry across 4 broker instances sharing one store cause exactly one refresh', async () => {
    const old = await connect('busy');
    const refreshes = server.tokenCalls.refresh_token ?? 0;
    const hits = server.tokenHttpHits;
    server.tokenDelayMs = 300; // the refresh is slow: everyone else arrives while it runs
    h.clock.advance(TTL_S * 1000);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (instances[i % instances.length] as CredentialsBroker).getOAuthToken({ tenantId: T, handle: 'busy', declaredHandles: ['busy'] })),
      );
      assert.equal(server.tokenCalls.refresh_token, refreshes + 1, 'one refresh at the provider');
      assert.equal(server.tokenHttpHits, hits + 1, 'one token-endpoint request');
      const tokens = new Set(outcomes.map((o) => (o.ok ? o.token : `error: ${o.error}`)));
      assert.equal(tokens.size, 1, `every caller got the same token: ${[...tokens].join(', ')}`);
      const [fresh = ''] = tokens;
      assert.notEqual(fresh, old);
      assert.equal((await server.introspect(fresh, client)).active, true);
      assert.equal(await refreshedEvents('busy'), 1);
    } finally {
      server.tokenDelayMs = 0;
      h.clock.advance(-TTL_S * 1000);
    }
  });

  it('100 concurrent requests from 4 separate OS processes sharing one SQLite file cause exactly one refresh', async () => {
    const old = await connect('multi-process');
    const refreshes = server.tokenCalls.refresh_token ?? 0;
    const hits = server.tokenHttpHits;
    const worker = fileURLToPath(new URL('./testing/refresh-worker.ts', import.meta.url));
    const children: ChildProcess[] = [];
    const messages = (child: ChildProcess) => {
      const queue: WorkerMessage[] = [];
      const waiters: Array<(m: WorkerMessage) => void> = [];
      child.on('message', (m: WorkerMessage) => (waiters.length ? waiters.shift()?.(m) : queue.push(m)));
      child.on('exit', (code) => code !== 0 && waiters.shift()?.({ type: 'failed', message: `worker exited with ${code}` }));
      return () => new Promise<WorkerMessage>((resolve) => (queue.length ? resolve(queue.shift() as WorkerMessage) : waiters.push(resolve)));
    };
    try {
      const next: Array<() => Promise<WorkerMessage>> = [];
      for (let i = 0; i < 4; i++) {
        const child = fork(worker, [], {
          execPath: process.execPath,
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
          env: {
            PATH: process.env.PATH ?? '',
            WORKER_STORE_PATH: join(h.dir, 'credentials.db'),
            WORKER_EVENTS_PATH: join(h.dir, 'events.db'),
            WORKER_MASTER_KEY: h.masterKey.toString('base64'),
            WORKER_PROVIDER: JSON.stringify(providerConfig),
          },
        });
        children.push(child);
        next.push(messages(child));
      }
      for (const n of next) assert.equal((await n()).type, 'ready');
      server.tokenDelayMs = 300;
      const go: WorkerGo = { type: 'go', clockOffsetMs: TTL_S * 1000, tenantId: T, handle: 'multi-process', count: 25 };
      for (const c of children) c.send(go);
      const outcomes: TokenOutcome[] = [];
      for (const n of next) {
        const m = await n();
        assert.equal(m.type, 'done', m.type === 'failed' ? m.message : '');
        if (m.type === 'done') outcomes.push(...m.outcomes);
      }
      assert.equal(outcomes.length, 100);
      assert.equal(server.tokenCalls.refresh_token, refreshes + 1, 'one refresh at the provider');
      assert.equal(server.tokenHttpHits, hits + 1, 'one token-endpoint request');
      const tokens = new Set(outcomes.map((o) => (o.ok ? o.token : `error: ${o.error}`)));
      assert.equal(tokens.size, 1, `every caller got the same token: ${[...tokens].join(', ')}`);
      const [fresh = ''] = tokens;
      assert.notEqual(fresh, old);
      assert.equal((await server.introspect(fresh, client)).active, true);
      assert.equal(await refreshedEvents('multi-process'), 1);
    } finally {
      server.tokenDelayMs = 0;
      for (const c of children) if (c.connected) c.send({ type: 'exit' });
      await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    }
  });

  it('waits for a lease someone else holds, and takes over when it expires without a result', async () => {
    const old = await connect('orphaned');
    const refreshes = server.tokenCalls.refresh_token ?? 0;
    h.clock.advance(TTL_S * 1000);
    // A broker that took the lease and died before writing anything.
    const store = new SqliteStore({ path: join(h.dir, 'credentials.db') });
    const id = `${T}/orphaned`;
    const stored = await store.get<ConnectionDoc>(COLLECTIONS.connections, id);
    assert.ok(stored);
    assert.ok(await store.compareAndSet(COLLECTIONS.connections, id, stored.version, { ...stored.doc, lease: { holder: 'dead-instance/1', until: h.clock.now() + 30_000 } }));
    await store.close();
    try {
      let settled = false;
      const pending = instances[1]?.getOAuthToken({ tenantId: T, handle: 'orphaned', declaredHandles: ['orphaned'] }).finally(() => (settled = true));
      await sleep(150);
      assert.equal(settled, false, 'the caller waits while the lease holds');
      assert.equal(server.tokenCalls.refresh_token ?? 0, refreshes, 'nobody refreshed behind the holder’s back');
      h.clock.advance(31_000);
      const outcome = await pending;
      assert.ok(outcome?.ok, outcome && !outcome.ok ? outcome.error : '');
      assert.notEqual(outcome.token, old);
      assert.equal(server.tokenCalls.refresh_token, refreshes + 1);
    } finally {
      h.clock.advance(-(TTL_S * 1000 + 31_000));
    }
  });

  it('does not wait for someone else’s refresh while the current token still works', async () => {
    const current = await connect('still-valid');
    const refreshes = server.tokenCalls.refresh_token ?? 0;
    h.clock.advance(100_000); // inside the 30 s skew window, 20 s before expiry
    const store = new SqliteStore({ path: join(h.dir, 'credentials.db') });
    const id = `${T}/still-valid`;
    const stored = await store.get<ConnectionDoc>(COLLECTIONS.connections, id);
    assert.ok(stored);
    assert.ok(await store.compareAndSet(COLLECTIONS.connections, id, stored.version, { ...stored.doc, lease: { holder: 'slow-instance/1', until: h.clock.now() + 30_000 } }));
    await store.close();
    try {
      const outcome = await instances[2]?.getOAuthToken({ tenantId: T, handle: 'still-valid', declaredHandles: ['still-valid'] });
      assert.deepEqual(outcome && outcome.ok && outcome.token, current);
      assert.equal(server.tokenCalls.refresh_token ?? 0, refreshes);
    } finally {
      h.clock.advance(-100_000);
    }
  });

  it('a revoke during a refresh wins: the refresh result is dropped and the caller is told it was revoked', async () => {
    await connect('revoked-midway');
    server.tokenDelayMs = 300;
    h.clock.advance(TTL_S * 1000);
    try {
      const pending = (instances[1] as CredentialsBroker).getOAuthToken({ tenantId: T, handle: 'revoked-midway', declaredHandles: ['revoked-midway'] });
      await sleep(100); // the refresh is at the provider now
      const revoked = await (instances[2] as CredentialsBroker).revokeConnection({ tenantId: T, handle: 'revoked-midway' });
      assert.equal(revoked.status, 'revoked');
      const outcome = await pending;
      assert.equal(!outcome.ok && outcome.errorCode, 'REVOKED');
      const after = await h.service.api.getConnection({ tenantId: T, handle: 'revoked-midway' });
      assert.equal(after.status, 'revoked');
      assert.equal(after.expiresAt, null);
    } finally {
      server.tokenDelayMs = 0;
      h.clock.advance(-TTL_S * 1000);
    }
  });

  it('an outage during a crowded refresh costs one provider request, and every caller is told to try later', async () => {
    await connect('crowded-outage');
    const hits = server.tokenHttpHits;
    server.tokenDelayMs = 200;
    server.failNextTokenRequests(1);
    h.clock.advance(TTL_S * 1000);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (instances[i % instances.length] as CredentialsBroker).getOAuthToken({ tenantId: T, handle: 'crowded-outage', declaredHandles: ['crowded-outage'] })),
      );
      assert.equal(server.tokenHttpHits, hits + 1);
      for (const o of outcomes) {
        assert.equal(o.ok, false);
        assert.equal(!o.ok && o.errorCode, 'PROVIDER_UNAVAILABLE');
        assert.match(!o.ok ? o.error : '', /Acme CRM is unreachable \(the provider answered HTTP 503/);
      }
      assert.equal((await h.service.api.getConnection({ tenantId: T, handle: 'crowded-outage' })).status, 'active');
    } finally {
      server.tokenDelayMs = 0;
      h.clock.advance(-TTL_S * 1000);
    }
  });
});
