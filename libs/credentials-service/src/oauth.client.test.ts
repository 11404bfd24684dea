/**
 * How the OAuth client reads token-endpoint answers, against a small real HTTP server that
 * answers what each test scripts.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hubspotPreset } from './hubspot.preset.ts';
import { OAuthClient, buildAuthorizeUrl, createPkce, pkceChallenge, redact } from './oauth.client.ts';
import { genericOAuth2Provider } from './providers.ts';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  form: URLSearchParams;
}

describe('OAuth client', () => {
  let server: Server;
  let base = '';
  let answer: { status: number; body: string; type?: string } = { status: 200, body: '{}' };
  const seen: Seen[] = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, form: new URLSearchParams(body) });
        res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const generic = () =>
    genericOAuth2Provider({ id: 'acme', authorizeUrl: `${base}/authorize?prompt=consent`, tokenUrl: `${base}/token`, revocationUrl: `${base}/revoke`, clientId: 'cli:ent', clientSecret: 'se cret' });
  const oauth = new OAuthClient({ timeoutMs: 2_000 });

  it('builds an authorize URL with state, scopes and an S256 challenge, keeping the URL’s own parameters', () => {
    const pkce = createPkce();
    assert.equal(pkce.challenge, pkceChallenge(pkce.verifier));
    assert.match(pkce.verifier, /^[A-Za-z0-9_-]{43}$/);
    const url = new URL(buildAuthorizeUrl(generic(), { redirectUri: 'https://cs.example/oauth/callback', scopes: ['a', 'b'], state: 's1', codeChallenge: pkce.challenge }));
    assert.equal(url.searchParams.get('prompt'), 'consent');
    assert.equal(url.searchParams.get('scope'), 'a b');
    assert.equal(url.searchParams.get('state'), 's1');
    assert.equal(url.searchParams.get('code_challenge'), pkce.challenge);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  });

  it('authenticates with HTTP Basic (form-urlencoded parts) or in the form body, as configured', async () => {
    answer = { status: 200, body: JSON.stringify({ access_token: 'at-1', token_type: 'Bearer', expires_in: 1800, refresh_token: 'rt-1', scope: 'a b' }) };
    const r = await oauth.refresh(generic(), 'rt-0');
    assert.deepEqual(r, { ok: true, tokens: { accessToken: 'at-1', refreshToken: 'rt-1', expiresIn: 1800, scopes: ['a', 'b'] } });
    const basic = seen.at(-1);
    assert.equal(basic?.authorization, `Basic ${Buffer.from('cli%3Aent:se%20cret').toString('base64')}`);
    assert.equal(basic?.form.get('grant_type'), 'refresh_token');
    assert.equal(basic?.form.get('refresh_token'), 'rt-0');
    assert.equal(basic?.form.has('client_secret'), false);

    await oauth.refresh(hubspotPreset({ clientId: 'hs-app', clientSecret: 'hs-secret', tokenUrl: `${base}/oauth/v1/token` }), 'rt-0');
    const post = seen.at(-1);
    assert.equal(post?.url, '/oauth/v1/token');
    assert.equal(post?.authorization, undefined);
    assert.equal(post?.form.get('client_id'), 'hs-app');
    assert.equal(post?.form.get('client_secret'), 'hs-secret');
  });

  it('reads a refusal (4XX with an OAuth error) as rejected, with the provider’s words', async () => {
    answer = { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'refresh token rt-0 was revoked' }) };
    assert.deepEqual(await oauth.refresh(generic(), 'rt-0'), { ok: false, kind: 'rejected', status: 400, error: 'invalid_grant', description: 'refresh token [redacted] was revoked' });
    answer = { status: 400, body: JSON.stringify({ status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token', correlationId: 'x' }) };
    assert.deepEqual(await oauth.refresh(generic(), 'rt-0'), { ok: false, kind: 'rejected', status: 400, error: 'BAD_REFRESH_TOKEN', description: 'missing or unknown refresh token' });
    answer = { status: 200, body: 'error=bad_verification_code&error_description=The+code+is+incorrect', type: 'application/x-www-form-urlencoded' };
    assert.deepEqual(await oauth.exchangeCode(generic(), { code: 'c', redirectUri: 'https://x' }), {
      ok: false,
      kind: 'rejected',
      status: 200,
      error: 'bad_verification_code',
      description: 'The code is incorrect',
    });
  });

  it('reads 5XX, 429, garbage and refused connections as unavailable', async () => {
    answer = { status: 502, body: '<html>bad gateway</html>', type: 'text/html' };
    assert.deepEqual(await oauth.refresh(generic(), 'rt-0'), { ok: false, kind: 'unavailable', status: 502, description: 'the provider answered HTTP 502' });
    answer = { status: 429, body: JSON.stringify({ error: 'slow_down' }) };
    assert.deepEqual(await oauth.refresh(generic(), 'rt-0'), { ok: false, kind: 'unavailable', status: 429, description: 'the provider answered HTTP 429 (slow_down)' });
    answer = { status: 200, body: 'not json' };
    assert.deepEqual(await oauth.refresh(generic(), 'rt-0'), { ok: false, kind: 'unavailable', status: 200, description: 'the provider answered without an access token' });
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = (gone.address() as AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));
    const closed = genericOAuth2Provider({ id: 'down', authorizeUrl: `http://127.0.0.1:${port}/a`, tokenUrl: `http://127.0.0.1:${port}/token`, clientId: 'a', clientSecret: 'b' });
    assert.deepEqual(await oauth.refresh(closed, 'rt-0'), { ok: false, kind: 'unavailable', description: 'the provider refused the connection' });
  });

  it('refuses token types other than bearer', async () => {
    answer = { status: 200, body: JSON.stringify({ access_token: 'x', token_type: 'mac' }) };
    const r = await oauth.clientCredentials(generic(), ['a']);
    assert.equal(r.ok === false && r.kind === 'rejected' && r.error, 'unsupported_token_type');
    assert.equal(seen.at(-1)?.form.get('scope'), 'a');
  });

  it('revokes through RFC 7009 or HubSpot’s DELETE, and reports failures without the token', async () => {
    answer = { status: 200, body: '' };
    assert.deepEqual(await oauth.revoke(generic(), 'rt-9', 'refresh_token'), { ok: true });
    assert.equal(seen.at(-1)?.url, '/revoke');
    assert.equal(seen.at(-1)?.form.get('token'), 'rt-9');
    assert.equal(seen.at(-1)?.form.get('token_type_hint'), 'refresh_token');
    answer = { status: 204, body: '' };
    const hs = hubspotPreset({ clientId: 'a', clientSecret: 'b', refreshTokenRevocationUrl: `${base}/oauth/v1/refresh-tokens` });
    assert.deepEqual(await oauth.revoke(hs, 'na1-rt', 'refresh_token'), { ok: true });
    assert.equal(seen.at(-1)?.method, 'DELETE');
    assert.equal(seen.at(-1)?.url, '/oauth/v1/refresh-tokens/na1-rt');
    answer = { status: 400, body: 'unknown token na1-rt' };
    assert.deepEqual(await oauth.revoke(hs, 'na1-rt', 'refresh_token'), { ok: false, description: 'HTTP 400 unknown token [redacted]' });
  });

  it('redacts every secret it sent and caps provider text', () => {
    assert.equal(redact('a abcd b abcd', ['abcd']), 'a [redacted] b [redacted]');
    assert.equal(redact('x'.repeat(400), []).length, 301);
  });
});
