import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ACCESS_POLICY, SERVICE_IDENTITIES } from './access.policy.ts';
import { createClient, implement, serve, type GrpcServer } from './grpc.ts';
import { identityOfCertificate } from './mtls.credentials.ts';
import { testPki, type TestPki } from './testing/index.ts';

const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
const unary = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
/** Two methods of the broker's service, with JSON messages: what the policy says of them is what matters here. */
const Credentials = {
  ResolveSecrets: unary('/codestep.credentials.v1.Credentials/ResolveSecrets'),
  ListConnections: unary('/codestep.credentials.v1.Credentials/ListConnections'),
} as grpc.ServiceDefinition;
const CredentialsClient = grpc.makeGenericClientConstructor(Credentials, 'codestep.credentials.v1.Credentials') as unknown as (new (
  address: string,
  creds: grpc.ChannelCredentials,
  options?: object,
) => grpc.Client & Record<string, (...a: unknown[]) => unknown>) & { serviceName: string };
CredentialsClient.serviceName = 'codestep.credentials.v1.Credentials';

describe('internal gRPC over mutual TLS', () => {
  let pki: TestPki;
  let server: GrpcServer;
  let address: string;
  const handled: string[] = [];

  before(async () => {
    pki = await testPki();
    const handlers = {
      ResolveSecrets: async (req: { tenantId: string }) => (handled.push(`resolve ${req.tenantId}`), { values: { API_KEY: 'plaintext' } }),
      ListConnections: async (req: { tenantId: string }) => (handled.push(`list ${req.tenantId}`), { connections: [{ handle: 'crm' }] }),
    };
    server = await serve('127.0.0.1:0', [[Credentials, implement(Credentials, handlers as never)]], { tls: pki.tls('oauth-broker') });
    address = `127.0.0.1:${server.port}`;
  });
  after(() => server?.stop());

  const call = async (tls: Parameters<typeof createClient>[2]['tls'], method: 'ResolveSecrets' | 'ListConnections') => {
    const client = createClient(CredentialsClient, address, { tls, deadlineMs: 5_000 }) as unknown as Record<string, (r: unknown) => Promise<unknown>> & { close(): void };
    try {
      return await client[method]!({ tenantId: 'tnt_victim' }).then(
        (value) => ({ value }),
        (error: { code: string }) => ({ error: error.code }),
      );
    } finally {
      client.close();
    }
  };

  it('answers a caller the policy allows, and the server proves its own identity', async () => {
    handled.length = 0;
    assert.deepEqual(await call(pki.tls('executor'), 'ResolveSecrets'), { value: { values: { API_KEY: 'plaintext' } } });
    assert.deepEqual(await call(pki.tls('gateway'), 'ListConnections'), { value: { connections: [{ handle: 'crm' }] } });
    assert.deepEqual(handled, ['resolve tnt_victim', 'list tnt_victim']);
  });

  it("refuses another service's certificate with PERMISSION_DENIED before the handler runs", async () => {
    handled.length = 0;
    assert.deepEqual(await call(pki.tls('gateway'), 'ResolveSecrets'), { error: 'PERMISSION_DENIED' });
    assert.deepEqual(await call(pki.tls('executor'), 'ListConnections'), { error: 'PERMISSION_DENIED' });
    assert.deepEqual(await call(pki.tls('log'), 'ResolveSecrets'), { error: 'PERMISSION_DENIED' });
    assert.deepEqual(handled, []);
  });

  it('refuses a certificate of the CA that names no service identity with UNAUTHENTICATED', async () => {
    handled.length = 0;
    assert.deepEqual(await call(pki.anonymous, 'ResolveSecrets'), { error: 'UNAUTHENTICATED' });
    assert.deepEqual(handled, []);
  });

  it('refuses a caller with no certificate, a certificate of another CA, or no TLS at all, at the handshake', async () => {
    handled.length = 0;
    assert.deepEqual(await call(pki.foreign, 'ResolveSecrets'), { error: 'UNAVAILABLE' });
    const raw = async (creds: grpc.ChannelCredentials) => {
      const client = new CredentialsClient(address, creds, { 'grpc.ssl_target_name_override': 'oauth-broker.codestep' });
      try {
        return await new Promise((resolve) =>
          (client.ResolveSecrets as (...a: unknown[]) => void)({ tenantId: 'tnt_victim' }, { deadline: Date.now() + 5_000 }, (err: grpc.ServiceError | null, res: unknown) =>
            resolve(err ? { status: err.code } : { value: res }),
          ),
        );
      } finally {
        client.close();
      }
    };
    assert.deepEqual(await raw(grpc.credentials.createSsl(Buffer.from(pki.ca.cert))), { status: grpc.status.UNAVAILABLE });
    assert.deepEqual(await raw(grpc.credentials.createInsecure()), { status: grpc.status.UNAVAILABLE });
    assert.deepEqual(handled, []);
  });

  it('a client refuses a server that holds another identity than the one serving its service', async () => {
    const impostor = await serve('127.0.0.1:0', [[Credentials, implement(Credentials, { ResolveSecrets: async () => ({ values: { stolen: 'yes' } }), ListConnections: async () => ({}) } as never)]], {
      tls: pki.tls('gateway'),
    });
    try {
      const client = createClient(CredentialsClient, `127.0.0.1:${impostor.port}`, { tls: pki.tls('executor'), deadlineMs: 5_000 }) as unknown as Record<string, (r: unknown) => Promise<unknown>> & {
        close(): void;
      };
      await assert.rejects(client.ResolveSecrets!({ tenantId: 't', names: ['API_KEY'] }), (error: { code?: string }) => error.code === 'UNAVAILABLE');
      client.close();
    } finally {
      await impostor.stop();
    }
  });

  it('refuses to serve a method the access policy does not list', async () => {
    const extra = { ...Credentials, Backdoor: unary('/codestep.credentials.v1.Credentials/Backdoor') } as grpc.ServiceDefinition;
    await assert.rejects(
      serve('127.0.0.1:0', [[extra, implement(extra, { ResolveSecrets: async () => ({}), ListConnections: async () => ({}), Backdoor: async () => ({}) } as never)]], { tls: pki.tls('oauth-broker') }),
      /\/codestep\.credentials\.v1\.Credentials\/Backdoor is not in the access policy/,
    );
  });

  it('every certificate names exactly its identity, and the policy names only known identities', () => {
    for (const id of SERVICE_IDENTITIES) assert.equal(identityOfCertificate(pki.tls(id).cert), id);
    assert.equal(identityOfCertificate(pki.anonymous.cert), undefined);
    for (const [service, { servedBy, methods }] of Object.entries(ACCESS_POLICY)) {
      assert.ok(SERVICE_IDENTITIES.includes(servedBy), service);
      for (const callers of Object.values(methods)) for (const c of callers) assert.ok(SERVICE_IDENTITIES.includes(c), `${service}: ${c}`);
    }
  });
});
