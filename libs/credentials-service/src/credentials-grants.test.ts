/**
 * The broker over real gRPC with mutual TLS: secrets and tokens leave only to an executor's
 * certificate, and only under an execution grant for that tenant and execution, naming what is
 * asked, not expired. Every refusal returns nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { credentialsV1 } from '@codestep/contracts';
import { signGrant, silentLogger, type ExecutionGrant } from '@codestep/core';
import { createClient, serve, type GrpcServer, type PromiseClient } from '@codestep/rpc';
import { testPki } from '@codestep/rpc/testing';
import { SqliteStore } from '@codestep/store-sqlite';
import { createCredentialsService } from './index.ts';
import { memoryEventLog } from './testing/memory-ports.ts';

const TENANT = 'tnt_victim';
const grantKey = randomBytes(32);
const NOW = Date.now();

function grant(overrides: Partial<ExecutionGrant> = {}, key: Uint8Array = grantKey): string {
  return signGrant(key, { tenantId: TENANT, executionId: 'exe_1', secrets: ['API_KEY'], connections: ['crm'], expiresAt: NOW + 60_000, ...overrides });
}

describe('Credentials over mutual TLS, under execution grants', () => {
  let server: GrpcServer;
  let executor: PromiseClient<credentialsV1.CredentialsClient>;
  let gateway: PromiseClient<credentialsV1.CredentialsClient>;
  const store = new SqliteStore({ path: ':memory:' });

  before(async () => {
    const pki = await testPki();
    const service = await createCredentialsService({
      store,
      eventLog: memoryEventLog(),
      masterKey: randomBytes(32),
      grantKey,
      providers: [],
      redirectUri: 'http://127.0.0.1:8080/oauth/callback',
      clock: () => NOW,
      logger: silentLogger,
    });
    server = await serve('127.0.0.1:0', [[credentialsV1.CredentialsService, service.grpc]], { tls: pki.tls('oauth-broker') });
    executor = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${server.port}`, { tls: pki.tls('executor') });
    gateway = createClient(credentialsV1.CredentialsClient, `127.0.0.1:${server.port}`, { tls: pki.tls('gateway') });
    await gateway.putSecret({ tenantId: TENANT, name: 'API_KEY', value: 'the-plaintext-value' });
    await gateway.putSecret({ tenantId: TENANT, name: 'OTHER', value: 'another-plaintext' });
  });
  after(async () => {
    executor?.close();
    gateway?.close();
    await server?.stop();
    await store.close();
  });

  const outcome = <T>(p: Promise<T>): Promise<{ value?: T; error?: string; message?: string }> =>
    p.then(
      (value) => ({ value }),
      (error: { code: string; message: string }) => ({ error: error.code, message: error.message }),
    );
  const resolve = (client: PromiseClient<credentialsV1.CredentialsClient>, names: string[], g: string | undefined, executionId = 'exe_1') =>
    outcome(client.resolveSecrets({ tenantId: TENANT, names, workflowId: 'wf_1', executionId, ...(g === undefined ? {} : { grant: g }) }));

  it('gives an executor the secrets its grant names', async () => {
    assert.deepEqual(await resolve(executor, ['API_KEY'], grant()), { value: { values: { API_KEY: 'the-plaintext-value' }, missing: [] } });
  });

  it("refuses the gateway's certificate with PERMISSION_DENIED, even with a valid grant", async () => {
    const r = await resolve(gateway, ['API_KEY'], grant());
    assert.equal(r.error, 'PERMISSION_DENIED');
    assert.equal(r.value, undefined);
  });

  it('refuses an executor without a valid grant with PERMISSION_DENIED, saying why', async () => {
    const cases: Array<[string, Promise<{ error?: string; message?: string; value?: unknown }>, RegExp]> = [
      ['no grant', resolve(executor, ['API_KEY'], undefined), /carries none/],
      ['an expired grant', resolve(executor, ['API_KEY'], grant({ expiresAt: NOW - 1 })), /expired/],
      ["another execution's grant", resolve(executor, ['API_KEY'], grant(), 'exe_2'), /another execution/],
      ["another tenant's grant", resolve(executor, ['API_KEY'], grant({ tenantId: 'tnt_attacker' })), /another tenant/],
      ['a name the grant does not list', resolve(executor, ['API_KEY', 'OTHER'], grant()), /does not cover secret\(s\) OTHER/],
      ['a grant signed with another key', resolve(executor, ['API_KEY'], grant({}, randomBytes(32))), /signature does not verify/],
    ];
    for (const [what, pending, message] of cases) {
      const r = await pending;
      assert.equal(r.error, 'PERMISSION_DENIED', what);
      assert.match(r.message ?? '', message, what);
      assert.equal(r.value, undefined, what);
    }
  });

  it('refuses GetOAuthToken without a valid grant, and treats a handle outside the grant as undeclared', async () => {
    const token = (g: string | undefined, handle = 'crm') =>
      outcome(executor.getOAuthToken({ tenantId: TENANT, workflowId: 'wf_1', handle, declaredHandles: [handle], executionId: 'exe_1', ...(g === undefined ? {} : { grant: g }) }));
    assert.equal((await token(undefined)).error, 'PERMISSION_DENIED');
    assert.equal((await token(grant({ expiresAt: NOW - 1 }))).error, 'PERMISSION_DENIED');
    assert.equal((await token(grant({ executionId: 'exe_2' }))).error, 'PERMISSION_DENIED');
    const outside = await token(grant(), 'other-crm');
    assert.deepEqual([outside.value?.token, outside.value?.errorCode], ['', 'NOT_DECLARED']);
    // Within the grant, the broker goes on to the connection (none by that name here).
    const inside = await token(grant());
    assert.deepEqual([inside.value?.token, inside.value?.errorCode], ['', 'NOT_FOUND']);
    const fromGateway = await outcome(gateway.getOAuthToken({ tenantId: TENANT, workflowId: 'wf_1', handle: 'crm', declaredHandles: ['crm'], executionId: 'exe_1', grant: grant() }));
    assert.equal(fromGateway.error, 'PERMISSION_DENIED');
  });

  it("refuses an executor's certificate on the gateway's methods (listing connections, managing secrets)", async () => {
    assert.equal((await outcome(executor.listConnections({ tenantId: TENANT }))).error, 'PERMISSION_DENIED');
    assert.equal((await outcome(executor.listSecrets({ tenantId: TENANT }))).error, 'PERMISSION_DENIED');
    assert.equal((await outcome(executor.putSecret({ tenantId: TENANT, name: 'API_KEY', value: 'overwritten' }))).error, 'PERMISSION_DENIED');
    assert.deepEqual(await resolve(executor, ['API_KEY'], grant()), { value: { values: { API_KEY: 'the-plaintext-value' }, missing: [] } });
  });
});
