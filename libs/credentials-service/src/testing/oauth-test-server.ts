/**
 * A real OAuth 2.0 authorization server for tests: oidc-provider configured for plain OAuth
 * (authorization code + PKCE, refresh tokens with rotation, client credentials, RFC 7009
 * revocation, introspection, opaque access tokens with a short TTL for one resource server).
 *
 * The user step is driven programmatically: `authorize(url)` follows the redirects with a
 * cookie jar, and the interaction endpoint logs the user in and grants (or denies) what the
 * client asked, through oidc-provider's own `interactionDetails`/`interactionFinished`.
 * It counts token-endpoint calls per grant type, can answer 503 on demand, and can be stopped
 * and restarted on the same port to play a provider outage.
 */
/// <reference path="./oidc-provider.d.ts" />
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Provider from 'oidc-provider';

export const RESOURCE_SERVER = 'https://api.example.test';

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  grantTypes?: string[];
  /** Space-separated scopes the client may ask. */
  scope: string;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** @default true */
  pkceRequired?: boolean;
}

export interface OAuthTestServerOptions {
  clients: TestClient[];
  scopes: string[];
  /** @default 60 */
  accessTokenTtlSeconds?: number;
}

export interface OAuthTestServer {
  issuer: string;
  authorizeUrl: string;
  tokenUrl: string;
  revocationUrl: string;
  /** Token-endpoint requests, by grant type (counted whatever the outcome). */
  tokenCalls: Record<string, number>;
  /** Token-endpoint HTTP requests of any kind, including answered-503 ones. */
  tokenHttpHits: number;
  revocationCalls: number;
  /** Delays every token response, ms: widens the window in which concurrent callers pile up. */
  tokenDelayMs: number;
  /** The next n token requests get HTTP 503. */
  failNextTokenRequests(n: number): void;
  /** Follows an authorize URL as a user who logs in and approves (or denies); returns the final redirect to the client. */
  authorize(url: string, decision?: 'approve' | 'deny'): Promise<URL>;
  introspect(token: string, client: TestClient): Promise<{ active: boolean; scope?: string; client_id?: string }>;
  /** Closes the listener and every open connection: clients get ECONNREFUSED. */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same state. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startOAuthTestServer(options: OAuthTestServerOptions): Promise<OAuthTestServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const ttl = options.accessTokenTtlSeconds ?? 60;
  const allScopes = options.scopes.join(' ');

  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: c.grantTypes ?? ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      scope: c.scope,
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
    })),
    scopes: options.scopes,
    // Our own key, so oidc-provider does not fall back to (and warn about) its development keys.
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test' }] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE_SERVER,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({ scope: allScopes, accessTokenFormat: 'opaque', accessTokenTTL: ttl }),
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async () => true,
    // Every refresh returns a new refresh token and retires the old one; reusing a retired one
    // revokes the whole grant (oidc-provider's reuse detection).
    rotateRefreshToken: true,
    pkce: { required: (_ctx: unknown, c: { clientId: string }) => options.clients.find((x) => x.clientId === c.clientId)?.pkceRequired ?? true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 3600, AuthorizationCode: 60, AccessToken: ttl, ClientCredentials: ttl },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
  });

  const state: Pick<OAuthTestServer, 'tokenCalls' | 'tokenHttpHits' | 'revocationCalls' | 'tokenDelayMs'> & { failNext: number; decision: 'approve' | 'deny' } = {
    tokenCalls: {},
    tokenHttpHits: 0,
    revocationCalls: 0,
    tokenDelayMs: 0,
    failNext: 0,
    decision: 'approve',
  };
  const count = (ctx: { oidc: { params?: Record<string, unknown> } }) => {
    const grant = String(ctx.oidc.params?.grant_type ?? 'unknown');
    state.tokenCalls[grant] = (state.tokenCalls[grant] ?? 0) + 1;
  };
  provider.on('grant.success', count);
  provider.on('grant.error', count);
  const handle = provider.callback();

  const interaction = async (req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    if (state.decision === 'deny') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user declined to grant access' }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: 'user-1' } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId: details.session?.accountId ?? 'user-1', clientId: String(details.params.client_id) });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };

  server.on('request', (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/interaction/')) {
      interaction(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    if (path === '/token') {
      state.tokenHttpHits++;
      const fail = state.failNext > 0;
      if (fail) state.failNext--;
      const answer = () => {
        if (fail) res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'maintenance' }));
        else handle(req, res);
      };
      if (state.tokenDelayMs > 0) sleep(state.tokenDelayMs).then(answer, () => {});
      else answer();
      return;
    }
    if (path === '/token/revocation') state.revocationCalls++;
    handle(req, res);
  });

  const basic = (c: TestClient) => `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;

  return {
    issuer,
    authorizeUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    get tokenCalls() {
      return state.tokenCalls;
    },
    get tokenHttpHits() {
      return state.tokenHttpHits;
    },
    get revocationCalls() {
      return state.revocationCalls;
    },
    get tokenDelayMs() {
      return state.tokenDelayMs;
    },
    set tokenDelayMs(ms: number) {
      state.tokenDelayMs = ms;
    },
    failNextTokenRequests(n) {
      state.failNext = n;
    },
    async authorize(url, decision = 'approve') {
      state.decision = decision;
      const jar = new Map<string, string>();
      let current = new URL(url);
      for (let hop = 0; hop < 20; hop++) {
        if (!current.href.startsWith(issuer)) return current;
        const res = await fetch(current, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
        for (const cookie of res.headers.getSetCookie()) {
          const [pair = ''] = cookie.split(';');
          const i = pair.indexOf('=');
          jar.set(pair.slice(0, i), pair.slice(i + 1));
        }
        const location = res.headers.get('location');
        if (!location) throw new Error(`authorization stopped at ${current.pathname} with HTTP ${res.status}: ${/<pre>([\s\S]*?)<\/pre>/.exec(await res.text())?.[1] ?? ''}`);
        current = new URL(location, current);
      }
      throw new Error('too many redirects');
    },
    async introspect(token, client) {
      const res = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      return (await res.json()) as { active: boolean; scope?: string; client_id?: string };
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    async restart() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
