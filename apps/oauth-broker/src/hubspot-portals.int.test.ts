/**
 * Installing the HubSpot app records the portal: the connection's authorization reads the new
 * token's `hub_id` from HubSpot's token metadata, its `ConnectionChanged` carries it, and the
 * provider-accounts projection answers "which tenant and connection owns portal X" (rebuilt the
 * same from the log). A portal nobody installed, or installed by two tenants, is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CodestepError, NotFoundError } from '@codestep/core';
import { connectionsProjection, hubspotPreset, type CredentialsBroker } from '@codestep/credentials-service';
import { COLLECTIONS } from '@codestep/credentials-service/testing';
import { toRecord } from '@codestep/events';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { SqliteStore } from '@codestep/store-sqlite';
import { brokerHarness, REDIRECT_URI, type BrokerHarness } from './testing/broker-harness.ts';

const CLIENT_ID = 'codestep-platform-app';
const CLIENT_SECRET = 'codestep-platform-app-secret-5b1e';

describe('HubSpot portal → tenant', () => {
  let fake: HubSpotFake;
  let h: BrokerHarness;
  let api: CredentialsBroker;

  before(async () => {
    h = await brokerHarness([], {});
    fake = await startHubSpotFake({ oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }], rateLimitPerSecond: 0 });
    const preset = hubspotPreset({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, authorizeUrl: `${fake.url}/oauth/authorize`, tokenUrl: `${fake.url}/oauth/v1/token` });
    api = (await h.instance({ providers: [preset] })).api;
  });
  after(async () => {
    await fake.close();
    await h.close();
  });

  async function install(tenantId: string, handle: string, portalId: number) {
    fake.setOAuthConsent({ decision: 'approve', portalId });
    const { authorizeUrl } = await api.createConnection({ tenantId, handle, provider: 'hubspot', permissions: ['contacts.write'] });
    const callback = new URL((await fetch(authorizeUrl, { redirect: 'manual' })).headers.get('location') ?? '');
    const done = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
    assert.ok(done.ok, done.ok ? '' : done.error);
    return done.connection;
  }

  it('records the portal an install is for, and finds its tenant and connection by it', async () => {
    const a = await install('tenant-a', 'my-hubspot', 62515);
    assert.equal(a.accountId, '62515');
    await install('tenant-b', 'crm', 777001);
    const owner = await api.findAccountConnection({ provider: 'hubspot', accountId: '62515' });
    assert.deepEqual([owner.tenantId, owner.handle, owner.status], ['tenant-a', 'my-hubspot', 'active']);
    assert.equal((await api.findAccountConnection({ provider: 'hubspot', accountId: '777001' })).tenantId, 'tenant-b');
    const events = await h.events();
    assert.ok(events.some((e) => e.event.$case === 'connectionChanged' && e.event.value.accountId === '62515' && e.tenantId === 'tenant-a'));
  });

  it('refuses a portal nobody installed with what to do', async () => {
    await assert.rejects(api.findAccountConnection({ provider: 'hubspot', accountId: '404404' }), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.match(e.message, /no codestep account has installed the HubSpot app in account 404404: connect it/);
      return true;
    });
    await assert.rejects(api.findAccountConnection({ provider: 'hubspot', accountId: '1; drop' }), /account id .* is not one a provider gives/);
  });

  it('refuses a portal two tenants installed, until one revokes', async () => {
    await install('tenant-c', 'hs', 62515);
    await assert.rejects(api.findAccountConnection({ provider: 'hubspot', accountId: '62515' }), (e: unknown) => {
      assert.ok(e instanceof CodestepError);
      assert.equal(e.code, 'FAILED_PRECONDITION');
      assert.match(e.message, /connected by 2 codestep accounts/);
      return true;
    });
    await api.revokeConnection({ tenantId: 'tenant-c', handle: 'hs' });
    assert.equal((await api.findAccountConnection({ provider: 'hubspot', accountId: '62515' })).tenantId, 'tenant-a');
  });

  it('gives the tenant a token of its connection for the platform’s own calls', async () => {
    const owner = await api.findAccountConnection({ provider: 'hubspot', accountId: '62515' });
    const t = await api.getConnectionToken({ tenantId: owner.tenantId, handle: owner.handle, purpose: 'test' });
    assert.ok(t.ok);
    const info = (await (await fetch(`${fake.url}/oauth/v1/access-tokens/${t.token}`)).json()) as { hub_id: number };
    assert.equal(info.hub_id, 62515);
    const other = await api.getConnectionToken({ tenantId: 'tenant-b', handle: 'my-hubspot' });
    assert.equal(other.ok, false, 'another tenant’s handle is not found');
  });

  it('rebuilds the same portal index from the log', async () => {
    const live = new SqliteStore({ path: `${h.dir}/credentials.db` });
    const rebuilt = new SqliteStore({ path: ':memory:' });
    try {
      await connectionsProjection.ensure(rebuilt);
      const records = (await h.events()).map((env, offset) => ({ ...toRecord(env), partition: 0, offset }));
      await connectionsProjection.apply(rebuilt, records);
      const rows = async (s: SqliteStore) => (await s.find(COLLECTIONS.providerAccounts, { orderBy: { field: 'tenantId', direction: 'asc' } })).map((d) => [d.id, d.doc]);
      assert.deepEqual(await rows(rebuilt), await rows(live));
      assert.equal((await rows(rebuilt)).length, 3);
    } finally {
      await live.close();
      await rebuilt.close();
    }
  });
});
