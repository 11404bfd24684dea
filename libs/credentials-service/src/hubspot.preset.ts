/**
 * The HubSpot preset: the platform-managed HubSpot app, and the resources × operations a user
 * picks when adding a connection, mapped to HubSpot scopes exactly as the JsWorkflows table
 * lists them.
 */
import type { OAuthProvider, ProviderPermission } from './providers.ts';

export const HUBSPOT_PROVIDER_ID = 'hubspot';

export const HUBSPOT_PERMISSIONS: readonly ProviderPermission[] = [
  { id: 'contacts.read', resource: 'Contacts', operation: 'Read contacts', scopes: ['crm.objects.contacts.read'] },
  { id: 'contacts.write', resource: 'Contacts', operation: 'Create/update/delete contacts', scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'] },
  { id: 'companies.read', resource: 'Companies', operation: 'Read companies', scopes: ['crm.objects.companies.read'] },
  { id: 'companies.write', resource: 'Companies', operation: 'Create/update/delete companies', scopes: ['crm.objects.companies.read', 'crm.objects.companies.write'] },
  { id: 'deals.read', resource: 'Deals', operation: 'Read deals', scopes: ['crm.objects.deals.read'] },
  { id: 'deals.write', resource: 'Deals', operation: 'Create/update/delete deals', scopes: ['crm.objects.deals.read', 'crm.objects.deals.write'] },
  { id: 'marketing-email', resource: 'Marketing Email', operation: 'Read/send marketing emails', scopes: ['marketing-email'] },
  { id: 'files', resource: 'Files', operation: 'Access file manager', scopes: ['files'] },
  { id: 'tickets', resource: 'Tickets', operation: 'Read/manage tickets', scopes: ['tickets'] },
  { id: 'automation', resource: 'Automation', operation: 'Manage workflows & sequences', scopes: ['automation'] },
];

export interface HubSpotPresetOptions {
  /** The platform's HubSpot app; never supplied by users. */
  clientId: string;
  clientSecret: string;
  /** @default 'https://app.hubspot.com/oauth/authorize' */
  authorizeUrl?: string;
  /** @default 'https://api.hubapi.com/oauth/v1/token' */
  tokenUrl?: string;
  /**
   * HubSpot revokes a refresh token with `DELETE <this>/<token>` (not RFC 7009).
   * @default 'https://api.hubapi.com/oauth/v1/refresh-tokens'
   */
  refreshTokenRevocationUrl?: string;
  /**
   * Token metadata (`GET <this>/<access token>` answers the portal's `hub_id`): how an install
   * learns which HubSpot account it is for.
   * @default the token URL's `/oauth/v1/access-tokens` (https://api.hubapi.com/oauth/v1/access-tokens)
   */
  accessTokenInfoUrl?: string;
  /**
   * Send a PKCE S256 challenge. HubSpot does not document PKCE for its public apps, so it is
   * off; the client secret binds the code exchange.
   * @default false
   */
  pkce?: boolean;
}

export function hubspotPreset(options: HubSpotPresetOptions): OAuthProvider {
  const tokenUrl = options.tokenUrl ?? 'https://api.hubapi.com/oauth/v1/token';
  return {
    id: HUBSPOT_PROVIDER_ID,
    displayName: 'HubSpot',
    grantType: 'authorization_code',
    authorizeUrl: options.authorizeUrl ?? 'https://app.hubspot.com/oauth/authorize',
    tokenUrl,
    accessTokenInfoUrl: options.accessTokenInfoUrl ?? new URL('access-tokens', tokenUrl.replace(/\/token\/*$/, '/')).toString(),
    revocation: { style: 'hubspot', url: options.refreshTokenRevocationUrl ?? 'https://api.hubapi.com/oauth/v1/refresh-tokens' },
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    // HubSpot reads client credentials from the form body.
    tokenAuthMethod: 'client_secret_post',
    pkce: options.pkce ?? false,
    defaultScopes: [],
    permissions: HUBSPOT_PERMISSIONS,
    allowedScopes: [...new Set(HUBSPOT_PERMISSIONS.flatMap((p) => p.scopes))],
    extraAuthorizeParams: {},
  };
}
