/**
 * The gRPC face of the broker: proto messages in, domain calls, proto messages out. Status
 * codes are mapped by `@codestep/rpc` from the errors' `code`; token and callback outcomes
 * travel in-band in their responses.
 *
 * Values leave only under an execution grant (`verifyGrant` of `@codestep/core`): ResolveSecrets
 * and GetOAuthToken check it is the enrollment service's, for the tenant and execution asked
 * about, not expired, before anything is opened; a secret name the grant does not list refuses the
 * whole request, a connection handle it does not list is NOT_DECLARED (in-band, like any handle the
 * action does not declare). Refusals are PERMISSION_DENIED and return nothing.
 */
import { credentialsV1 } from '@codestep/contracts';
import { implement } from '@codestep/rpc';
import { CodestepError, verifyGrant, type Clock, type Logger } from '@codestep/core';
import type { ConnectionView } from './connection.model.ts';
import type { CredentialsBroker } from './credentials.service.ts';

/** One async function per RPC, named as in the generated service definition. */
export interface CredentialsHandlers {
  putSecret(req: credentialsV1.PutSecretRequest): Promise<credentialsV1.SecretInfo>;
  listSecrets(req: credentialsV1.ListSecretsRequest): Promise<credentialsV1.ListSecretsResponse>;
  deleteSecret(req: credentialsV1.DeleteSecretRequest): Promise<credentialsV1.DeleteSecretResponse>;
  resolveSecrets(req: credentialsV1.ResolveSecretsRequest): Promise<credentialsV1.ResolveSecretsResponse>;
  listProviders(req: credentialsV1.ListProvidersRequest): Promise<credentialsV1.ListProvidersResponse>;
  createConnection(req: credentialsV1.CreateConnectionRequest): Promise<credentialsV1.CreateConnectionResponse>;
  startAuthorization(req: credentialsV1.StartAuthorizationRequest): Promise<credentialsV1.StartAuthorizationResponse>;
  completeAuthorization(req: credentialsV1.CompleteAuthorizationRequest): Promise<credentialsV1.CompleteAuthorizationResponse>;
  listConnections(req: credentialsV1.ListConnectionsRequest): Promise<credentialsV1.ListConnectionsResponse>;
  getConnection(req: credentialsV1.GetConnectionRequest): Promise<credentialsV1.ConnectionInfo>;
  revokeConnection(req: credentialsV1.RevokeConnectionRequest): Promise<credentialsV1.ConnectionInfo>;
  getOAuthToken(req: credentialsV1.GetOAuthTokenRequest): Promise<credentialsV1.GetOAuthTokenResponse>;
  findAccountConnection(req: credentialsV1.FindAccountConnectionRequest): Promise<credentialsV1.ConnectionInfo>;
  getConnectionToken(req: credentialsV1.GetConnectionTokenRequest): Promise<credentialsV1.GetOAuthTokenResponse>;
}

export function toConnectionInfo(v: ConnectionView): credentialsV1.ConnectionInfo {
  return {
    tenantId: v.tenantId,
    handle: v.handle,
    provider: v.provider,
    scopes: v.scopes,
    permissions: v.permissions,
    status: v.status,
    statusReason: v.statusReason,
    grantType: v.grantType,
    grantedScopes: v.grantedScopes,
    createdAt: v.createdAt,
    authorizedAt: v.authorizedAt ?? 0,
    expiresAt: v.expiresAt ?? 0,
    refreshedAt: v.refreshedAt ?? 0,
    accountId: v.accountId,
  };
}

/** How the handlers check execution grants: the key the enrollment service signs with, and the time. */
export interface GrantCheck {
  key: Uint8Array;
  clock: Clock;
}

export function credentialsHandlers(broker: CredentialsBroker, grants: GrantCheck): CredentialsHandlers {
  const granted = (req: { tenantId: string; executionId: string; grant?: string | undefined }) =>
    verifyGrant(grants.key, req.grant, { tenantId: req.tenantId, executionId: req.executionId, now: grants.clock() });
  return {
    putSecret: async (req) => broker.putSecret(req),
    listSecrets: async (req) => ({ secrets: await broker.listSecrets(req.tenantId) }),
    deleteSecret: async (req) => ({ deleted: await broker.deleteSecret(req) }),
    resolveSecrets: async (req) => {
      const grant = granted(req);
      const outside = req.names.filter((name) => !grant.secrets.includes(name));
      if (outside.length) throw new CodestepError('PERMISSION_DENIED', `execution grant refused: it does not cover secret(s) ${outside.join(', ')}`);
      return broker.resolveSecrets(req);
    },
    listProviders: async () => ({
      providers: broker.listProviders().map((p) => ({
        id: p.id,
        displayName: p.displayName,
        grantType: p.grantType,
        defaultScopes: [...p.defaultScopes],
        permissions: p.permissions.map((x) => ({ id: x.id, resource: x.resource, operation: x.operation, scopes: [...x.scopes] })),
      })),
    }),
    createConnection: async (req) => {
      const { connection, authorizeUrl } = await broker.createConnection(req);
      return { connection: toConnectionInfo(connection), authorizeUrl };
    },
    startAuthorization: async (req) => {
      const r = await broker.startAuthorization(req);
      return { authorizeUrl: r.authorizeUrl, stateExpiresAt: r.stateExpiresAt, connection: toConnectionInfo(r.connection) };
    },
    completeAuthorization: async (req) => {
      const r = await broker.completeAuthorization({ state: req.state, code: req.code, error: req.error, errorDescription: req.errorDescription });
      if (r.ok) return { ok: true, connection: toConnectionInfo(r.connection), errorCode: '', error: '' };
      return { ok: false, connection: r.connection ? toConnectionInfo(r.connection) : undefined, errorCode: r.errorCode, error: r.error };
    },
    listConnections: async (req) => ({ connections: (await broker.listConnections(req.tenantId)).map(toConnectionInfo) }),
    getConnection: async (req) => toConnectionInfo(await broker.getConnection(req)),
    revokeConnection: async (req) => toConnectionInfo(await broker.revokeConnection(req)),
    getOAuthToken: async (req) => {
      const grant = granted(req);
      const r = await broker.getOAuthToken({ ...req, declaredHandles: req.declaredHandles.filter((h) => grant.connections.includes(h)) });
      return r.ok ? { token: r.token, error: '', errorCode: '', expiresAt: r.expiresAt ?? 0 } : { token: '', error: r.error, errorCode: r.errorCode, expiresAt: 0 };
    },
    findAccountConnection: async (req) => toConnectionInfo(await broker.findAccountConnection(req)),
    getConnectionToken: async (req) => {
      const r = await broker.getConnectionToken(req);
      return r.ok ? { token: r.token, error: '', errorCode: '', expiresAt: r.expiresAt ?? 0 } : { token: '', error: r.error, errorCode: r.errorCode, expiresAt: 0 };
    },
  };
}

/** The grpc-js service implementation (tracing and status mapping from `@codestep/rpc`). */
export function credentialsServer(handlers: CredentialsHandlers, logger?: Logger): credentialsV1.CredentialsServer {
  return implement(credentialsV1.CredentialsService, handlers as unknown as Parameters<typeof implement>[1], (method, error) =>
    // Unexpected errors only (CodestepErrors are the caller's); their messages are not logged,
    // in case a lower layer put something sensitive in one.
    logger?.error({ method, error: { name: error instanceof Error ? error.name : typeof error } }, 'rpc failed'),
  ) as credentialsV1.CredentialsServer;
}
