/**
 * The connection, callback and secret routes over HTTP, against a gRPC Credentials server whose
 * answers each test scripts: what reaches the broker, what the user sees, and how errors map.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { credentialsV1 } from '@codestep/contracts';
import { ConflictError, NotFoundError } from '@codestep/core';
import { createClient, grpc, implement, serve, type GrpcServer } from '@codestep/rpc';
import { testPki } from '@codestep/rpc/testing';
import { connectionRoutes } from './connections.routes.ts';
import { createRouter } from './router.ts';

const connection = (over: Partial<credentialsV1.ConnectionInfo> = {}): credentialsV1.ConnectionInfo => ({
  tenantId: 'tenant-a',
  handle: 'my-hubspot',
  provider: 'hubspot',
  scopes: ['crm.objects.contacts.read'],
  permissions: ['contacts.read'],
  status: 'pending',
  statusReason: '',
  grantType: 'authorization_code',
  grantedScopes: [],
  createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  authorizedAt: 0,
  expiresAt: 0,
  refreshedAt: 0,
  accountId: '',
  ...over,
});

type Handlers = Record<string, (req: never) => Promise<unknown>>;

describe('connection routes', () => {
  const calls: Array<{ method: string; req: unknown }> = [];
  let script: Handlers = {};
  let grpcServer: GrpcServer;
  let rawClient: credentialsV1.CredentialsClient;
  let http: Server;
  let base = '';

  before(async () => {
    const handlers: Handlers = {};
    for (const name of Object.keys(credentialsV1.CredentialsService)) {
      handlers[name] = async (req: never) => {
        calls.push({ method: name, req });
        const fn = script[name];
        if (!fn) throw new Error(`unscripted call ${name}`);
        return fn(req);
      };
    }
    const pki = await testPki();
    grpcServer = await serve('127.0.0.1:0', [[credentialsV1.CredentialsService, implement(credentialsV1.CredentialsService, handlers)]], { tls: pki.tls('oauth-broker') });
    rawClient = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${grpcServer.port}`, { tls: pki.tls('gateway') }).raw;
    const router = createRouter(connectionRoutes(rawClient), { authenticate: async (key) => (key === 'key-a' ? 'tenant-a' : undefined) });
    http = createServer((req, res) => void router(req, res));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    calls.length = 0;
    script = {};
  });
  after(async () => {
    rawClient.close();
    await grpcServer.stop();
    await new Promise<void>((r) => http.close(() => r()));
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { authorization: 'Bearer key-a', 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });

  it('creates a connection for the API key’s tenant and returns the authorize URL', async () => {
    script.createConnection = async () => ({ connection: connection(), authorizeUrl: 'https://app.hubspot.com/oauth/authorize?state=abc' });
    const res = await api('/v1/connections', { method: 'POST', body: JSON.stringify({ tenantId: 'someone-else', handle: 'my-hubspot', provider: 'hubspot', permissions: ['contacts.read'] }) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), '/v1/connections/my-hubspot');
    assert.deepEqual(await res.json(), {
      handle: 'my-hubspot',
      authorizeUrl: 'https://app.hubspot.com/oauth/authorize?state=abc',
      connection: {
        handle: 'my-hubspot',
        provider: 'hubspot',
        status: 'pending',
        statusReason: null,
        grantType: 'authorization_code',
        scopes: ['crm.objects.contacts.read'],
        permissions: ['contacts.read'],
        grantedScopes: [],
        createdAt: '2026-01-02T03:04:05.000Z',
        authorizedAt: null,
        expiresAt: null,
        refreshedAt: null,
        accountId: null,
      },
    });
    assert.deepEqual(calls, [{ method: 'createConnection', req: { tenantId: 'tenant-a', handle: 'my-hubspot', provider: 'hubspot', permissions: ['contacts.read'], scopes: [] } }]);
  });

  it('refuses bodies without a handle or with non-string permissions before calling the broker', async () => {
    const missing = await api('/v1/connections', { method: 'POST', body: JSON.stringify({ provider: 'hubspot' }) });
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { error: { code: 'INVALID_ARGUMENT', message: '"handle" is required: lowercase letters, digits and hyphens, e.g. my-hubspot' } });
    const bad = await api('/v1/connections', { method: 'POST', body: JSON.stringify({ handle: 'x', provider: 'hubspot', permissions: 'contacts.read' }) });
    assert.equal(bad.status, 400);
    assert.equal(calls.length, 0);
  });

  it('maps the broker’s errors to HTTP statuses with its message', async () => {
    script.createConnection = async () => {
      throw new ConflictError('a connection named "my-hubspot" already exists in this account');
    };
    const dup = await api('/v1/connections', { method: 'POST', body: JSON.stringify({ handle: 'my-hubspot', provider: 'hubspot' }) });
    assert.equal(dup.status, 409);
    assert.deepEqual(await dup.json(), { error: { code: 'ALREADY_EXISTS', message: 'a connection named "my-hubspot" already exists in this account' } });
    script.getConnection = async () => {
      throw new NotFoundError('no connection named "nope" in this account');
    };
    const missing = await api('/v1/connections/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(calls.at(-1), { method: 'getConnection', req: { tenantId: 'tenant-a', handle: 'nope' } });
  });

  it('lists, reconnects and revokes connections of the caller’s tenant', async () => {
    script.listConnections = async () => ({ connections: [connection({ status: 'active', expiresAt: Date.UTC(2026, 0, 2, 4, 0, 0) })] });
    const list = (await (await api('/v1/connections')).json()) as { connections: Array<Record<string, unknown>> };
    assert.equal(list.connections[0]?.expiresAt, '2026-01-02T04:00:00.000Z');
    script.startAuthorization = async () => ({ authorizeUrl: 'https://p/authorize?state=s2', stateExpiresAt: Date.UTC(2026, 0, 2, 3, 14, 5), connection: connection({ status: 'needs_reauth' }) });
    const again = await api('/v1/connections/my-hubspot/authorize', { method: 'POST' });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { authorizeUrl: string }).authorizeUrl, 'https://p/authorize?state=s2');
    script.revokeConnection = async () => connection({ status: 'revoked', statusReason: 'revoked by a user' });
    const revoked = await api('/v1/connections/my-hubspot', { method: 'DELETE' });
    assert.deepEqual([revoked.status, ((await revoked.json()) as { status: string }).status], [200, 'revoked']);
    assert.deepEqual(
      calls.map((c) => [c.method, (c.req as { tenantId: string }).tenantId]),
      [
        ['listConnections', 'tenant-a'],
        ['startAuthorization', 'tenant-a'],
        ['revokeConnection', 'tenant-a'],
      ],
    );
    assert.equal((await fetch(`${base}/v1/connections`)).status, 401, 'an API key is required');
  });

  it('finishes the authorization on the public callback and shows a plain page without the code', async () => {
    script.completeAuthorization = async () => ({ ok: true, connection: connection({ status: 'active' }), errorCode: '', error: '' });
    const res = await fetch(`${base}/oauth/callback?code=secret-code-123&state=st-1`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const page = await res.text();
    assert.match(page, /<h1 class="ok">Connected<\/h1><p>The connection &#34;my-hubspot&#34; is authorized\. Workflows can use it with api\.getOAuthToken\(&#39;my-hubspot&#39;\)\.<\/p>/);
    assert.equal(page.includes('secret-code-123'), false);
    assert.deepEqual(calls, [{ method: 'completeAuthorization', req: { state: 'st-1', code: 'secret-code-123', error: '', errorDescription: '' } }]);
  });

  it('shows a provider’s refusal plainly, escaped, as HTML or JSON', async () => {
    const message = 'HubSpot did not grant access to "my-hubspot" (access_denied: <script>alert(1)</script>). Nothing was connected; start connecting again to retry.';
    script.completeAuthorization = async () => ({ ok: false, connection: connection(), errorCode: 'PROVIDER_DENIED', error: message });
    const html = await fetch(`${base}/oauth/callback?error=access_denied&error_description=%3Cscript%3E&state=st`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(html.status, 400);
    const page = await html.text();
    assert.equal(page.includes('<script>'), false);
    assert.match(page, /access_denied: &#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    const json = await fetch(`${base}/oauth/callback?error=access_denied&state=st`);
    assert.equal(json.status, 400);
    assert.deepEqual(await json.json(), { ok: false, error: { message, code: 'PROVIDER_DENIED' } });
    script.completeAuthorization = async () => ({ ok: false, connection: connection(), errorCode: 'PROVIDER_UNAVAILABLE', error: 'HubSpot could not be reached' });
    assert.equal((await fetch(`${base}/oauth/callback?code=c&state=st`)).status, 502);
  });

  it('escapes user text on the callback page: a handle or a provider message shaped like an image tag is shown as text', async () => {
    const tag = '<img src=x onerror=alert(1)>';
    script.completeAuthorization = async () => ({ ok: true, connection: connection({ handle: tag, status: 'active' }), errorCode: '', error: '' });
    const connected = await (await fetch(`${base}/oauth/callback?code=c&state=st`, { headers: { accept: 'text/html' } })).text();
    assert.equal(connected.includes('<img'), false);
    assert.match(connected, /The connection &#34;&#60;img src=x onerror=alert\(1\)&#62;&#34; is authorized/);
    script.completeAuthorization = async () => ({ ok: false, connection: connection(), errorCode: 'PROVIDER_DENIED', error: `refused: ${tag}` });
    const refused = await (await fetch(`${base}/oauth/callback?error=access_denied&state=st`, { headers: { accept: 'text/html' } })).text();
    assert.equal(refused.includes('<img'), false);
    assert.match(refused, /refused: &#60;img src=x onerror=alert\(1\)&#62;/);
  });

  it('answers the callback with a page, not an error, when the broker is down', async () => {
    const down = new credentialsV1.CredentialsClient('127.0.0.1:1', grpc.credentials.createInsecure());
    const router = createRouter(connectionRoutes(down), { authenticate: async () => undefined });
    const server = createServer((req, res) => void router(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/callback?code=c&state=s`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { ok: false, error: { message: 'The connection service is not reachable right now. Start connecting again in a moment.', code: 'UNAVAILABLE' } });
    } finally {
      down.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('sets, lists and deletes secrets, never returning a value', async () => {
    script.putSecret = async () => ({ name: 'API_KEY', updatedAt: Date.UTC(2026, 0, 1) });
    const put = await api('/v1/secrets/API_KEY', { method: 'PUT', body: JSON.stringify({ value: 's3cr3t' }) });
    assert.deepEqual(await put.json(), { name: 'API_KEY', updatedAt: '2026-01-01T00:00:00.000Z' });
    assert.deepEqual(calls.at(-1), { method: 'putSecret', req: { tenantId: 'tenant-a', name: 'API_KEY', value: 's3cr3t' } });
    assert.equal((await api('/v1/secrets/API_KEY', { method: 'PUT', body: JSON.stringify({ value: 42 }) })).status, 400);
    script.listSecrets = async () => ({ secrets: [{ name: 'API_KEY', updatedAt: Date.UTC(2026, 0, 1) }] });
    assert.deepEqual(await (await api('/v1/secrets')).json(), { secrets: [{ name: 'API_KEY', updatedAt: '2026-01-01T00:00:00.000Z' }], nextCursor: null });
    script.deleteSecret = async () => ({ deleted: false });
    assert.equal((await api('/v1/secrets/NOPE', { method: 'DELETE' })).status, 404);
    script.deleteSecret = async () => ({ deleted: true });
    assert.deepEqual(await (await api('/v1/secrets/API_KEY', { method: 'DELETE' })).json(), { deleted: true, name: 'API_KEY' });
  });

  it('pages the secrets by name with a cursor, and refuses a bad limit or cursor naming the parameter', async () => {
    script.listSecrets = async () => ({ secrets: ['E', 'A', 'D', 'C', 'B'].map((name) => ({ name, updatedAt: 0 })) });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await api(`/v1/secrets?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json()) as { secrets: Array<{ name: string }>; nextCursor: string | null };
      names.push(...page.secrets.map((x) => x.name));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(names, ['A', 'B', 'C', 'D', 'E']);
    const all = (await (await api('/v1/secrets')).json()) as { secrets: unknown[]; nextCursor: string | null };
    assert.deepEqual([all.secrets.length, all.nextCursor], [5, null]);
    for (const [query, parameter] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=%25%25', 'cursor'],
    ]) {
      const res = await api(`/v1/secrets?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, new RegExp(`"${parameter}"`));
    }
  });

  it('leaves the secret routes out on request', () => {
    const paths = connectionRoutes(rawClient, { secrets: false }).map((r) => `${r.method} ${r.path}`);
    assert.equal(
      paths.some((p) => p.includes('/v1/secrets')),
      false,
    );
    assert.ok(paths.includes('GET /oauth/callback'));
  });
});
