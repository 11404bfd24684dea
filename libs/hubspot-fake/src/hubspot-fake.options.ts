/**
 * Options of {@link startHubSpotFake}, with their defaults, parsed once at start: a bad value
 * fails there with a message that says what to fix.
 */
import { ValidationError, silentLogger, systemClock, type Clock, type Logger } from '@codestep/core';
import type { CrmObjectType } from './object-types.ts';

/** A static private-app token (`pat-na1-…`): never expires. */
export interface PrivateAppTokenConfig {
  /** The portal (hub id) the token belongs to. @default options.portalId */
  portalId?: number;
  /** Granted scopes. Omitted: every scope (no 403s). */
  scopes?: readonly string[];
  /** @default 'fake-user@example.com' */
  userEmail?: string;
  /** @default 7000001 */
  appId?: number;
}

/** A public app that can run the OAuth code flow against the fake. */
export interface OAuthClientConfig {
  clientId: string;
  clientSecret: string;
  /** Exact redirect URIs the app registered; `/oauth/authorize` refuses any other. */
  redirectUris: readonly string[];
  /** @default 8000001, 8000002, … in the order given */
  appId?: number;
}

/** What the (auto-)consent screen of `/oauth/authorize` does. */
export type OAuthConsent =
  | {
      decision: 'approve';
      /** Install into this portal. @default options.portalId */
      portalId?: number;
      /** @default 'fake-user@example.com' */
      userEmail?: string;
      /** @default 9000001 */
      userId?: number;
      /** Grant the `optional_scope` scopes too. @default true */
      grantOptionalScopes?: boolean;
    }
  | { decision: 'deny' };

export interface HubSpotFakeOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** The portal used when a token, consent or seed names none. @default 62515 */
  portalId?: number;
  /** Static private-app tokens: token → portal and scopes. @default {} */
  accessTokens?: Readonly<Record<string, PrivateAppTokenConfig>>;
  /** OAuth apps. @default [] */
  oauthClients?: readonly OAuthClientConfig[];
  /** @default { decision: 'approve' } */
  oauthConsent?: OAuthConsent;
  /**
   * HubSpot's SECONDLY policy: requests allowed per rolling second, per private-app token or
   * per OAuth app installation (app + portal). 0 or Infinity turns it off. HubSpot's own
   * numbers vary by plan (100–190 per 10 s for private apps); 100 keeps bursts of normal tests
   * clear of it while a test can lower it with `setRateLimit`.
   * @default 100
   */
  rateLimitPerSecond?: number;
  /** Lifetime of OAuth access tokens, seconds (HubSpot: 1800). @default 1800 */
  accessTokenTtlSeconds?: number;
  /**
   * Reject writes of properties a standard portal does not define (HubSpot's
   * `PROPERTY_DOESNT_EXIST`) and leave them out of reads. Off by default because the built-in
   * property lists are a subset of HubSpot's; add yours with `customProperties`.
   * @default false
   */
  strictProperties?: boolean;
  /** Extra properties per object type, for `strictProperties`. @default {} */
  customProperties?: Partial<Record<CrmObjectType, readonly string[]>>;
  /** First record id handed out. @default 1001 */
  firstObjectId?: number;
  /** Time source for token expiry, the rate limit and timestamps. @default Date.now */
  clock?: Clock;
  /** @default silentLogger */
  logger?: Logger;
  /** Largest request body accepted, bytes. @default 5 MiB */
  maxBodyBytes?: number;
  /** The developer API key (`hapikey`) the automation definitions API accepts. @default 'dev-api-key-local' */
  developerApiKey?: string;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  portalId: number;
  accessTokens: Record<string, Required<Omit<PrivateAppTokenConfig, 'scopes'>> & { scopes: readonly string[] | undefined }>;
  oauthClients: Array<Required<OAuthClientConfig>>;
  oauthConsent: OAuthConsent;
  rateLimitPerSecond: number;
  accessTokenTtlSeconds: number;
  strictProperties: boolean;
  customProperties: Map<CrmObjectType, Set<string>>;
  firstObjectId: number;
  clock: Clock;
  logger: Logger;
  maxBodyBytes: number;
  developerApiKey: string;
}

export const DEFAULT_PORTAL_ID = 62515;
export const DEFAULT_USER_EMAIL = 'fake-user@example.com';
export const DEFAULT_USER_ID = 9000001;
export const DEFAULT_PRIVATE_APP_ID = 7000001;

function positiveInteger(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0 || (!allowZero && v === 0)) {
    throw new ValidationError(`hubspot-fake: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return v;
}

export function resolveOptions(options: HubSpotFakeOptions = {}): ResolvedOptions {
  const portalId = positiveInteger(options.portalId, DEFAULT_PORTAL_ID, 'portalId');
  const port = positiveInteger(options.port, 0, 'port', true);
  if (port > 65535) throw new ValidationError(`hubspot-fake: port must be at most 65535, got ${port}`);
  const rate = options.rateLimitPerSecond ?? 100;
  if (!(rate >= 0) || (Number.isFinite(rate) && !Number.isInteger(rate))) {
    throw new ValidationError(`hubspot-fake: rateLimitPerSecond must be a non-negative integer or Infinity, got ${String(rate)}`);
  }
  const accessTokens: ResolvedOptions['accessTokens'] = {};
  for (const [token, config] of Object.entries(options.accessTokens ?? {})) {
    if (token.trim() === '' || /\s/.test(token)) throw new ValidationError(`hubspot-fake: access token ${JSON.stringify(token)} must be non-empty without spaces`);
    accessTokens[token] = {
      portalId: positiveInteger(config.portalId, portalId, `accessTokens[${token}].portalId`),
      scopes: config.scopes,
      userEmail: config.userEmail ?? DEFAULT_USER_EMAIL,
      appId: config.appId ?? DEFAULT_PRIVATE_APP_ID,
    };
  }
  const oauthClients = (options.oauthClients ?? []).map((client, index) => {
    if (!client.clientId || !client.clientSecret) throw new ValidationError(`hubspot-fake: oauthClients[${index}] needs clientId and clientSecret`);
    if (client.redirectUris.length === 0) throw new ValidationError(`hubspot-fake: oauthClients[${index}] needs at least one redirect URI`);
    for (const uri of client.redirectUris) {
      if (!URL.canParse(uri)) throw new ValidationError(`hubspot-fake: oauthClients[${index}] redirect URI ${uri} is not an absolute URL`);
    }
    return { ...client, appId: client.appId ?? 8000001 + index };
  });
  const customProperties = new Map<CrmObjectType, Set<string>>();
  for (const [type, names] of Object.entries(options.customProperties ?? {})) {
    customProperties.set(type as CrmObjectType, new Set(names));
  }
  return {
    port,
    host: options.host ?? '127.0.0.1',
    portalId,
    accessTokens,
    oauthClients,
    oauthConsent: options.oauthConsent ?? { decision: 'approve' },
    rateLimitPerSecond: rate,
    accessTokenTtlSeconds: positiveInteger(options.accessTokenTtlSeconds, 1800, 'accessTokenTtlSeconds'),
    strictProperties: options.strictProperties ?? false,
    customProperties,
    firstObjectId: positiveInteger(options.firstObjectId, 1001, 'firstObjectId'),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, 5 * 1024 * 1024, 'maxBodyBytes'),
    developerApiKey: options.developerApiKey ?? 'dev-api-key-local',
  };
}
