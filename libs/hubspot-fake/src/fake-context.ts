/** What the route handlers share: parsed request, state, resolved options. */
import type { IncomingHttpHeaders } from 'node:http';
import type { AssociationStore } from './associations.store.ts';
import type { AutomationStore } from './automation.routes.ts';
import type { CommunicationPreferences } from './communication-preferences.routes.ts';
import type { CrmStore } from './crm.store.ts';
import type { SchemaRegistry } from './custom-objects.ts';
import type { HubDbStore } from './hubdb.routes.ts';
import type { OwnerStore } from './owners.routes.ts';
import type { PipelineStore } from './pipelines.routes.ts';
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
  readonly associations: AssociationStore;
  readonly schemas: SchemaRegistry;
  readonly owners: OwnerStore;
  readonly pipelines: PipelineStore;
  readonly hubdb: HubDbStore;
  readonly subscriptions: CommunicationPreferences;
  readonly automation: AutomationStore;
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

/** An id from a body (`"101"` or `101`), as the string HubSpot ids are. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}
