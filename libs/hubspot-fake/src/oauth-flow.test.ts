/**
 * The OAuth v1 code flow with plain fetch, as the OAuth broker will drive it: install URL,
 * redirect with a code, token exchange, CRM calls with the access token, expiry, refresh,
 * token metadata and revocation, and the token endpoint's error bodies.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Client } from '@hubspot/api-client';
import { startHubSpotFake, type HubSpotFake } from './index.ts';

const CLIENT_ID = 'b9a3f2c4-5d6e-4f70-8a91-b2c3d4e5f607';
const CLIENT_SECRET = 'c0ffee00-1234-4abc-9def-0123456789ab';
const REDIRECT_URI = 'http://localhost:3000/oauth/callback';

interface TokenBody {
  token_type: string;
  refresh_token: string;
  access_token: string;
  expires_in: number;
}

void describe('OAuth v1 against the fake', () => {
  let fake: HubSpotFake;
  let now = Date.now();

  before(async () => {
    fake = await startHubSpotFake({
      portalId: 62515,
      oauthClients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
      oauthConsent: { decision: 'approve', portalId: 881234, userEmail: 'admin@acme.test', userId: 31337 },
      // A test clock, moved forward by hand, so expiry needs no waiting.
      clock: () => now,
      rateLimitPerSecond: 0,
    });
  });
  beforeEach(() => {
    now = Date.now();
    fake.setOAuthConsent({ decision: 'approve', portalId: 881234, userEmail: 'admin@acme.test', userId: 31337 });
  });
  after(() => fake.close());

  function installUrl(params: Record<string, string>): string {
    const url = new URL('/oauth/authorize', fake.url);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  }

  async function authorize(params: Record<string, string> = {}): Promise<URL> {
    const response = await fetch(installUrl({ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'crm.objects.contacts.read crm.objects.contacts.write', state: 'xyz-123', ...params }), {
      redirect: 'manual',
    });
    assert.equal(response.status, 302);
    return new URL(response.headers.get('location') ?? '');
  }

  async function postToken(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${fake.url}/oauth/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function exchange(code: string): Promise<TokenBody> {
    const { status, body } = await postToken({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code,
    });
    assert.equal(status, 200);
    return body as unknown as TokenBody;
  }

  void test('the full code flow yields tokens that work on the CRM, and refresh keeps working after expiry', async () => {
    const callback = await authorize({ optional_scope: 'crm.objects.deals.read' });
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
    assert.equal(callback.searchParams.get('state'), 'xyz-123');
    const code = callback.searchParams.get('code');
    assert.ok(code);

    const tokens = await exchange(code);
    assert.deepEqual(Object.keys(tokens), ['token_type', 'refresh_token', 'access_token', 'expires_in']);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.expires_in, 1800);

    const created = await fetch(`${fake.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${tokens.access_token}` },
      body: JSON.stringify({ properties: { email: 'shopify@customer.test', firstname: 'Shop', lastname: 'Ify' } }),
    });
    assert.equal(created.status, 201);
    const contact = (await created.json()) as { id: string };
    assert.equal(fake.get('contacts', contact.id, { portalId: 881234 })?.properties['email'], 'shopify@customer.test', 'installed into the consenting portal');

    const info = await fetch(`${fake.url}/oauth/v1/access-tokens/${tokens.access_token}`);
    assert.equal(info.status, 200);
    const meta = (await info.json()) as Record<string, unknown>;
    assert.equal(meta['hub_id'], 881234);
    assert.equal(meta['user'], 'admin@acme.test');
    assert.equal(meta['user_id'], 31337);
    assert.equal(meta['app_id'], 8000001);
    assert.equal(meta['token_type'], 'access');
    assert.equal(meta['expires_in'], 1800);
    assert.deepEqual(meta['scopes'], ['crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.deals.read']);

    now += 1801 * 1000;
    const expired = await fetch(`${fake.url}/crm/v3/objects/contacts/${contact.id}`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(expired.status, 401);
    const expiredBody = (await expired.json()) as Record<string, unknown>;
    assert.equal(expiredBody['category'], 'EXPIRED_AUTHENTICATION');
    assert.equal(expiredBody['message'], 'The OAuth token used to make this call expired 1 second(s) ago.');

    const refreshed = await postToken({ grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: tokens.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body['refresh_token'], tokens.refresh_token, 'HubSpot v1 hands back the same refresh token');
    assert.notEqual(refreshed.body['access_token'], tokens.access_token);
    const again = await fetch(`${fake.url}/crm/v3/objects/contacts/${contact.id}?properties=email`, {
      headers: { Authorization: `Bearer ${String(refreshed.body['access_token'])}` },
    });
    assert.equal(again.status, 200);
  });

  void test('an authorization code works once: the second exchange is BAD_AUTH_CODE', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    await exchange(code);
    const reused = await postToken({ grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: REDIRECT_URI, code });
    assert.equal(reused.status, 400);
    assert.equal(reused.body['status'], 'BAD_AUTH_CODE');
    assert.equal(typeof reused.body['message'], 'string');
  });

  void test('the token endpoint names the first thing wrong, client id first', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    const cases: Array<[Record<string, string>, string]> = [
      [{ grant_type: 'authorization_code', client_id: 'nope', client_secret: 'nope', code }, 'BAD_CLIENT_ID'],
      [{ grant_type: 'password', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, 'BAD_GRANT_TYPE'],
      [{ grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: 'wrong', redirect_uri: REDIRECT_URI, code }, 'BAD_CLIENT_SECRET'],
      [{ grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: 'na1-unknown' }, 'BAD_REFRESH_TOKEN'],
      [{ grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: 'http://localhost:3000/other', code }, 'BAD_REDIRECT_URI'],
    ];
    for (const [form, expected] of cases) {
      const { status, body } = await postToken(form);
      assert.equal(status, 400, expected);
      assert.equal(body['status'], expected);
    }
    const { body } = await postToken(cases[0]?.[0] ?? {});
    assert.equal(body['message'], 'missing or unknown client id');
  });

  void test('a JSON body on the token endpoint is refused with 415', async () => {
    const response = await fetch(`${fake.url}/oauth/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', client_id: CLIENT_ID }),
    });
    assert.equal(response.status, 415);
  });

  void test('a denied install redirects back with error=access_denied and the state', async () => {
    fake.setOAuthConsent({ decision: 'deny' });
    const callback = await authorize();
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), 'xyz-123');
    assert.equal(callback.searchParams.get('code'), null);
  });

  void test('an unregistered redirect URI or client gets an error page, never a redirect', async () => {
    const badRedirect = await fetch(installUrl({ client_id: CLIENT_ID, redirect_uri: 'https://evil.test/cb', scope: 'oauth' }), { redirect: 'manual' });
    assert.equal(badRedirect.status, 400);
    assert.equal(badRedirect.headers.get('location'), null);
    assert.match(await badRedirect.text(), /redirect_uri/);
    const badClient = await fetch(installUrl({ client_id: 'unknown', redirect_uri: REDIRECT_URI, scope: 'oauth' }), { redirect: 'manual' });
    assert.equal(badClient.status, 400);
    await badClient.arrayBuffer();
  });

  void test('a revoked refresh token no longer refreshes, while its access token keeps working', async () => {
    const tokens = await exchange((await authorize()).searchParams.get('code') ?? '');
    const revoked = await fetch(`${fake.url}/oauth/v1/refresh-tokens/${tokens.refresh_token}`, { method: 'DELETE' });
    assert.equal(revoked.status, 204);
    const refresh = await postToken({ grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: tokens.refresh_token });
    assert.equal(refresh.body['status'], 'BAD_REFRESH_TOKEN');
    const read = await fetch(`${fake.url}/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(read.status, 200);
  });

  void test('scopes granted at install are enforced on CRM calls', async () => {
    const tokens = await exchange((await authorize({ scope: 'crm.objects.contacts.read' })).searchParams.get('code') ?? '');
    const contacts = await fetch(`${fake.url}/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(contacts.status, 200);
    const deals = await fetch(`${fake.url}/crm/v3/objects/deals`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(deals.status, 403);
    assert.equal(((await deals.json()) as Record<string, unknown>)['category'], 'MISSING_SCOPES');
  });

  void test('the api-client’s own OAuth APIs exchange a code and read token metadata', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    const client = new Client({ basePath: fake.url });
    const tokens = await client.oauth.tokensApi.create('authorization_code', code, REDIRECT_URI, CLIENT_ID, CLIENT_SECRET);
    assert.equal(tokens.tokenType, 'bearer');
    assert.equal(tokens.expiresIn, 1800);
    const info = await client.oauth.accessTokensApi.get(tokens.accessToken);
    assert.equal(info.hubId, 881234);
    assert.equal(info.user, 'admin@acme.test');
    const refreshInfo = await client.oauth.refreshTokensApi.get(tokens.refreshToken);
    assert.equal(refreshInfo.clientId, CLIENT_ID);
    const withToken = new Client({ accessToken: tokens.accessToken, basePath: fake.url });
    const page = await withToken.crm.contacts.basicApi.getPage(1);
    assert.ok(Array.isArray(page.results));
  });
});
