/**
 * OAuth providers: the platform-managed apps the operator configures (client ids and secrets
 * come from operator configuration, never from users). The HubSpot preset lives in
 * `hubspot.preset.ts`; every other service is a generic OAuth 2.0 provider.
 */
import { ValidationError } from '@codestep/core';

export type GrantType = 'authorization_code' | 'client_credentials';
export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** A choice offered to users instead of raw scopes (HubSpot: resource × operation). */
export interface ProviderPermission {
  id: string;
  resource: string;
  operation: string;
  scopes: readonly string[];
}

export type RevocationEndpoint =
  /** RFC 7009: `POST url` with `token` and `token_type_hint`, client authentication as configured. */
  | { style: 'rfc7009'; url: string }
  /** HubSpot: `DELETE url/<refresh token>`. */
  | { style: 'hubspot'; url: string };

export interface OAuthProvider {
  /** Lowercase id users pick, e.g. `hubspot`, `github`. */
  id: string;
  displayName: string;
  grantType: GrantType;
  /** Unused with client credentials. */
  authorizeUrl: string;
  tokenUrl: string;
  revocation?: RevocationEndpoint;
  clientId: string;
  clientSecret: string;
  tokenAuthMethod: TokenAuthMethod;
  /** Send an S256 PKCE challenge with the authorization request. */
  pkce: boolean;
  /** Scopes asked when a connection names none. */
  defaultScopes: readonly string[];
  /** Preset choices mapped to scopes; empty for generic providers. */
  permissions: readonly ProviderPermission[];
  /** When set, a connection may only ask these scopes. */
  allowedScopes?: readonly string[];
  /** Added to the authorize URL, e.g. `{ access_type: 'offline' }` for Google. */
  extraAuthorizeParams: Readonly<Record<string, string>>;
  /**
   * Where the provider tells which account a fresh access token acts for (HubSpot:
   * `GET <this>/<access token>` answers `hub_id`). Unset: the account is not recorded.
   */
  accessTokenInfoUrl?: string;
}

/** Operator configuration of a generic OAuth 2.0 provider. */
export interface GenericProviderConfig {
  id: string;
  displayName?: string;
  /** @default 'authorization_code' */
  grantType?: GrantType;
  authorizeUrl?: string;
  tokenUrl: string;
  /** RFC 7009 revocation endpoint, if the provider has one. */
  revocationUrl?: string;
  clientId: string;
  clientSecret: string;
  /** @default 'client_secret_basic' (the one RFC 6749 requires servers to support) */
  tokenAuthMethod?: TokenAuthMethod;
  /** @default true */
  pkce?: boolean;
  /** @default [] */
  scopes?: string[];
  allowedScopes?: string[];
  extraAuthorizeParams?: Record<string, string>;
}

const PROVIDER_ID = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * A generic OAuth 2.0 provider from operator configuration.
 * @throws ValidationError naming the field to fix.
 */
export function genericOAuth2Provider(config: GenericProviderConfig): OAuthProvider {
  const where = `OAuth provider ${JSON.stringify(config.id)}`;
  if (typeof config.id !== 'string' || !PROVIDER_ID.test(config.id)) throw new ValidationError(`${where}: id must be lowercase letters, digits and hyphens, starting with a letter`);
  const grantType = config.grantType ?? 'authorization_code';
  if (grantType !== 'authorization_code' && grantType !== 'client_credentials') throw new ValidationError(`${where}: grantType must be authorization_code or client_credentials`);
  checkUrl(where, 'tokenUrl', config.tokenUrl);
  if (grantType === 'authorization_code') checkUrl(where, 'authorizeUrl', config.authorizeUrl);
  if (config.revocationUrl !== undefined) checkUrl(where, 'revocationUrl', config.revocationUrl);
  if (!config.clientId) throw new ValidationError(`${where}: clientId is required`);
  if (!config.clientSecret) throw new ValidationError(`${where}: clientSecret is required`);
  const method = config.tokenAuthMethod ?? 'client_secret_basic';
  if (method !== 'client_secret_basic' && method !== 'client_secret_post') throw new ValidationError(`${where}: tokenAuthMethod must be client_secret_basic or client_secret_post`);
  return {
    id: config.id,
    displayName: config.displayName ?? config.id,
    grantType,
    authorizeUrl: config.authorizeUrl ?? '',
    tokenUrl: config.tokenUrl,
    ...(config.revocationUrl ? { revocation: { style: 'rfc7009' as const, url: config.revocationUrl } } : {}),
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    tokenAuthMethod: method,
    pkce: config.pkce ?? true,
    defaultScopes: config.scopes ?? [],
    permissions: [],
    ...(config.allowedScopes ? { allowedScopes: config.allowedScopes } : {}),
    extraAuthorizeParams: config.extraAuthorizeParams ?? {},
  };
}

