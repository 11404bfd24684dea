/**
 * The in-process client of embedded mode answers exactly as the same service over gRPC with
 * mutual TLS: the same access policy for the caller's identity (refused before the handler
 * runs), the same results, the same error codes and messages, the same deadline; and the callee
 * never shares an object with the caller.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ValidationError } from '@codestep/core';
import type { ServiceIdentity } from './access.policy.ts';
import { createClient, implement, serve, type GrpcServer } from './grpc.ts';
import { createLocalClient } from './local.client.ts';
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
/** Three methods of the broker's service, with JSON messages: what the policy says of them is what matters here. */
const Credentials = {
  ResolveSecrets: unary('/codestep.credentials.v1.Credentials/ResolveSecrets'),
  ListConnections: unary('/codestep.credentials.v1.Credentials/ListConnections'),
  GetConnection: unary('/codestep.credentials.v1.Credentials/GetConnection'),
} as grpc.ServiceDefinition;
type Client = grpc.Client & Record<string, (...a: unknown[]) => unknown>;
const CredentialsClient = grpc.makeGenericClientConstructor(Credentials, 'codestep.credentials.v1.Credentials') as unknown as (new (
  address: string,
  creds: grpc.ChannelCredentials,
  options?: object,
) => Client) & { serviceName: string; service: grpc.ServiceDefinition };
CredentialsClient.serviceName = 'codestep.credentials.v1.Credentials';

type Method = 'ResolveSecrets' | 'ListConnections' | 'GetConnection';
type Outcome = { value: unknown } | { error: string; message: string };

describe('in-process clients (embedded mode)', () => {
  let pki: TestPki;
  let server: GrpcServer;
  let address: string;
  const handled: string[] = [];
  const handlers = {
    ResolveSecrets: async (req: { tenantId: string; names?: string[] }) => {
      handled.push(`resolve ${req.tenantId}`);
      req.tenantId = 'changed by the callee';
      return { values: { API_KEY: 'plaintext' } };
    },
    ListConnections: async (req: { tenantId: string }) => {
      handled.push(`list ${req.tenantId}`);
      if (req.tenantId === 'bad') throw new ValidationError('tenantId "bad" is not a tenant id; send tnt_…');
      if (req.tenantId === 'bug') throw new TypeError('secret internals');
      return { connections: [{ handle: 'crm' }] };
    },
    GetConnection: () => new Promise(() => {}),
  };
  const impl = implement(Credentials, handlers as never);

  before(async () => {
    pki = await testPki();
    server = await serve('127.0.0.1:0', [[Credentials, impl]], { tls: pki.tls('oauth-broker') });
    address = `127.0.0.1:${server.port}`;
  });
  after(() => server?.stop());

  const both = async (caller: ServiceIdentity, method: Method, request: unknown, deadlineMs = 5_000): Promise<{ local: Outcome; remote: Outcome }> => {
    const remote = createClient(CredentialsClient, address, { tls: pki.tls(caller), deadlineMs }) as unknown as Record<Method, (r: unknown) => Promise<unknown>> & { close(): void; raw: grpc.Client };
    const local = createLocalClient(CredentialsClient, impl, { caller, raw: remote.raw, deadlineMs }) as unknown as Record<Method, (r: unknown) => Promise<unknown>>;
    const outcome = (p: Promise<unknown>): Promise<Outcome> =>
      p.then(
        (value) => ({ value }),
        (error: { code: string; message: string }) => ({ error: error.code, message: error.message }),
      );
    try {
      return { local: await outcome(local[method]({ ...(request as object) })), remote: await outcome(remote[method]({ ...(request as object) })) };
    } finally {
      remote.close();
    }
  };

  it('answers a caller the policy allows as over gRPC, without sharing the request or the response', async () => {
    handled.length = 0;
    const request = { tenantId: 'tnt_1', names: ['API_KEY'] };
    const { local, remote } = await both('executor', 'ResolveSecrets', request);
    assert.deepEqual(local, { value: { values: { API_KEY: 'plaintext' } } });
    assert.deepEqual(local, remote);
    assert.deepEqual(request, { tenantId: 'tnt_1', names: ['API_KEY'] }, 'what the callee did to its request is not seen by the caller');
    assert.deepEqual(handled, ['resolve tnt_1', 'resolve tnt_1']);
  });

  it("refuses another service's identity with PERMISSION_DENIED before the handler runs, with the same message", async () => {
    handled.length = 0;
    for (const [caller, method] of [
      ['gateway', 'ResolveSecrets'],
      ['executor', 'ListConnections'],
      ['log', 'ResolveSecrets'],
    ] as const) {
      const { local, remote } = await both(caller, method, { tenantId: 'tnt_victim' });
      assert.equal((local as { error: string }).error, 'PERMISSION_DENIED');
      assert.deepEqual(local, remote);
    }
    assert.deepEqual(handled, []);
  });

  it('gives the service’s errors the code and message they have over gRPC (an unexpected one stays “internal error”)', async () => {
    const refused = await both('gateway', 'ListConnections', { tenantId: 'bad' });
    assert.deepEqual(refused.local, { error: 'INVALID_ARGUMENT', message: 'tenantId "bad" is not a tenant id; send tnt_…' });
    assert.deepEqual(refused.local, refused.remote);
    const bug = await both('gateway', 'ListConnections', { tenantId: 'bug' });
    assert.equal((bug.local as { message: string }).message, 'internal error');
    assert.deepEqual(bug.local, bug.remote);
  });

  it('ends a call that outlives its deadline with the code gRPC gives it', async () => {
    const { local, remote } = await both('gateway', 'GetConnection', { tenantId: 'tnt_1' }, 200);
    assert.equal((local as { error: string }).error, (remote as { error: string }).error);
    assert.notEqual((local as { error: string }).error, undefined);
  });
});
