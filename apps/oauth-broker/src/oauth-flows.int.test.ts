/**
 * The broker against a real OAuth 2.0 server (oidc-provider, running in the test): PKCE
 * authorization, state checks, denied consent, expiry and refresh with rotation, needs_reauth,
 * provider outages, client credentials, revocation, tenant scoping, and what gets persisted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodestepError } from '@codestep/core';
import { genericOAuth2Provider, type CredentialsBroker, type OAuthProvider } from '@codestep/credentials-service';
import { startOAuthTestServer, type OAuthTestServer, type TestClient } from '@codestep/credentials-service/testing';
import { brokerHarness, REDIRECT_URI, type BrokerHarness } from './testing/broker-harness.ts';

const client: TestClient = { clientId: 'codestep', clientSecret: 'platform-client-secret-7f3a', redirectUris: [REDIRECT_URI], scope: 'contacts.read contacts.write reports.read' };
const legacyClient: TestClient = { ...client, clientId: 'codestep-legacy', clientSecret: 'legacy-client-secret-91c2', pkceRequired: false };

const T = 'portal-1001';
const OTHER = 'portal-2002';

function providersFor(server: OAuthTestServer): OAuthProvider[] {
  const base = { authorizeUrl: server.authorizeUrl, tokenUrl: server.tokenUrl, clientId: client.clientId, clientSecret: client.clientSecret, scopes: ['contacts.read'] };
  return [
    genericOAuth2Provider({ id: 'acme', displayName: 'Acme CRM', ...base, revocationUrl: server.revocationUrl }),
    genericOAuth2Provider({ id: 'acme-norevoke', displayName: 'Acme (no revocation endpoint)', ...base }),
    genericOAuth2Provider({ id: 'acme-machine', displayName: 'Acme machine', ...base, grantType: 'client_credentials', scopes: ['reports.read'] }),
    genericOAuth2Provider({ id: 'acme-legacy', displayName: 'Acme legacy', ...base, clientId: legacyClient.clientId, clientSecret: legacyClient.clientSecret, pkce: false }),
  ];
}

/** Creates a connection and runs the user's side of the flow to the callback. */
async function connect(api: CredentialsBroker, server: OAuthTestServer, tenantId: string, handle: string, provider = 'acme', scopes = ['contacts.read', 'contacts.write']) {
  const { authorizeUrl } = await api.createConnection({ tenantId, handle, provider, scopes });
  const callback = await server.authorize(authorizeUrl);
  const outcome = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
  return outcome.connection;
}

async function token(api: CredentialsBroker, tenantId: string, handle: string): Promise<string> {
  const r = await api.getOAuthToken({ tenantId, handle, declaredHandles: [handle], workflowId: 'wf-1' });
  assert.ok(r.ok, r.ok ? '' : `${r.errorCode}: ${r.error}`);
  return r.token;
}

