/**
 * Helpers around calls to a provider and the tokens they return: tracing of token calls,
 * sealing and opening stored tokens, and describing failures without leaking token material.
 */
import { CodestepError } from '@codestep/core';
import { withSpan } from '@codestep/telemetry';
import { aad, type ConnectionDoc, type StoredCredentials } from './connection.model.ts';
import type { TokenResult, TokenSet } from './oauth.client.ts';
import type { OAuthProvider } from './providers.ts';
import type { SecretBox } from './secret-box.ts';

/** Runs a token call in a span saying which provider, which grant and how it went. */
export function tokenCall(provider: OAuthProvider, grant: string, call: () => Promise<TokenResult>): Promise<TokenResult> {
  return withSpan('oauth token', { attributes: { 'oauth.provider': provider.id, 'oauth.grant_type': grant } }, async (span) => {
    const result = await call();
    span.setAttribute('oauth.outcome', result.ok ? 'ok' : result.kind);
    if (!result.ok && result.status) span.setAttribute('http.response.status_code', result.status);
    return result;
  });
}

/** The stored form of fresh tokens. */
export function credentialsOf(tokens: TokenSet): StoredCredentials {
  return { accessToken: tokens.accessToken, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}) };
}

/** Seals tokens for one connection. */
export function sealCredentials(box: SecretBox, tenantId: string, handle: string, creds: StoredCredentials): string {
  return box.seal(JSON.stringify(creds), aad.connection(tenantId, handle));
}

/** Opens a connection's tokens; null when it holds none. */
export function openCredentials(box: SecretBox, doc: ConnectionDoc): StoredCredentials | null {
  if (!doc.credentials) return null;
  return JSON.parse(box.open(doc.credentials, aad.connection(doc.tenantId, doc.handle))) as StoredCredentials;
}

export function describeRejection(r: { error: string; description: string }): string {
  return r.description ? `${r.error}: ${r.description}` : r.error;
}

/** Name and code only: error messages from lower layers are not trusted to be token-free. */
export function errorSummary(error: unknown): Record<string, unknown> {
  if (error instanceof CodestepError) return { name: error.name, code: error.code, message: error.message };
  return { name: error instanceof Error ? error.name : typeof error };
}
