/** What the route handlers share: parsed request, state, resolved options. */
import type { IncomingHttpHeaders } from 'node:http';
import type { CrmStore } from './crm.store.ts';
import type { OAuthConsent, ResolvedOptions } from './hubspot-fake.options.ts';
import type { SecondlyRateLimiter } from './rate-limiter.ts';
import type { TokenRegistry } from './token.registry.ts';

export interface FakeRequest {
  method: string;
  path: string;
  /** Path split on `/`, percent-decoded, empty segments dropped. */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  correlationId: string;
  /** Set by the CRM router once the bearer token checks out, for the request log. */
  portalId?: number;
}

export interface FakeContext {
  readonly options: ResolvedOptions;
  readonly store: CrmStore;
  readonly tokens: TokenRegistry;
  readonly limiter: SecondlyRateLimiter;
  /** `http://host:port`, known once the server listens. */
  baseUrl: string;
  consent: OAuthConsent;
}

/** `application/json` or a `+json` type, charset or not. */
export function isJson(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

export function isForm(headers: IncomingHttpHeaders): boolean {
  return headers['content-type']?.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}