describe('OAuth connections against a real OAuth 2.0 server', () => {
  let server: OAuthTestServer;
  let h: BrokerHarness;
  let api: CredentialsBroker;
  /** Every token and secret the test saw: none may appear in clear anywhere the broker wrote. */
  const seen = new Set<string>([client.clientSecret, legacyClient.clientSecret]);

  before(async () => {
    server = await startOAuthTestServer({ clients: [client, { ...legacyClient }], scopes: ['contacts.read', 'contacts.write', 'reports.read'], accessTokenTtlSeconds: 120 });
    h = await brokerHarness(providersFor(server), { refreshSkewMs: 60_000, refreshFailureBackoffMs: 5_000 });
    api = h.service.api;
  });
  after(async () => {
    await h.close();
    await server.close();
  });

  it('authorizes a connection with PKCE S256 and a random state, and hands out a working token', async () => {
    const { connection, authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'my-acme', provider: 'acme', scopes: ['contacts.read', 'contacts.write'] });
    assert.equal(connection.status, 'pending');
    const url = new URL(authorizeUrl);
    assert.equal(url.origin + url.pathname, server.authorizeUrl);
    assert.equal(url.searchParams.get('response_type'), 'code');
    assert.equal(url.searchParams.get('client_id'), 'codestep');
    assert.equal(url.searchParams.get('redirect_uri'), REDIRECT_URI);
    assert.equal(url.searchParams.get('scope'), 'contacts.read contacts.write');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(url.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);

    const callback = await server.authorize(authorizeUrl);
    assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
    const outcome = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    assert.equal(outcome.connection.status, 'active');
    assert.deepEqual(outcome.connection.grantedScopes, ['contacts.read', 'contacts.write']);
    assert.ok(outcome.connection.expiresAt && outcome.connection.expiresAt > Date.now());

    const t = await token(api, T, 'my-acme');
    seen.add(t);
    const introspection = await server.introspect(t, client);
    assert.equal(introspection.active, true);
    assert.equal(introspection.scope, 'contacts.read contacts.write');
    const creds = await h.storedCredentials(T, 'my-acme');
    assert.ok(creds.refreshToken, 'a refresh token was stored');
    seen.add(creds.refreshToken);

    const events = await h.events();
    const authorized = events.filter((e) => e.event.$case === 'connectionAuthorized' && e.aggregateId === `${T}/my-acme`);
    assert.equal(authorized.length, 1);
    assert.deepEqual(authorized[0]?.event.value, { handle: 'my-acme', provider: 'acme', scopes: ['contacts.read', 'contacts.write'] });
    assert.equal(authorized[0]?.tenantId, T);
  });

  it('accepts a state once only, and refuses unknown and expired states', async () => {
    const { authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'state-checks', provider: 'acme' });
    const callback = await server.authorize(authorizeUrl);
    const state = callback.searchParams.get('state') ?? '';
    const code = callback.searchParams.get('code') ?? '';
    const first = await api.completeAuthorization({ state, code });
    assert.ok(first.ok);
    const replay = await api.completeAuthorization({ state, code });
    assert.equal(replay.ok, false);
    assert.equal(!replay.ok && replay.errorCode, 'INVALID_STATE');

    const forged = await api.completeAuthorization({ state: 'made-up-state', code });
    assert.equal(!forged.ok && forged.errorCode, 'INVALID_STATE');
    assert.match(!forged.ok ? forged.error : '', /not valid or was already used/);

    const again = await api.startAuthorization({ tenantId: T, handle: 'state-checks' });
    const late = await server.authorize(again.authorizeUrl);
    h.clock.advance(11 * 60_000);
    try {
      const expired = await api.completeAuthorization({ state: late.searchParams.get('state') ?? '', code: late.searchParams.get('code') ?? '' });
      assert.equal(!expired.ok && expired.errorCode, 'STATE_EXPIRED');
      assert.match(!expired.ok ? expired.error : '', /expired/);
    } finally {
      h.clock.advance(-11 * 60_000);
    }
  });

  it('cleans up authorization links nobody finished once they expire', async () => {
    const { authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'abandoned', provider: 'acme' });
    const stale = await server.authorize(authorizeUrl);
    h.clock.advance(11 * 60_000);
    try {
      await api.startAuthorization({ tenantId: T, handle: 'abandoned' });
      const late = await api.completeAuthorization({ state: stale.searchParams.get('state') ?? '', code: stale.searchParams.get('code') ?? '' });
      assert.equal(!late.ok && late.errorCode, 'INVALID_STATE', 'the expired link was deleted, not just refused');
    } finally {
      h.clock.advance(-11 * 60_000);
    }
  });

  it('shows a denied consent plainly and leaves the connection unauthorized', async () => {
    const { authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'denied', provider: 'acme' });
    const callback = await server.authorize(authorizeUrl, 'deny');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    const outcome = await api.completeAuthorization({
      state: callback.searchParams.get('state') ?? '',
      error: callback.searchParams.get('error') ?? '',
      errorDescription: callback.searchParams.get('error_description') ?? '',
    });
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.errorCode, 'PROVIDER_DENIED');
    assert.equal(!outcome.ok && outcome.error, 'Acme CRM did not grant access to "denied" (access_denied: The user declined to grant access). Nothing was connected; start connecting again to retry.');
    assert.equal((await api.getConnection({ tenantId: T, handle: 'denied' })).status, 'pending');
    const r = await api.getOAuthToken({ tenantId: T, handle: 'denied', declaredHandles: ['denied'] });
    assert.deepEqual(r, {
      ok: false,
      errorCode: 'NOT_AUTHORIZED',
      error: 'OAuth connection "denied" has not been authorized yet. Finish connecting it under OAuth Connections (sign in and grant access).',
    });
  });

  it('works without PKCE for a provider configured with PKCE off', async () => {
    const { authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'legacy', provider: 'acme-legacy' });
    assert.equal(new URL(authorizeUrl).searchParams.has('code_challenge'), false);
    const callback = await server.authorize(authorizeUrl);
    const outcome = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    seen.add(await token(api, T, 'legacy'));
  });

  it('refreshes before expiry and keeps the rotated refresh token for the next refresh', async () => {
    await connect(api, server, T, 'rotating');
    const first = await token(api, T, 'rotating');
    const rt1 = (await h.storedCredentials(T, 'rotating')).refreshToken ?? '';
    assert.equal(await token(api, T, 'rotating'), first, 'a fresh token is served from the store');
    const before = server.tokenCalls.refresh_token ?? 0;

    h.clock.advance(61_000); // 120 s tokens, 60 s skew: now within the refresh window
    const second = await token(api, T, 'rotating');
    assert.notEqual(second, first);
    assert.equal(server.tokenCalls.refresh_token, before + 1);
    const rt2 = (await h.storedCredentials(T, 'rotating')).refreshToken ?? '';
    assert.ok(rt2 && rt2 !== rt1, 'the provider rotated the refresh token and the broker kept the new one');
    assert.equal((await server.introspect(second, client)).active, true);

    // The next refresh only works with rt2: oidc-provider treats a retired refresh token as
    // stolen and revokes the whole grant.
    h.clock.advance(61_000);
    const third = await token(api, T, 'rotating');
    assert.notEqual(third, second);
    assert.equal(server.tokenCalls.refresh_token, before + 2);
    assert.equal((await server.introspect(third, client)).active, true);
    for (const t of [first, second, third, rt1, rt2]) seen.add(t);

    const refreshed = (await h.events()).filter((e) => e.event.$case === 'connectionRefreshed' && e.aggregateId === `${T}/rotating`);
    assert.equal(refreshed.length, 2);
    const conn = await api.getConnection({ tenantId: T, handle: 'rotating' });
    assert.equal(refreshed[1]?.event.value && 'expiresAt' in refreshed[1].event.value ? refreshed[1].event.value.expiresAt : 0, conn.expiresAt);
  });

  it('marks the connection needs_reauth with the provider’s reason when the refresh is refused, and reconnects', async () => {
    await connect(api, server, T, 'gone');
    const creds = await h.storedCredentials(T, 'gone');
    seen.add(creds.accessToken);
    // The user removes the app at the provider: the refresh token dies there.
    const revoked = await fetch(server.revocationUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: creds.refreshToken ?? '', token_type_hint: 'refresh_token' }).toString(),
    });
    assert.equal(revoked.status, 200);

    h.clock.advance(121_000);
    const r = await api.getOAuthToken({ tenantId: T, handle: 'gone', declaredHandles: ['gone'] });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.errorCode, 'NEEDS_REAUTH');
    assert.match(
      !r.ok ? r.error : '',
      /^OAuth connection "gone" needs to be reconnected: Acme CRM refused to refresh the token \(invalid_grant: grant request is invalid\)\. Reconnect it under OAuth Connections\.$/,
    );
    const conn = await api.getConnection({ tenantId: T, handle: 'gone' });
    assert.equal(conn.status, 'needs_reauth');
    assert.match(conn.statusReason, /invalid_grant/);
    const ev = (await h.events()).filter((e) => e.event.$case === 'connectionNeedsReauth' && e.aggregateId === `${T}/gone`);
    assert.equal(ev.length, 1);

    const again = await api.startAuthorization({ tenantId: T, handle: 'gone' });
    const callback = await server.authorize(again.authorizeUrl);
    const outcome = await api.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '' });
    assert.ok(outcome.ok);
    assert.equal(outcome.connection.status, 'active');
    seen.add(await token(api, T, 'gone'));
    h.clock.advance(-121_000);
  });

  it('reports a provider outage as “unreachable, try later”, not needs_reauth, and recovers when it is back', async () => {
    await connect(api, server, T, 'outage');
    const old = await token(api, T, 'outage');
    seen.add(old);

    await server.stop();
    try {
      // Within the skew but not expired: the old token still works, so the caller gets it.
      h.clock.advance(61_000);
      assert.equal(await token(api, T, 'outage'), old);
      // Expired: nothing usable.
      h.clock.advance(65_000);
      const r = await api.getOAuthToken({ tenantId: T, handle: 'outage', declaredHandles: ['outage'] });
      assert.deepEqual(r, {
        ok: false,
        errorCode: 'PROVIDER_UNAVAILABLE',
        error: 'Could not refresh the token of OAuth connection "outage": Acme CRM is unreachable (the provider refused the connection). Try again later.',
      });
      assert.equal((await api.getConnection({ tenantId: T, handle: 'outage' })).status, 'active');
    } finally {
      await server.restart();
    }
    // Within the back-off the failure is reported without calling the provider again.
    const hits = server.tokenHttpHits;
    const during = await api.getOAuthToken({ tenantId: T, handle: 'outage', declaredHandles: ['outage'] });
    assert.equal(!during.ok && during.errorCode, 'PROVIDER_UNAVAILABLE');
    assert.equal(server.tokenHttpHits, hits);

    h.clock.advance(6_000);
    const fresh = await token(api, T, 'outage');
    assert.notEqual(fresh, old);
    assert.equal((await server.introspect(fresh, client)).active, true);
    seen.add(fresh);

    // A 5XX is an outage too.
    h.clock.advance(121_000);
    server.failNextTokenRequests(1);
    const r503 = await api.getOAuthToken({ tenantId: T, handle: 'outage', declaredHandles: ['outage'] });
    assert.equal(!r503.ok && r503.errorCode, 'PROVIDER_UNAVAILABLE');
    assert.match(!r503.ok ? r503.error : '', /HTTP 503 \(temporarily_unavailable: maintenance\)/);
    assert.equal((await api.getConnection({ tenantId: T, handle: 'outage' })).status, 'active');
    h.clock.advance(6_000);
    seen.add(await token(api, T, 'outage'));
    h.clock.advance(-(61_000 + 65_000 + 6_000 + 121_000 + 6_000));
  });

  it('authorizes client-credentials connections at creation and renews their tokens', async () => {
    const before = server.tokenCalls.client_credentials ?? 0;
    const { connection, authorizeUrl } = await api.createConnection({ tenantId: T, handle: 'machine', provider: 'acme-machine' });
    assert.equal(authorizeUrl, '');
    assert.equal(connection.status, 'active');
    assert.deepEqual(connection.grantedScopes, ['reports.read']);
    const t1 = await token(api, T, 'machine');
    assert.equal((await server.introspect(t1, client)).active, true);
    h.clock.advance(61_000);
    const t2 = await token(api, T, 'machine');
    h.clock.advance(-61_000);
    assert.notEqual(t2, t1);
    assert.equal(server.tokenCalls.client_credentials, before + 2);
    seen.add(t1);
    seen.add(t2);
  });

  it('revokes at the provider’s RFC 7009 endpoint and marks the connection revoked', async () => {
    await connect(api, server, T, 'to-revoke');
    const t = await token(api, T, 'to-revoke');
    seen.add(t);
    const calls = server.revocationCalls;
    const conn = await api.revokeConnection({ tenantId: T, handle: 'to-revoke' });
    assert.equal(conn.status, 'revoked');
    assert.equal(conn.statusReason, 'revoked by a user');
    assert.equal(server.revocationCalls, calls + 2, 'refresh token and access token revoked');
    assert.equal((await server.introspect(t, client)).active, false);
    const r = await api.getOAuthToken({ tenantId: T, handle: 'to-revoke', declaredHandles: ['to-revoke'] });
    assert.equal(!r.ok && r.errorCode, 'REVOKED');
    assert.equal((await api.revokeConnection({ tenantId: T, handle: 'to-revoke' })).status, 'revoked', 'revoking twice is fine');
    assert.equal((await h.events()).filter((e) => e.event.$case === 'connectionRevoked' && e.aggregateId === `${T}/to-revoke`).length, 1);
  });

  it('marks a connection revoked even when its provider has no revocation endpoint', async () => {
    await connect(api, server, T, 'no-endpoint', 'acme-norevoke');
    seen.add(await token(api, T, 'no-endpoint'));
    const conn = await api.revokeConnection({ tenantId: T, handle: 'no-endpoint' });
    assert.equal(conn.status, 'revoked');
    assert.match(conn.statusReason, /has no revocation endpoint, the tokens were deleted here/);
  });

  it('gives a tenant only its own connections, and only the handles its action declares', async () => {
    await connect(api, server, T, 'shared-name');
    const theirs = await api.getOAuthToken({ tenantId: OTHER, handle: 'shared-name', declaredHandles: ['shared-name'] });
    assert.equal(!theirs.ok && theirs.errorCode, 'NOT_FOUND');
    assert.match(!theirs.ok ? theirs.error : '', /No OAuth connection named "shared-name" exists in this account/);
    assert.deepEqual(await api.listConnections(OTHER), []);
    await assert.rejects(api.getConnection({ tenantId: OTHER, handle: 'shared-name' }), { code: 'NOT_FOUND' });
    await assert.rejects(api.revokeConnection({ tenantId: OTHER, handle: 'shared-name' }), { code: 'NOT_FOUND' });

    const undeclared = await api.getOAuthToken({ tenantId: T, handle: 'shared-name', declaredHandles: ['something-else'] });
    assert.deepEqual(undeclared, { ok: false, errorCode: 'NOT_DECLARED', error: 'OAuth connection "shared-name" is not declared by this action. Add it to the action\'s connections to use it.' });
    const none = await api.getOAuthToken({ tenantId: T, handle: 'shared-name', declaredHandles: [] });
    assert.equal(!none.ok && none.errorCode, 'NOT_DECLARED');
    const unknown = await api.getOAuthToken({ tenantId: T, handle: 'nope', declaredHandles: ['nope'] });
    assert.equal(!unknown.ok && unknown.errorCode, 'NOT_FOUND');
    const noTenant = await api.getOAuthToken({ tenantId: '', handle: 'shared-name', declaredHandles: ['shared-name'] });
    assert.equal(!noTenant.ok && noTenant.errorCode, 'INVALID_ARGUMENT');
    seen.add(await token(api, T, 'shared-name'));
    assert.deepEqual((await api.listConnections(T)).map((c) => c.handle).includes('shared-name'), true);
  });

  it('keeps handles unique per tenant and in lowercase letters, digits and hyphens', async () => {
    for (const bad of ['My-Hubspot', 'my_hubspot', 'my hubspot', '-lead', '', 'a/b']) {
      await assert.rejects(api.createConnection({ tenantId: T, handle: bad, provider: 'acme' }), (e: unknown) => {
        assert.ok(e instanceof CodestepError);
        assert.equal(e.code, 'INVALID_ARGUMENT');
        assert.match(e.message, /use lowercase letters, digits and hyphens only/);
        return true;
      });
    }
    await api.createConnection({ tenantId: T, handle: 'unique-1', provider: 'acme' });
    await assert.rejects(api.createConnection({ tenantId: T, handle: 'unique-1', provider: 'acme' }), { code: 'ALREADY_EXISTS' });
    await api.createConnection({ tenantId: OTHER, handle: 'unique-1', provider: 'acme' });
    await assert.rejects(api.createConnection({ tenantId: T, handle: 'x', provider: 'nowhere' }), /unknown OAuth provider "nowhere": this platform offers acme, /);
  });

  it('stores tokens, verifiers and secrets only encrypted: no token reaches the store, the event log or the logs', async () => {
    await api.putSecret({ tenantId: T, name: 'SHOPIFY_KEY', value: 'shpat_secret_value_0042' });
    seen.add('shpat_secret_value_0042');
    assert.ok(seen.size >= 15, `the earlier tests collected tokens (${seen.size})`);
    const persisted = h.persistedBytes();
    assert.ok(persisted.length > 10_000, 'the store and event log files were read');
    const events = JSON.stringify(await h.events());
    const logs = h.logs.join('\n');
    assert.ok(logs.includes('token refreshed') && logs.includes('connection authorized'), 'the logs were captured');
    for (const secret of seen) {
      assert.ok(secret.length >= 20);
      assert.equal(persisted.includes(secret), false, 'a token or secret is in a persisted file');
      assert.equal(events.includes(secret), false, 'a token or secret is in an event');
      assert.equal(logs.includes(secret), false, 'a token or secret is in the logs');
    }
    assert.equal((await api.resolveSecrets({ tenantId: T, names: ['SHOPIFY_KEY'] })).values.SHOPIFY_KEY, 'shpat_secret_value_0042');
  });

  it('turns an expired access token into a new one after the provider really expired it', async () => {
    const shortServer = await startOAuthTestServer({ clients: [client], scopes: ['contacts.read', 'contacts.write', 'reports.read'], accessTokenTtlSeconds: 3 });
    const sh = await brokerHarness(providersFor(shortServer), { refreshSkewMs: 0 });
    try {
      await connect(sh.service.api, shortServer, T, 'short', 'acme', ['contacts.read']);
      const t1 = await token(sh.service.api, T, 'short');
      assert.equal((await shortServer.introspect(t1, client)).active, true);
      // 3 s of life: the new token is still alive when introspected on a loaded machine (1 s was not, once).
      await sleep(3_300);
      assert.equal((await shortServer.introspect(t1, client)).active, false, 'the provider expired the first token');
      const t2 = await token(sh.service.api, T, 'short');
      assert.notEqual(t2, t1);
      assert.equal((await shortServer.introspect(t2, client)).active, true);
      assert.equal(shortServer.tokenCalls.refresh_token, 1);
    } finally {
      await sh.close();
      await shortServer.close();
    }
  });
});
