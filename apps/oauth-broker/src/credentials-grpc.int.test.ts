/**
 * The broker over gRPC (grpc-js server and client, as the executor and the gateway use it):
 * status codes for bad requests, in-band outcomes for tokens and callbacks, tenant scoping.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentialsV1 } from '@codestep/contracts';
import { createClient, serve, type GrpcServer, type PromiseClient } from '@codestep/rpc';
import { genericOAuth2Provider, hubspotPreset } from '@codestep/credentials-service';
import { startOAuthTestServer, type OAuthTestServer, type TestClient } from '@codestep/credentials-service/testing';
import { brokerHarness, REDIRECT_URI, type BrokerHarness } from './testing/broker-harness.ts';

const client: TestClient = { clientId: 'codestep', clientSecret: 'grpc-test-client-secret', redirectUris: [REDIRECT_URI], scope: 'contacts.read' };
const A = 'portal-a';
const B = 'portal-b';

describe('Credentials over gRPC', () => {
  let oauth: OAuthTestServer;
  let h: BrokerHarness;
  let server: GrpcServer;
  let rpc: PromiseClient<credentialsV1.CredentialsClient>;
  let executorRpc: PromiseClient<credentialsV1.CredentialsClient>;

  before(async () => {
    oauth = await startOAuthTestServer({ clients: [client], scopes: ['contacts.read'] });
    h = await brokerHarness([
      genericOAuth2Provider({
        id: 'acme',
        displayName: 'Acme CRM',
        authorizeUrl: oauth.authorizeUrl,
        tokenUrl: oauth.tokenUrl,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        scopes: ['contacts.read'],
      }),
      hubspotPreset({ clientId: 'hs-platform-app', clientSecret: 'hs-platform-secret', authorizeUrl: 'http://127.0.0.1:1/oauth/authorize', tokenUrl: 'http://127.0.0.1:1/oauth/v1/token' }),
    ]);
    server = await serve('127.0.0.1:0', [[credentialsV1.CredentialsService, h.service.grpc]], { tls: h.pki.tls('oauth-broker') });
    rpc = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${server.port}`, { tls: h.pki.tls('gateway'), deadlineMs: 10_000 });
    executorRpc = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${server.port}`, { tls: h.pki.tls('executor'), deadlineMs: 10_000 });
  });
  after(async () => {
    rpc.close();
    executorRpc.close();
    await server.stop();
    await h.close();
    await oauth.close();
  });

  it('lists the providers with the HubSpot preset’s permissions', async () => {
    const { providers } = await rpc.listProviders({});
    assert.deepEqual(
      providers.map((p) => p.id),
      ['acme', 'hubspot'],
    );
    const hubspot = providers.find((p) => p.id === 'hubspot');
    assert.equal(hubspot?.permissions.length, 10);
    assert.deepEqual(hubspot?.permissions.find((p) => p.id === 'deals.write')?.scopes, ['crm.objects.deals.read', 'crm.objects.deals.write']);
  });

  it('creates a HubSpot connection whose authorize URL asks exactly the chosen permissions’ scopes', async () => {
    const out = await rpc.createConnection({ tenantId: A, handle: 'my-hubspot', provider: 'hubspot', permissions: ['contacts.write', 'files'], scopes: [] });
    const url = new URL(out.authorizeUrl);
    assert.equal(url.origin + url.pathname, 'http://127.0.0.1:1/oauth/authorize');
    assert.equal(url.searchParams.get('client_id'), 'hs-platform-app');
    assert.equal(url.searchParams.get('scope'), 'crm.objects.contacts.read crm.objects.contacts.write files');
    assert.equal(url.searchParams.get('redirect_uri'), REDIRECT_URI);
    assert.ok(url.searchParams.get('state'));
    assert.equal(out.connection?.status, 'pending');
    assert.deepEqual(out.connection?.permissions, ['contacts.write', 'files']);
    await assert.rejects(rpc.createConnection({ tenantId: A, handle: 'no-perms', provider: 'hubspot', permissions: [], scopes: [] }), {
      code: 'INVALID_ARGUMENT',
      message: /choose at least one HubSpot permission: contacts.read, contacts.write, companies.read/,
    });
  });

  it('maps bad requests to INVALID_ARGUMENT, duplicates to ALREADY_EXISTS and other tenants’ handles to NOT_FOUND', async () => {
    await assert.rejects(rpc.createConnection({ tenantId: A, handle: 'My_Hubspot', provider: 'acme', permissions: [], scopes: [] }), {
      code: 'INVALID_ARGUMENT',
      message: /lowercase letters, digits and hyphens only/,
    });
    await assert.rejects(rpc.createConnection({ tenantId: A, handle: 'my-hubspot', provider: 'hubspot', permissions: ['files'], scopes: [] }), { code: 'ALREADY_EXISTS' });
    await assert.rejects(rpc.getConnection({ tenantId: B, handle: 'my-hubspot' }), { code: 'NOT_FOUND' });
    await assert.rejects(rpc.listConnections({ tenantId: '' }), { code: 'INVALID_ARGUMENT' });
    assert.deepEqual((await rpc.listConnections({ tenantId: B })).connections, []);
  });

  it('completes an authorization and serves the token to declared handles of the same tenant only', async () => {
    const created = await rpc.createConnection({ tenantId: A, handle: 'acme-crm', provider: 'acme', permissions: [], scopes: [] });
    const callback = await oauth.authorize(created.authorizeUrl);
    const done = await rpc.completeAuthorization({ state: callback.searchParams.get('state') ?? '', code: callback.searchParams.get('code') ?? '', error: '', errorDescription: '' });
    assert.equal(done.ok, true, done.error);
    assert.equal(done.connection?.status, 'active');

    const ok = await executorRpc.getOAuthToken({
      tenantId: A,
      workflowId: 'wf-1',
      handle: 'acme-crm',
      declaredHandles: ['acme-crm'],
      executionId: 'x-1',
      grant: h.grant(A, 'x-1', { connections: ['acme-crm'] }),
    });
    assert.equal(ok.error, '');
    assert.ok(ok.token.length > 20);
    assert.ok(ok.expiresAt > Date.now());
    assert.equal((await oauth.introspect(ok.token, client)).active, true);

    const otherTenant = await executorRpc.getOAuthToken({
      tenantId: B,
      workflowId: 'wf-9',
      handle: 'acme-crm',
      declaredHandles: ['acme-crm'],
      executionId: 'x-2',
      grant: h.grant(B, 'x-2', { connections: ['acme-crm'] }),
    });
    assert.deepEqual({ ...otherTenant, error: otherTenant.error.slice(0, 40) }, { token: '', errorCode: 'NOT_FOUND', error: 'No OAuth connection named "acme-crm" exi', expiresAt: 0 });
    const undeclared = await executorRpc.getOAuthToken({
      tenantId: A,
      workflowId: 'wf-1',
      handle: 'acme-crm',
      declaredHandles: ['my-hubspot'],
      executionId: 'x-3',
      grant: h.grant(A, 'x-3', { connections: ['my-hubspot'] }),
    });
    assert.equal(undeclared.token, '');
    assert.equal(undeclared.errorCode, 'NOT_DECLARED');
    const pending = await executorRpc.getOAuthToken({
      tenantId: A,
      workflowId: 'wf-1',
      handle: 'my-hubspot',
      declaredHandles: ['my-hubspot'],
      executionId: 'x-4',
      grant: h.grant(A, 'x-4', { connections: ['my-hubspot'] }),
    });
    assert.equal(pending.errorCode, 'NOT_AUTHORIZED');
  });

  it('answers a bad callback in-band, saying what the provider said', async () => {
    const out = await rpc.completeAuthorization({ state: '', code: '', error: 'access_denied', errorDescription: 'user cancelled' });
    assert.deepEqual(out, {
      ok: false,
      connection: undefined,
      errorCode: 'INVALID_STATE',
      error: 'The provider reported: access_denied: user cancelled. This authorization link has no valid state. Start connecting again from OAuth Connections.',
    });
  });

  it('resolves only the declared secrets of the asking tenant, and never lists values', async () => {
    await rpc.putSecret({ tenantId: A, name: 'API_KEY', value: 'tenant-a-value' });
    await rpc.putSecret({ tenantId: A, name: 'OTHER', value: 'tenant-a-other' });
    await rpc.putSecret({ tenantId: B, name: 'API_KEY', value: 'tenant-b-value' });
    assert.deepEqual(
      await executorRpc.resolveSecrets({ tenantId: A, names: ['API_KEY', 'MISSING'], workflowId: 'wf-1', executionId: 'x', grant: h.grant(A, 'x', { secrets: ['API_KEY', 'MISSING'] }) }),
      { values: { API_KEY: 'tenant-a-value' }, missing: ['MISSING'] },
    );
    assert.deepEqual(await executorRpc.resolveSecrets({ tenantId: B, names: ['API_KEY', 'OTHER'], workflowId: 'wf-2', executionId: 'y', grant: h.grant(B, 'y', { secrets: ['API_KEY', 'OTHER'] }) }), {
      values: { API_KEY: 'tenant-b-value' },
      missing: ['OTHER'],
    });
    const listed = await rpc.listSecrets({ tenantId: A });
    assert.deepEqual(
      listed.secrets.map((s) => s.name),
      ['API_KEY', 'OTHER'],
    );
    assert.equal(JSON.stringify(listed).includes('tenant-a'), false);
    await assert.rejects(rpc.putSecret({ tenantId: A, name: 'bad-name', value: 'x' }), { code: 'INVALID_ARGUMENT', message: /becomes process.env.NAME/ });
    assert.deepEqual(await rpc.deleteSecret({ tenantId: B, name: 'OTHER' }), { deleted: false });
    assert.deepEqual(await rpc.deleteSecret({ tenantId: A, name: 'OTHER' }), { deleted: true });
    assert.equal(h.persistedBytes().includes('tenant-a-value'), false);
  });
});
