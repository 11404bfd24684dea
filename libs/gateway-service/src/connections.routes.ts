/**
 * HTTP routes for OAuth connections and action secrets, over the OAuth broker's gRPC client:
 * create a connection (returns the provider's authorize URL), list, get, reconnect, revoke; the
 * OAuth callback the providers redirect to; and secrets (names only ever come back, never
 * values). The tenant comes from the API key, never from the request body.
 *
 * The callback is public (`auth: 'none'`): the single-use state it carries is what binds it to
 * a tenant and a connection, and the broker checks it. Its page never echoes the code.
 */
import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import type { ActionDefinition, credentialsV1 } from '@codestep/contracts';
import { HUBSPOT_TOKEN_SECRET, ValidationError, escapeHtml, secretSelectionProblem } from '@codestep/core';
import { fromServiceError, type PromiseClient } from '@codestep/rpc';
import { injectContext } from '@codestep/telemetry';
import { pageOf } from './paging.ts';
import type { Route, RouteRequest, RouteResponse } from './router.ts';

/** Deadline of broker calls, ms: the callback's code exchange waits for the provider. */
const DEADLINE_MS = 20_000;

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => ClientUnaryCall;

function call<Req, Res>(client: credentialsV1.CredentialsClient, name: string, method: Unary<Req, Res>, request: Req): Promise<Res> {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(injectContext())) metadata.set(k, v);
  return new Promise<Res>((resolve, reject) => {
    method.call(client, request, metadata, { deadline: Date.now() + DEADLINE_MS }, (error, response) => (error ? reject(fromServiceError(error, name)) : resolve(response)));
  });
}

const iso = (ms: number): string | null => (ms ? new Date(ms).toISOString() : null);

