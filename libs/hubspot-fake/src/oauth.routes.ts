/**
 * HubSpot's OAuth v1: the install page (`/oauth/authorize`, hosted on app.hubspot.com for real,
 * here on the same server and approved or denied without a human), the token endpoint
 * (authorization_code and refresh_token grants, form-encoded), token metadata and refresh
 * token revocation.
 */
import { isForm, type FakeContext, type FakeRequest } from './fake-context.ts';
import { crmError, oauthError, resourceNotFound, type FakeResponse } from './hubspot-errors.ts';
import { DEFAULT_USER_EMAIL, DEFAULT_USER_ID, type OAuthClientConfig } from './hubspot-fake.options.ts';
import { ALL_SCOPES } from './object-types.ts';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** HubSpot shows an error page (no redirect) when the client or redirect URI is wrong. */
function errorPage(message: string): FakeResponse {
  return { status: 400, html: `<!doctype html><title>HubSpot fake: authorization error</title><h1>Authorization error</h1><p>${escapeHtml(message)}</p>` };
}

function client(ctx: FakeContext, clientId: string | null | undefined): Required<OAuthClientConfig> | undefined {
  return clientId ? ctx.options.oauthClients.find((c) => c.clientId === clientId) : undefined;
}

/** Scopes arrive space-separated (`+` or `%20` once URL-encoded). */
function scopeList(value: string | null): string[] {
  return (value ?? '').split(/[\s,]+/).filter((s) => s !== '');
}

function redirect(to: URL): FakeResponse {
  return { status: 302, headers: { Location: to.toString() } };
}

/** `GET /oauth/authorize?client_id&redirect_uri&scope&optional_scope&state`. */
export function authorize(ctx: FakeContext, req: FakeRequest): FakeResponse {
  const app = client(ctx, req.query.get('client_id'));
  if (!app) return errorPage(`Unknown client_id ${req.query.get('client_id') ?? '(missing)'}.`);
  const redirectUri = req.query.get('redirect_uri') ?? '';
  if (!app.redirectUris.includes(redirectUri)) {
    return errorPage(`The redirect_uri ${redirectUri || '(missing)'} does not match a redirect URL of app ${app.clientId}.`);
  }
  const scopes = scopeList(req.query.get('scope'));
  if (scopes.length === 0) return errorPage('The install URL requests no scope.');
  const state = req.query.get('state');
  const target = new URL(redirectUri);
  const consent = ctx.consent;
  if (consent.decision === 'deny') {
    target.searchParams.set('error', 'access_denied');
    if (state !== null) target.searchParams.set('state', state);
    return redirect(target);
  }
  const optional = consent.grantOptionalScopes === false ? [] : scopeList(req.query.get('optional_scope') ?? req.query.get('optional_scopes'));
  const code = ctx.tokens.createCode({
    clientId: app.clientId,
    redirectUri,
    portalId: consent.portalId ?? ctx.options.portalId,
    scopes: [...new Set([...scopes, ...optional])],
    userEmail: consent.userEmail ?? DEFAULT_USER_EMAIL,
    userId: consent.userId ?? DEFAULT_USER_ID,
  });
  target.searchParams.set('code', code.code);
  if (state !== null) target.searchParams.set('state', state);
  return redirect(target);
}

/** `POST /oauth/v1/token` (form-encoded). HubSpot checks the client id before anything else. */
export function token(ctx: FakeContext, req: FakeRequest): FakeResponse {
  if (!isForm(req.headers)) {
    return crmError(415, req.correlationId, { message: 'HTTP 415 Unsupported Media Type' });
  }
  const form = new URLSearchParams(req.rawBody.toString('utf8'));
  const app = client(ctx, form.get('client_id'));
  if (!app) return oauthError('BAD_CLIENT_ID', req.correlationId);
  const grantType = form.get('grant_type');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return oauthError('BAD_GRANT_TYPE', req.correlationId);
  if (form.get('client_secret') !== app.clientSecret) return oauthError('BAD_CLIENT_SECRET', req.correlationId);

  if (grantType === 'authorization_code') {
    const code = ctx.tokens.redeemCode(form.get('code') ?? '');
    if (!code || code.clientId !== app.clientId) return oauthError('BAD_AUTH_CODE', req.correlationId);
    if (form.get('redirect_uri') !== code.redirectUri) return oauthError('BAD_REDIRECT_URI', req.correlationId);
    const refresh = ctx.tokens.issueRefreshToken({
      clientId: app.clientId,
      appId: app.appId,
      portalId: code.portalId,
      scopes: code.scopes,
      userEmail: code.userEmail,
      userId: code.userId,
    });
    return tokenResponse(ctx, refresh.token, { ...refresh });
  }

  const refresh = ctx.tokens.refreshToken(form.get('refresh_token') ?? '');
  if (!refresh || refresh.clientId !== app.clientId) return oauthError('BAD_REFRESH_TOKEN', req.correlationId);
  return tokenResponse(ctx, refresh.token, { ...refresh });
}

