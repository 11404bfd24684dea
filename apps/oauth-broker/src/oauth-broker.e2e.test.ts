/**
 * The whole connection flow over the public HTTP API: the gateway's routes (real router, real
 * HTTP server) talk to the broker over gRPC; a real OAuth 2.0 server (oidc-provider) signs the
 * user in and redirects the browser to the gateway's callback. Then the executor's call
 * (GetOAuthToken over gRPC) gets a token that works at the provider.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { credentialsV1 } from '@codestep/contracts';
import { genericOAuth2Provider } from '@codestep/credentials-service';
import { startOAuthTestServer, type OAuthTestServer, type TestClient } from '@codestep/credentials-service/testing';
import { connectionRoutes, createRouter } from '@codestep/gateway-service';
import { createClient, serve, type GrpcServer, type PromiseClient } from '@codestep/rpc';
import { brokerHarness, type BrokerHarness } from './testing/broker-harness.ts';

describe('connections end to end over the gateway', () => {
  let gatewayUrl = '';
  let oauth: OAuthTestServer;
  let client: TestClient;
  let h: BrokerHarness;
  let grpcServer: GrpcServer;
  let executorSide: PromiseClient<credentialsV1.CredentialsClient>;
  let gatewaySide: PromiseClient<credentialsV1.CredentialsClient>;
  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async () => {};
  const http = createServer((req, res) => void handler(req, res));

  before(async () => {
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    gatewayUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    client = { clientId: 'codestep', clientSecret: 'e2e-client-secret-77', redirectUris: [`${gatewayUrl}/oauth/callback`], scope: 'contacts.read contacts.write' };
    oauth = await startOAuthTestServer({ clients: [client], scopes: ['contacts.read', 'contacts.write'] });
    h = await brokerHarness(
      [
        genericOAuth2Provider({
          id: 'acme',
          displayName: 'Acme CRM',
          authorizeUrl: oauth.authorizeUrl,
          tokenUrl: oauth.tokenUrl,
          revocationUrl: oauth.revocationUrl,
          clientId: client.clientId,
          clientSecret: client.clientSecret,
        }),
      ],
      { redirectUri: `${gatewayUrl}/oauth/callback` },
    );
    grpcServer = await serve('127.0.0.1:0', [[credentialsV1.CredentialsService, h.service.grpc]], { tls: h.pki.tls('oauth-broker') });
    gatewaySide = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${grpcServer.port}`, { tls: h.pki.tls('gateway') });
    executorSide = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${grpcServer.port}`, { tls: h.pki.tls('executor') });
    handler = createRouter(connectionRoutes(gatewaySide), { authenticate: async (key) => ({ 'key-62515': '62515', 'key-99': '99' })[key] });
  });
  after(async () => {
    gatewaySide.close();
    executorSide.close();
    await grpcServer.stop();
    await h.close();
    await oauth.close();
    await new Promise<void>((r) => {
      http.close(() => r());
      http.closeAllConnections();
    });
  });

  const api = (key: string, path: string, init: RequestInit = {}) => fetch(`${gatewayUrl}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });

  it('connects through the browser flow, serves the token to the executor, and revokes', async () => {
    const created = await api('key-62515', '/v1/connections', { method: 'POST', body: JSON.stringify({ handle: 'my-acme', provider: 'acme', scopes: ['contacts.read', 'contacts.write'] }) });
    assert.equal(created.status, 201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };

    // The user's browser: the provider signs in, asks consent, redirects to the gateway.
    const callbackUrl = await oauth.authorize(authorizeUrl);
    assert.equal(callbackUrl.origin + callbackUrl.pathname, `${gatewayUrl}/oauth/callback`);
    const page = await fetch(callbackUrl, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<h1 class="ok">Connected<\/h1>/);
    assert.equal(html.includes(callbackUrl.searchParams.get('code') ?? '-'), false);

    const shown = (await (await api('key-62515', '/v1/connections/my-acme')).json()) as Record<string, unknown>;
    assert.equal(shown.status, 'active');
    assert.deepEqual(shown.grantedScopes, ['contacts.read', 'contacts.write']);
    assert.equal(JSON.stringify(shown).toLowerCase().includes('token"'), false);
    assert.equal((await api('key-99', '/v1/connections/my-acme')).status, 404, 'another tenant does not see it');

    const token = await executorSide.getOAuthToken({
      tenantId: '62515',
      workflowId: 'wf-1',
      handle: 'my-acme',
      declaredHandles: ['my-acme'],
      executionId: 'x-1',
      grant: h.grant('62515', 'x-1', { connections: ['my-acme'] }),
    });
    assert.equal(token.error, '');
    assert.equal((await oauth.introspect(token.token, client)).active, true);

    const replay = await fetch(callbackUrl);
    assert.equal(replay.status, 400);
    assert.match(((await replay.json()) as { error: { message: string } }).error.message, /not valid or was already used/);

    const revoked = await api('key-62515', '/v1/connections/my-acme', { method: 'DELETE' });
    assert.equal(((await revoked.json()) as { status: string }).status, 'revoked');
    assert.equal((await oauth.introspect(token.token, client)).active, false);
    const after = await executorSide.getOAuthToken({
      tenantId: '62515',
      workflowId: 'wf-1',
      handle: 'my-acme',
      declaredHandles: ['my-acme'],
      executionId: 'x-2',
      grant: h.grant('62515', 'x-2', { connections: ['my-acme'] }),
    });
    assert.equal(after.errorCode, 'REVOKED');
  });

  it('shows a denied consent on the callback page and leaves the connection pending', async () => {
    const created = await api('key-62515', '/v1/connections', { method: 'POST', body: JSON.stringify({ handle: 'declined', provider: 'acme', scopes: ['contacts.read'] }) });
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    const callbackUrl = await oauth.authorize(authorizeUrl, 'deny');
    const page = await fetch(callbackUrl, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 400);
    assert.match(
      await page.text(),
      /Acme CRM did not grant access to &#34;declined&#34; \(access_denied: The user declined to grant access\)\. Nothing was connected; start connecting again to retry\./,
    );
    assert.equal(((await (await api('key-62515', '/v1/connections/declined')).json()) as { status: string }).status, 'pending');
    const again = await api('key-62515', '/v1/connections/declined/authorize', { method: 'POST' });
    assert.equal(again.status, 200);
    const retry = await oauth.authorize(((await again.json()) as { authorizeUrl: string }).authorizeUrl);
    const retried = await fetch(retry);
    assert.equal(retried.status, 200, await retried.clone().text());
    assert.equal(((await (await api('key-62515', '/v1/connections/declined')).json()) as { status: string }).status, 'active');
  });
});
