/**
 * The refresh lease over the MongoDB store adapter (distributed mode): four broker instances,
 * each with its own MongoDB client on one database, and 100 callers at expiry cause one refresh.
 * Needs a MongoDB-wire server (`MONGODB_URI`, e.g. FerretDB from `eval "$(infra/local/up.sh)"`);
 * skipped when it is unset.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { genericOAuth2Provider, type CredentialsBroker } from '@codestep/credentials-service';
import { startOAuthTestServer, type OAuthTestServer, type TestClient } from '@codestep/credentials-service/testing';
import { MongoStore } from '@codestep/store-mongodb';
import { MongoClient } from 'mongodb';
import { brokerHarness, REDIRECT_URI, type BrokerHarness } from './testing/broker-harness.ts';

const uri = process.env.MONGODB_URI;
const client: TestClient = { clientId: 'codestep', clientSecret: 'platform-client-secret-mongo', redirectUris: [REDIRECT_URI], scope: 'contacts.read' };
const T = 'portal-mongo';
const TTL_S = 120;

if (!uri) {
  describe('refresh lease over the MongoDB store', () => {
    it('needs MONGODB_URI', { skip: 'MONGODB_URI is not set; run eval "$(infra/local/up.sh)" first' }, () => {});
  });
} else {
  describe('refresh lease over the MongoDB store', () => {
    const database = `codestep_broker_test_${randomUUID().slice(0, 8)}`;
    let server: OAuthTestServer;
    let h: BrokerHarness;
    let instances: CredentialsBroker[];
    const stores: MongoStore[] = [];

    before(async () => {
      server = await startOAuthTestServer({ clients: [client], scopes: ['contacts.read'], accessTokenTtlSeconds: TTL_S });
      h = await brokerHarness(
        [
          genericOAuth2Provider({
            id: 'acme',
            displayName: 'Acme CRM',
            authorizeUrl: server.authorizeUrl,
            tokenUrl: server.tokenUrl,
            clientId: client.clientId,
            clientSecret: client.clientSecret,
            scopes: ['contacts.read'],
          }),
        ],
        { refreshSkewMs: 30_000 },
      );
      instances = [];
      for (let i = 0; i < 4; i++) {
        const store = new MongoStore({ uri, database });
        stores.push(store);
        instances.push((await h.instance({ store, instanceId: `mongo-${i}` })).api);
      }
    });
    after(async () => {
      for (const s of stores) await s.close();
      const admin = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
      await admin.db(database).dropDatabase();
      await admin.close();
      await h.close();
      await server.close();
    });

    it('100 concurrent requests at expiry across 4 instances cause exactly one refresh', async () => {
      const api = instances[0] as CredentialsBroker;
      const { authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'busy', provider: 'acme' });
      const callback = await server.authorize(authorizeUrl);
      const done = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
      assert.ok(done.ok, done.ok ? '' : done.error);
      const first = await api.getOAuthToken({ tenantId: T, handle: 'busy', declaredHandles: ['busy'] });
      assert.ok(first.ok);
      const refreshes = server.tokenCalls.refresh_token ?? 0;
      server.tokenDelayMs = 300;
      h.clock.advance(TTL_S * 1000);
      try {
        const outcomes = await Promise.all(
          Array.from({ length: 100 }, (_, i) => (instances[i % instances.length] as CredentialsBroker).getOAuthToken({ tenantId: T, handle: 'busy', declaredHandles: ['busy'] })),
        );
        assert.equal(server.tokenCalls.refresh_token, refreshes + 1, 'one refresh at the provider');
        const tokens = new Set(outcomes.map((o) => (o.ok ? o.token : `error: ${o.error}`)));
        assert.equal(tokens.size, 1, `every caller got the same token: ${[...tokens].join(', ')}`);
        const [fresh = ''] = tokens;
        assert.notEqual(fresh, first.token);
        assert.equal((await server.introspect(fresh, client)).active, true);
      } finally {
        server.tokenDelayMs = 0;
        h.clock.advance(-TTL_S * 1000);
      }
    });
  });
}