/**
 * Parses the JSON array of generic providers the operator puts in configuration
 * (`OAUTH_PROVIDERS`).
 * @throws ValidationError saying which entry and field is wrong.
 */
export function parseGenericProviders(json: string): OAuthProvider[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ValidationError('OAUTH_PROVIDERS must be a JSON array of provider objects');
  }
  if (!Array.isArray(parsed)) throw new ValidationError('OAUTH_PROVIDERS must be a JSON array of provider objects');
  return parsed.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw new ValidationError(`OAUTH_PROVIDERS[${i}] must be an object`);
    return genericOAuth2Provider(entry as GenericProviderConfig);
  });
}

function checkUrl(where: string, field: string, value: string | undefined): void {
  const url = value ? URL.parse(value) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new ValidationError(`${where}: ${field} must be an http(s) URL`);
}

/** The providers by id. */
export class ProviderRegistry {
  readonly #byId = new Map<string, OAuthProvider>();

  constructor(providers: readonly OAuthProvider[]) {
    for (const p of providers) {
      if (this.#byId.has(p.id)) throw new ValidationError(`OAuth provider ${JSON.stringify(p.id)} is configured twice`);
      this.#byId.set(p.id, p);
    }
  }

  get(id: string): OAuthProvider | undefined {
    return this.#byId.get(id);
  }

  /**
   * @throws ValidationError when the provider is not configured.
   */
  require(id: string): OAuthProvider {
    const p = this.#byId.get(id);
    if (!p) {
      const known = [...this.#byId.keys()];
      throw new ValidationError(`unknown OAuth provider ${JSON.stringify(id)}: ${known.length ? `this platform offers ${known.join(', ')}` : 'the operator has configured none'}`, {
        field: 'provider',
      });
    }
    return p;
  }

  list(): OAuthProvider[] {
    return [...this.#byId.values()];
  }
}

/**
 * The scopes a connection asks: the union of the chosen preset permissions' scopes and the
 * explicit scopes, in first-seen order, or the provider's defaults when both are empty.
 * @throws ValidationError on an unknown permission or a scope outside the provider's allow-list.
 */
export function resolveScopes(provider: OAuthProvider, permissions: readonly string[], scopes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const id of permissions) {
    const permission = provider.permissions.find((p) => p.id === id);
    if (!permission) {
      const offered = provider.permissions.map((p) => p.id);
      throw new ValidationError(
        `unknown permission ${JSON.stringify(id)} for ${provider.displayName}${offered.length ? `: choose from ${offered.join(', ')}` : ': this provider takes scopes, not permissions'}`,
        { field: 'permissions' },
      );
    }
    for (const s of permission.scopes) out.add(s);
  }
  for (const s of scopes) {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)) throw new ValidationError(`scope ${JSON.stringify(s)} is not a valid OAuth scope token`, { field: 'scopes' });
    if (provider.allowedScopes && !provider.allowedScopes.includes(s)) {
      throw new ValidationError(`scope ${JSON.stringify(s)} is not offered by ${provider.displayName}: choose from ${provider.allowedScopes.join(', ')}`, { field: 'scopes' });
    }
    out.add(s);
  }
  if (out.size === 0) for (const s of provider.defaultScopes) out.add(s);
  return [...out];
}
