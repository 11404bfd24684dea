/**
 * The HubSpot preset against the HubSpot API fake: the install URL with the table's scopes, the
 * code exchange with client credentials in the form body, the seed's "create a contact" call
 * with the broker's token, refresh (HubSpot keeps the refresh token), HubSpot's
 * BAD_REFRESH_TOKEN as needs_reauth, a denied install, and revocation through HubSpot's DELETE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hubspotPreset, type CredentialsBroker } from '@codestep/credentials-service';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { brokerHarness, REDIRECT_URI, type BrokerHarness } from './testing/broker-harness.ts';

const CLIENT_ID = 'codestep-platform-app';
const CLIENT_SECRET = 'codestep-platform-app-secret-5b1e';
const T = '62515';

describe('HubSpot preset against the HubSpot API fake', () => {
  let fake: HubSpotFake;
  let h: BrokerHarness;
  let api: CredentialsBroker;

  before(async () => {
    h = await brokerHarness([], {});
    fake = await startHubSpotFake({
      oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
      accessTokenTtlSeconds: 1800,
      rateLimitPerSecond: 0,
      clock: h.clock.now,
    });
    const preset = hubspotPreset({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      authorizeUrl: `${fake.url}/oauth/authorize`,
      tokenUrl: `${fake.url}/oauth/v1/token`,
      refreshTokenRevocationUrl: `${fake.url}/oauth/v1/refresh-tokens`,
    });
    api = (await h.instance({ providers: [preset], refreshSkewMs: 300_000 })).api;
  });
  after(async () => {
    await fake.close();
    await h.close();
  });

  /** The browser's side: the fake's install page redirects straight back (auto-consent). */
  async function install(authorizeUrl: string): Promise<URL> {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    assert.equal(res.status, 302, await res.text());
    return new URL(res.headers.get('location') ?? '');
  }

  async function connect(handle: string, permissions: string[]) {
    const { authorizeUrl } = await api.createConnection({ tenantId: T, handle, provider: 'hubspot', permissions });
    const callback = await install(authorizeUrl);
    const done = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
    assert.ok(done.ok, done.ok ? '' : done.error);
    return { authorizeUrl, connection: done.connection };
  }

  async function token(handle: string): Promise<string> {
    const r = await api.getOAuthToken({ tenantId: T, handle, declaredHandles: [handle] });
    assert.ok(r.ok, r.ok ? '' : r.error);
    return r.token;
  }

  it('authorizes my-hubspot with the table’s scopes, and its token creates a contact as in the seed', async () => {
    const { authorizeUrl, connection } = await connect('my-hubspot', ['contacts.write', 'deals.write']);
    const url = new URL(authorizeUrl);
    assert.equal(url.searchParams.get('scope'), 'crm.objects.contacts.read crm.objects.contacts.write crm.objects.deals.read crm.objects.deals.write');
    assert.equal(url.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(connection.status, 'active');
    assert.ok(connection.expiresAt && connection.expiresAt > h.clock.now() + 1_700_000);

    const t = await token('my-hubspot');
    const res = await fetch(`${fake.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${t}` },
      body: JSON.stringify({ properties: { email: 'ada@example.com', firstname: 'Ada', lastname: 'Lovelace' } }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const created = (await res.json()) as { id: string; properties: Record<string, string> };
    assert.equal(fake.get('contacts', created.id)?.properties.email, 'ada@example.com');
    const tokenRequest = fake.requests.find((r) => r.path === '/oauth/v1/token');
    assert.ok(tokenRequest, 'the code was exchanged at HubSpot’s token endpoint');
  });

  it('refreshes before expiry and keeps HubSpot’s unchanged refresh token', async () => {
    const first = await token('my-hubspot');
    h.clock.advance(1_600_000); // 30 min tokens, 5 min skew
    const second = await token('my-hubspot');
    assert.notEqual(second, first);
    h.clock.advance(1_600_000);
    const third = await token('my-hubspot');
    assert.notEqual(third, second);
    const res = await fetch(`${fake.url}/crm/v3/objects/deals`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${third}` },
      body: JSON.stringify({ properties: { dealname: 'Order #1001', amount: '99.50', pipeline: 'default', dealstage: 'closedwon' } }),
    });
    assert.equal(res.status, 201, await res.text());
  });

  it('reads HubSpot’s refusal of a forgotten refresh token as needs_reauth, with HubSpot’s message', async () => {
    await connect('uninstalled', ['contacts.read']);
    const { refreshToken } = await h.storedCredentials(T, 'uninstalled');
    // The portal admin uninstalls the app: HubSpot forgets the refresh token.
    assert.equal((await fetch(`${fake.url}/oauth/v1/refresh-tokens/${refreshToken}`, { method: 'DELETE' })).status, 204);
    h.clock.advance(1_600_000);
    try {
      const r = await api.getOAuthToken({ tenantId: T, handle: 'uninstalled', declaredHandles: ['uninstalled'] });
      assert.equal(!r.ok && r.errorCode, 'NEEDS_REAUTH');
      assert.match(
        !r.ok ? r.error : '',
        /^OAuth connection "uninstalled" needs to be reconnected: HubSpot refused to refresh the token \(invalid_grant: missing or invalid refresh token\)\. Reconnect it under OAuth Connections\.$/,
      );
      assert.equal((await api.getConnection({ tenantId: T, handle: 'uninstalled' })).status, 'needs_reauth');
    } finally {
      h.clock.advance(-1_600_000);
    }
  });

  it('revokes through HubSpot’s refresh-token DELETE and marks the connection revoked', async () => {
    await connect('to-revoke', ['files']);
    const { refreshToken } = await h.storedCredentials(T, 'to-revoke');
    assert.equal((await fetch(`${fake.url}/oauth/v1/refresh-tokens/${refreshToken}`)).status, 200);
    const conn = await api.revokeConnection({ tenantId: T, handle: 'to-revoke' });
    assert.equal(conn.status, 'revoked');
    assert.equal(conn.statusReason, 'revoked by a user');
    const deletes = fake.requests.filter((r) => r.method === 'DELETE' && r.path === `/oauth/v1/refresh-tokens/${refreshToken}`);
    assert.deepEqual(
      deletes.map((r) => r.status),
      [204],
    );
    assert.equal((await fetch(`${fake.url}/oauth/v1/refresh-tokens/${refreshToken}`)).status, 404);
  });

  it('shows a denied install plainly', async () => {
    fake.setOAuthConsent({ decision: 'deny' });
    try {
      const { authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'denied', provider: 'hubspot', permissions: ['tickets'] });
      const callback = await install(authorizeUrl);
      const out = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', error: callback.searchParams.get('error') ?? '' });
      assert.equal(out.ok, false);
      assert.equal(!out.ok && out.error, 'HubSpot did not grant access to "denied" (access_denied). Nothing was connected; start connecting again to retry.');
    } finally {
      fake.setOAuthConsent({ decision: 'approve' });
    }
  });
});