function tokenResponse(
  ctx: FakeContext,
  refreshToken: string,
  grant: { clientId: string; appId: number; portalId: number; scopes: readonly string[]; userEmail: string; userId: number },
): FakeResponse {
  const ttlSeconds = ctx.options.accessTokenTtlSeconds;
  const access = ctx.tokens.issueAccessToken({ ...grant, ttlSeconds });
  // Key order as HubSpot's v1 endpoint writes it.
  return { status: 200, body: { token_type: 'bearer', refresh_token: refreshToken, access_token: access.token, expires_in: ttlSeconds } };
}

function hubDomain(portalId: number): string {
  return `hub-${portalId}.example.com`;
}

/** `GET /oauth/v1/access-tokens/{token}`: metadata of an access token (no auth needed). */
export function accessTokenInfo(ctx: FakeContext, req: FakeRequest, tokenValue: string): FakeResponse {
  const record = ctx.tokens.accessToken(tokenValue);
  const now = ctx.options.clock();
  if (!record || (record.expiresAt !== undefined && record.expiresAt <= now)) return resourceNotFound(req.correlationId);
  const body: Record<string, unknown> = {
    token: record.token,
    user: record.userEmail,
    hub_domain: hubDomain(record.portalId),
    scopes: record.scopes ?? ALL_SCOPES,
    hub_id: record.portalId,
    app_id: record.appId,
  };
  if (record.expiresAt !== undefined) body['expires_in'] = Math.floor((record.expiresAt - now) / 1000);
  body['user_id'] = record.userId;
  body['token_type'] = 'access';
  return { status: 200, body };
}

/** `GET /oauth/v1/refresh-tokens/{token}`. */
export function refreshTokenInfo(ctx: FakeContext, req: FakeRequest, tokenValue: string): FakeResponse {
  const record = ctx.tokens.refreshToken(tokenValue);
  if (!record) return resourceNotFound(req.correlationId);
  return {
    status: 200,
    body: {
      token: record.token,
      user: record.userEmail,
      hub_domain: hubDomain(record.portalId),
      scopes: record.scopes,
      hub_id: record.portalId,
      client_id: record.clientId,
      user_id: record.userId,
      token_type: 'refresh',
    },
  };
}

/** `DELETE /oauth/v1/refresh-tokens/{token}`: 204; access tokens already minted keep working. */
export function revokeRefreshToken(ctx: FakeContext, req: FakeRequest, tokenValue: string): FakeResponse {
  return ctx.tokens.revokeRefreshToken(tokenValue) ? { status: 204 } : oauthError('BAD_REFRESH_TOKEN', req.correlationId);
}

/** Routes every path under `/oauth/`. */
export function handleOAuth(ctx: FakeContext, req: FakeRequest): FakeResponse {
  const [, second, third, fourth, ...rest] = req.segments;
  if (second === 'authorize' && third === undefined && req.method === 'GET') return authorize(ctx, req);
  if (second !== 'v1' || rest.length > 0) return resourceNotFound(req.correlationId);
  if (third === 'token' && fourth === undefined && req.method === 'POST') return token(ctx, req);
  if (third === 'access-tokens' && fourth && req.method === 'GET') return accessTokenInfo(ctx, req, fourth);
  if (third === 'refresh-tokens' && fourth && req.method === 'GET') return refreshTokenInfo(ctx, req, fourth);
  if (third === 'refresh-tokens' && fourth && req.method === 'DELETE') return revokeRefreshToken(ctx, req, fourth);
  return resourceNotFound(req.correlationId);
}
