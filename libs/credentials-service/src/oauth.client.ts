/**
 * The HTTP side of OAuth 2.0 (RFC 6749, 7636, 7009): authorize URLs, the token endpoint for
 * the three grants we use, and revocation. Every outcome is a value, never a throw, so the
 * service decides what a failure means (needs re-authorization vs. try later). Provider text
 * that reaches a result has the secrets we sent redacted from it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { tracedFetch } from '@codestep/telemetry';
import type { OAuthProvider } from './providers.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TokenSet {
  accessToken: string;
  /** Absent when the provider issued none (client credentials) or kept the old one. */
  refreshToken?: string;
  /** Seconds, as the provider said; absent when it did not say. */
  expiresIn?: number;
  /** What the provider granted; absent when it did not say (then: what was asked). */
  scopes?: string[];
}

export type TokenResult =
  | { ok: true; tokens: TokenSet }
  /** The provider answered and refused (4XX with an OAuth error): retrying will not help. */
  | { ok: false; kind: 'rejected'; status: number; error: string; description: string }
  /** No usable answer (refused connection, timeout, 5XX, 429, garbage): try later. */
  | { ok: false; kind: 'unavailable'; status?: number; description: string };

export type RevokeResult = { ok: true } | { ok: false; description: string };

export interface OAuthClientOptions {
  fetch?: FetchLike;
  /** Per request, ms. @default 10000 */
  timeoutMs?: number;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A PKCE pair: 32 random bytes as the verifier (43 characters), S256 challenge. */
export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export interface AuthorizeParams {
  redirectUri: string;
  scopes: readonly string[];
  state: string;
  codeChallenge?: string;
}

export function buildAuthorizeUrl(provider: OAuthProvider, params: AuthorizeParams): string {
  const url = new URL(provider.authorizeUrl);
  const q = url.searchParams;
  for (const [k, v] of Object.entries(provider.extraAuthorizeParams)) q.set(k, v);
  q.set('response_type', 'code');
  q.set('client_id', provider.clientId);
  q.set('redirect_uri', params.redirectUri);
  if (params.scopes.length) q.set('scope', params.scopes.join(' '));
  q.set('state', params.state);
  if (params.codeChallenge) {
    q.set('code_challenge', params.codeChallenge);
    q.set('code_challenge_method', 'S256');
  }
  return url.toString();
}

export class OAuthClient {
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(options: OAuthClientOptions = {}) {
    // Token, revocation and token-info calls are outbound HTTP spans of the broker's trace.
    this.#fetch = options.fetch ?? tracedFetch();
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  exchangeCode(provider: OAuthProvider, input: { code: string; redirectUri: string; codeVerifier?: string }): Promise<TokenResult> {
    const form: Record<string, string> = { grant_type: 'authorization_code', code: input.code, redirect_uri: input.redirectUri };
    if (input.codeVerifier) form.code_verifier = input.codeVerifier;
    return this.#token(provider, form, [input.code, input.codeVerifier ?? '']);
  }

  refresh(provider: OAuthProvider, refreshToken: string): Promise<TokenResult> {
    return this.#token(provider, { grant_type: 'refresh_token', refresh_token: refreshToken }, [refreshToken]);
  }

  clientCredentials(provider: OAuthProvider, scopes: readonly string[]): Promise<TokenResult> {
    const form: Record<string, string> = { grant_type: 'client_credentials' };
    if (scopes.length) form.scope = scopes.join(' ');
    return this.#token(provider, form, []);
  }

  /**
   * The provider account an access token acts for (HubSpot's `hub_id`), from the provider's
   * token metadata; undefined when the provider has no such endpoint or did not say.
   */
  async accountOf(provider: OAuthProvider, accessToken: string): Promise<{ ok: true; accountId: string | undefined } | { ok: false; description: string }> {
    if (!provider.accessTokenInfoUrl) return { ok: true, accountId: undefined };
    try {
      const res = await this.#fetch(`${provider.accessTokenInfoUrl.replace(/\/+$/, '')}/${encodeURIComponent(accessToken)}`, {
        method: 'GET',
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const body = parseBody(await res.text());
      if (!res.ok) return { ok: false, description: redact(`the token metadata answered HTTP ${res.status}${describeError(body)}`, [accessToken, provider.clientSecret]) };
      const id = body?.hub_id;
      return { ok: true, accountId: typeof id === 'number' || (typeof id === 'string' && /^\d+$/.test(id)) ? String(id) : undefined };
    } catch (error) {
      return { ok: false, description: networkReason(error) };
    }
  }

  /** Revokes `token` at the provider's revocation endpoint (the caller checks there is one). */
  async revoke(provider: OAuthProvider, token: string, hint: 'refresh_token' | 'access_token'): Promise<RevokeResult> {
    const endpoint = provider.revocation;
    if (!endpoint) return { ok: false, description: 'the provider has no revocation endpoint' };
    const secrets = [token, provider.clientSecret];
    try {
      let res: Response;
      if (endpoint.style === 'hubspot') {
        res = await this.#fetch(`${endpoint.url.replace(/\/+$/, '')}/${encodeURIComponent(token)}`, { method: 'DELETE', signal: AbortSignal.timeout(this.#timeoutMs) });
      } else {
        res = await this.#post(provider, endpoint.url, { token, token_type_hint: hint });
      }
      // RFC 7009 §2.2: 200 also for tokens that were already invalid. HubSpot answers 204.
      if (res.ok) return { ok: true };
      const body = await res.text().catch(() => '');
      return { ok: false, description: redact(`HTTP ${res.status} ${body}`.trim(), secrets) };
    } catch (error) {
      return { ok: false, description: networkReason(error) };
    }
  }

  async #token(provider: OAuthProvider, form: Record<string, string>, sent: string[]): Promise<TokenResult> {
    const secrets = [...sent, provider.clientSecret];
    let res: Response;
    let text: string;
    try {
      res = await this.#post(provider, provider.tokenUrl, form);
      text = await res.text();
    } catch (error) {
      return { ok: false, kind: 'unavailable', description: networkReason(error) };
    }
    const body = parseBody(text);
    if (res.status >= 500 || res.status === 429) {
      return { ok: false, kind: 'unavailable', status: res.status, description: redact(`the provider answered HTTP ${res.status}${describeError(body)}`, secrets) };
    }
    if (!res.ok) {
      const error = stringField(body, 'error') ?? stringField(body, 'status') ?? `http_${res.status}`;
      const description = stringField(body, 'error_description') ?? stringField(body, 'message') ?? '';
      return { ok: false, kind: 'rejected', status: res.status, error: redact(error, secrets), description: redact(description, secrets) };
    }
    const accessToken = stringField(body, 'access_token');
    if (!accessToken) {
      // Some providers answer 200 with an error body (GitHub does).
      const error = stringField(body, 'error');
      if (error) return { ok: false, kind: 'rejected', status: res.status, error: redact(error, secrets), description: redact(stringField(body, 'error_description') ?? '', secrets) };
      return { ok: false, kind: 'unavailable', status: res.status, description: 'the provider answered without an access token' };
    }
    const tokenType = stringField(body, 'token_type');
    if (tokenType && tokenType.toLowerCase() !== 'bearer') {
      return {
        ok: false,
        kind: 'rejected',
        status: res.status,
        error: 'unsupported_token_type',
        description: `the provider issued a ${tokenType.slice(0, 20)} token; only bearer tokens are supported`,
      };
    }
    const tokens: TokenSet = { accessToken };
    const refreshToken = stringField(body, 'refresh_token');
    if (refreshToken) tokens.refreshToken = refreshToken;
    const expiresIn = Number(body?.expires_in);
    if (body?.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) tokens.expiresIn = expiresIn;
    const scope = stringField(body, 'scope');
    if (scope !== undefined) tokens.scopes = scope.split(/[\s,]+/).filter(Boolean);
    return { ok: true, tokens };
  }