/** A connection as the API shows it: no token material exists in it to begin with. */
export function connectionView(c: credentialsV1.ConnectionInfo): Record<string, unknown> {
  return {
    handle: c.handle,
    provider: c.provider,
    status: c.status,
    statusReason: c.statusReason || null,
    grantType: c.grantType,
    scopes: c.scopes,
    permissions: c.permissions,
    grantedScopes: c.grantedScopes,
    createdAt: iso(c.createdAt),
    authorizedAt: iso(c.authorizedAt),
    expiresAt: iso(c.expiresAt),
    refreshedAt: iso(c.refreshedAt),
    // The provider account it acts for (HubSpot: the portal id the app was installed in).
    accountId: c.accountId || null,
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(body: Record<string, unknown>, field: string): string[] {
  const v = body[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ValidationError(`"${field}" must be an array of strings`, { field });
  return v;
}

function requiredString(body: Record<string, unknown>, field: string, hint: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new ValidationError(`"${field}" is required: ${hint}`, { field });
  return v;
}

function objectBody(req: RouteRequest, example: string): Record<string, unknown> {
  if (!isObj(req.body)) throw new ValidationError(`send a JSON object body, e.g. ${example}`);
  return req.body;
}

/** Callback statuses: the user's browser lands here, so the page explains itself. */
const CALLBACK_STATUS: Record<string, number> = { PROVIDER_UNAVAILABLE: 502, CONNECTION_GONE: 404 };

function callbackPage(ok: boolean, title: string, message: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}.ok{color:#116329}.fail{color:#a40e26}</style>',
    `</head><body><h1 class="${ok ? 'ok' : 'fail'}">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p>You can close this window.</p></body></html>`,
  ].join('');
}

function callbackResponse(req: RouteRequest, status: number, ok: boolean, title: string, message: string, extra: Record<string, unknown> = {}): RouteResponse {
  // The URL carried a code and a state: keep them out of caches and Referer headers.
  const headers: Record<string, string> = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };
  if ((req.headers.accept ?? '').includes('text/html')) {
    return {
      status,
      headers: { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" },
      body: callbackPage(ok, title, message),
    };
  }
  return { status, headers, body: ok ? { ok, message, ...extra } : { ok, error: { message, ...extra } } };
}

async function oauthCallback(client: credentialsV1.CredentialsClient, req: RouteRequest): Promise<RouteResponse> {
  const q = req.query;
  const input: credentialsV1.CompleteAuthorizationRequest = {
    state: q.get('state') ?? '',
    code: q.get('code') ?? '',
    error: q.get('error') ?? '',
    errorDescription: q.get('error_description') ?? '',
  };
  try {
    const out = await call(client, 'completeAuthorization', client.completeAuthorization, input);
    const handle = out.connection?.handle ?? '';
    if (out.ok) {
      return callbackResponse(req, 200, true, 'Connected', `The connection "${handle}" is authorized. Workflows can use it with api.getOAuthToken('${handle}').`, {
        connection: out.connection ? connectionView(out.connection) : null,
      });
    }
    return callbackResponse(req, CALLBACK_STATUS[out.errorCode] ?? 400, false, 'The connection was not made', out.error, { code: out.errorCode });
  } catch (error) {
    // Never rethrow: the router would log the request URL, which holds the code and state.
    const unavailable = error instanceof Error && 'code' in error && (error.code === 'UNAVAILABLE' || error.code === 'DEADLINE_EXCEEDED');
    return callbackResponse(
      req,
      unavailable ? 503 : 500,
      false,
      'The connection was not made',
      unavailable ? 'The connection service is not reachable right now. Start connecting again in a moment.' : 'Something went wrong while finishing the connection. Start connecting again.',
      { code: unavailable ? 'UNAVAILABLE' : 'INTERNAL' },
    );
  }
}

type CredentialsClientLike = credentialsV1.CredentialsClient | PromiseClient<credentialsV1.CredentialsClient>;

/** Something about a workflow being saved that will fail when it runs, unless fixed first. */
export interface SaveWarning {
  /** The field it is about, e.g. `actions[1].secrets`. */
  field: string;
  message: string;
}

/**
 * Refuses, before it is saved, a workflow with an action whose selected secrets together are
 * longer than an action may use (`SECRETS_POLICY`): it could never run. Sizes come from the
 * broker (lengths only, never values); secrets not stored yet count as empty. Returns the
 * warnings of the save: selected secrets and connections that do not exist (yet), which would
 * fail the action when it runs (`SECRET_NOT_FOUND`, a token error naming the connection).
 * `HUBSPOT_ACCESS_TOKEN` is not warned about: a HubSpot enrollment gets the portal's token.
 * @throws ValidationError naming the action and the total.
 */
export async function checkSecretSelections(credentials: CredentialsClientLike, tenantId: string, actions: readonly ActionDefinition[]): Promise<SaveWarning[]> {
  const client: credentialsV1.CredentialsClient = 'raw' in credentials ? credentials.raw : credentials;
  const warnings: SaveWarning[] = [];
  if (actions.some((a) => a.secretNames.length > 0)) {
    const { secrets } = await call(client, 'listSecrets', client.listSecrets, { tenantId });
    const sizes = new Map(secrets.map((s) => [s.name, s.valueChars ?? 0]));
    actions.forEach((action, i) => {
      const problem = secretSelectionProblem(action.actionId, action.secretNames, sizes);
      if (problem) throw new ValidationError(`actions[${i}].secrets: ${problem}`, { field: `actions[${i}].secrets` });
      const missing = action.secretNames.filter((n) => !sizes.has(n) && n !== HUBSPOT_TOKEN_SECRET);
      if (missing.length)
        warnings.push({
          field: `actions[${i}].secrets`,
          message: `action "${action.actionId}" selects ${missing.map((n) => `"${n}"`).join(', ')}, which this account does not have: it will fail with SECRET_NOT_FOUND until ${missing.length > 1 ? 'they are' : 'it is'} added (PUT /v1/secrets/{name})`,
        });
    });
  }
  if (actions.some((a) => a.connectionHandles.length > 0)) {
    const { connections } = await call(client, 'listConnections', client.listConnections, { tenantId });
    const status = new Map(connections.map((c) => [c.handle, c.status]));
    actions.forEach((action, i) => {
      const missing = action.connectionHandles.filter((h) => !status.has(h) || status.get(h) === 'revoked');
      if (missing.length)
        warnings.push({
          field: `actions[${i}].connections`,
          message: `action "${action.actionId}" declares ${missing.map((h) => `"${h}"`).join(', ')}, which this account has no (active or pending) connection named: api.getOAuthToken will answer an error until it is connected (POST /v1/connections)`,
        });
    });
  }
  return warnings;
}

export interface ConnectionRoutesOptions {
  /**
   * Include `PUT/GET/DELETE /v1/secrets…`. Turn off where another module serves them.
   * @default true
   */
  secrets?: boolean;
}

/**
 * The routes for connections, the OAuth callback and secrets, over the broker's gRPC client
 * (the raw grpc-js client, or `@codestep/rpc`'s promise client whose `raw` is used).
 */
export function connectionRoutes(credentials: CredentialsClientLike, options: ConnectionRoutesOptions = {}): Route[] {
  const client: credentialsV1.CredentialsClient = 'raw' in credentials ? credentials.raw : credentials;
  const routes: Route[] = [...connectionsRoutes(client), { method: 'GET', path: '/oauth/callback', auth: 'none', handle: (req) => oauthCallback(client, req) }];
  if (options.secrets === false) return routes;
  return [...routes, ...secretsRoutes(client)];
}

/** The OAuth providers, and the tenant's connections: created (with the authorize URL), listed, read, authorized again, revoked. */
function connectionsRoutes(client: credentialsV1.CredentialsClient): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/oauth-providers',
      auth: 'tenant',
      handle: async () => {
        const out = await call(client, 'listProviders', client.listProviders, {});
        return { status: 200, body: { providers: out.providers } };
      },
    },
    {
      method: 'POST',
      path: '/v1/connections',
      auth: 'tenant',
      handle: async (req) => {
        const body = objectBody(req, '{"handle":"my-hubspot","provider":"hubspot","permissions":["contacts.write"]}');
        const out = await call(client, 'createConnection', client.createConnection, {
          tenantId: req.tenantId,
          handle: requiredString(body, 'handle', 'lowercase letters, digits and hyphens, e.g. my-hubspot'),
          provider: requiredString(body, 'provider', 'the provider id, see GET /v1/oauth-providers'),
          permissions: stringList(body, 'permissions'),
          scopes: stringList(body, 'scopes'),
        });
        const connection = out.connection ? connectionView(out.connection) : null;
        return {
          status: 201,
          headers: { location: `/v1/connections/${encodeURIComponent(out.connection?.handle ?? '')}` },
          body: { handle: out.connection?.handle, authorizeUrl: out.authorizeUrl || null, connection },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/connections',
      auth: 'tenant',
      handle: async (req) => {
        const out = await call(client, 'listConnections', client.listConnections, { tenantId: req.tenantId });
        const page = pageOf(out.connections, (x) => [x.handle], req.query);
        return { status: 200, body: { connections: page.items.map(connectionView), nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'GET',
      path: '/v1/connections/:handle',
      auth: 'tenant',
      handle: async (req) => {
        const out = await call(client, 'getConnection', client.getConnection, { tenantId: req.tenantId, handle: req.params.handle ?? '' });
        return { status: 200, body: connectionView(out) };
      },
    },
    {
      method: 'POST',
      path: '/v1/connections/:handle/authorize',
      auth: 'tenant',
      handle: async (req) => {
        const out = await call(client, 'startAuthorization', client.startAuthorization, { tenantId: req.tenantId, handle: req.params.handle ?? '' });
        return {
          status: 200,
          body: { handle: req.params.handle, authorizeUrl: out.authorizeUrl || null, stateExpiresAt: iso(out.stateExpiresAt), connection: out.connection ? connectionView(out.connection) : null },
        };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/connections/:handle',
      auth: 'tenant',
      handle: async (req) => {
        const out = await call(client, 'revokeConnection', client.revokeConnection, { tenantId: req.tenantId, handle: req.params.handle ?? '' });
        return { status: 200, body: connectionView(out) };
      },
    },
  ];
}

/** The tenant's secrets: written, listed and deleted by name; only names and times ever come back. */
function secretsRoutes(client: credentialsV1.CredentialsClient): Route[] {
  return [
    {
      method: 'PUT',
      path: '/v1/secrets/:name',
      auth: 'tenant',
      handle: async (req) => {
        const body = objectBody(req, '{"value":"..."}');
        if (typeof body.value !== 'string') throw new ValidationError('"value" is required and must be a string', { field: 'value' });
        const out = await call(client, 'putSecret', client.putSecret, { tenantId: req.tenantId, name: req.params.name ?? '', value: body.value });
        return { status: 200, body: { name: out.name, updatedAt: iso(out.updatedAt) } };
      },
    },
    {
      method: 'GET',
      path: '/v1/secrets',
      auth: 'tenant',
      handle: async (req) => {
        const out = await call(client, 'listSecrets', client.listSecrets, { tenantId: req.tenantId });
        const page = pageOf(out.secrets, (x) => [x.name], req.query);
        return { status: 200, body: { secrets: page.items.map((x) => ({ name: x.name, updatedAt: iso(x.updatedAt) })), nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/secrets/:name',
      auth: 'tenant',
      handle: async (req) => {
        const name = req.params.name ?? '';
        const out = await call(client, 'deleteSecret', client.deleteSecret, { tenantId: req.tenantId, name });
        if (!out.deleted) return { status: 404, body: { error: { code: 'NOT_FOUND', message: `no secret named "${name}" in this account` } } };
        return { status: 200, body: { deleted: true, name } };
      },
    },
  ];
}