  #post(provider: OAuthProvider, url: string, form: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const body = new URLSearchParams(form);
    if (provider.tokenAuthMethod === 'client_secret_basic') {
      // RFC 6749 §2.3.1: each part form-urlencoded before base64.
      const user = encodeURIComponent(provider.clientId);
      const pass = encodeURIComponent(provider.clientSecret);
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    } else {
      body.set('client_id', provider.clientId);
      body.set('client_secret', provider.clientSecret);
    }
    return this.#fetch(url, { method: 'POST', headers, body: body.toString(), redirect: 'error', signal: AbortSignal.timeout(this.#timeoutMs) });
  }
}

type Body = Record<string, unknown> | undefined;

function parseBody(text: string): Body {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Some providers answer form-encoded (GitHub without Accept), fall through.
  }
  if (/^[\w.%+-]+=[^&]*(&[\w.%+-]+=[^&]*)*$/.test(text.trim())) return Object.fromEntries(new URLSearchParams(text.trim()));
  return undefined;
}

function stringField(body: Body, field: string): string | undefined {
  const v = body?.[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function describeError(body: Body): string {
  const e = stringField(body, 'error') ?? stringField(body, 'status');
  const d = stringField(body, 'error_description') ?? stringField(body, 'message');
  return e || d ? ` (${[e, d].filter(Boolean).join(': ')})` : '';
}

function networkReason(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'the provider did not answer in time';
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'the provider refused the connection';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return "the provider's host name did not resolve";
  if (code) return `the provider could not be reached (${code})`;
  return 'the provider could not be reached';
}

const MAX_PROVIDER_TEXT = 300;

/** Removes every occurrence of the given secrets from provider text, and caps its length. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out.length > MAX_PROVIDER_TEXT ? `${out.slice(0, MAX_PROVIDER_TEXT)}…` : out;
}
