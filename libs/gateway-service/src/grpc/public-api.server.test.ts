import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { publicV1, workflowsV1, type historyV1 } from '@codestep/contracts';
import { NotFoundError, ValidationError, isCodestepError, silentLogger } from '@codestep/core';
import { createClient, createLocalClient, grpc, serve, type GrpcServer, type PromiseClient } from '@codestep/rpc';
import { testPki } from '@codestep/rpc/testing';
import type { ApiClients } from '../api.routes.ts';
import type { Route, RouteRequest } from '../router.ts';
import { startPublicGrpc, type PublicGrpcServer } from './public-api.server.ts';
import { statusDetailsOf } from './public-api.status.ts';

const ROUTES = [
  ['POST', '/v1/workflows/:id/enrollments'],
  ['POST', '/v1/workflows/:id/enrollments:batch'],
  ['GET', '/v1/enrollment-batches/:id'],
  ['GET', '/v1/enrollments/:id'],
  ['GET', '/v1/enrollments'],
  ['GET', '/v1/executions/:id'],
  ['POST', '/v1/workflows'],
  ['PUT', '/v1/workflows/:id'],
  ['GET', '/v1/workflows/:id'],
  ['GET', '/v1/workflows'],
  ['POST', '/v1/workflows/:id/enable'],
  ['POST', '/v1/workflows/:id/disable'],
  ['DELETE', '/v1/workflows/:id'],
] as const;

describe('the public gRPC server', () => {
  let server: PublicGrpcServer;
  let client: publicV1.CodestepApiClient;
  const called: Array<{ route: string; req: RouteRequest }> = [];
  let enroll: (req: RouteRequest) => Promise<unknown> = async () => ({ id: 'enr_1', workflowVersion: 1, status: 'running' });
  let authDelayMs = 0;
  let authenticated: () => void = () => {};
  const tail = new EventEmitter() as EventEmitter & { cancel(): void };
  let tailOpened: () => void = () => {};
  const errors: unknown[] = [];

  const metadata = () => {
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer csk_good');
    return md;
  };
  const enrollCall = (deadlineMs = 10_000) =>
    new Promise<{ error: grpc.ServiceError | null; res: publicV1.EnrollResponse | undefined }>((resolve) =>
      client.enroll(
        { workflowId: 'wf_1', object: { objectType: 'CONTACT', objectId: '1', properties: {} }, requestId: '', dryRun: false },
        metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, res) => resolve({ error, res }),
      ),
    );

  before(async () => {
    const pki = await testPki();
    const routes: Route[] = ROUTES.map(([method, path]) => ({
      method,
      path,
      auth: 'tenant',
      handle: async (req) => {
        called.push({ route: `${method} ${path}`, req });
        return { status: 200, body: path === '/v1/workflows/:id/enrollments' ? await enroll(req) : {} };
      },
    }));
    tail.cancel = () => tail.emit('error', Object.assign(new Error('cancelled'), { code: grpc.status.CANCELLED }));
    server = await startPublicGrpc({
      address: '127.0.0.1:0',
      tls: pki.tls('gateway'),
      routes,
      tenants: {
        authenticate: async (key) => {
          await new Promise((r) => setTimeout(r, authDelayMs));
          authenticated();
          return key === 'csk_good' ? 'tnt_a' : undefined;
        },
      },
      clients: {
        historyRaw: {
          tail: () => {
            tailOpened();
            return tail;
          },
        } as unknown as ApiClients['historyRaw'],
      },
      logger: { ...silentLogger, error: (fields: unknown) => void errors.push(fields) } as typeof silentLogger,
    });
    const caller = pki.tls('executor');
    client = new publicV1.CodestepApiClient(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createSsl(Buffer.from(caller.ca), Buffer.from(caller.key), Buffer.from(caller.cert), { checkServerIdentity: () => undefined }),
      { 'grpc.ssl_target_name_override': 'gateway.codestep' },
    );
  });

  after(async () => {
    client.close();
    await server.stop();
  });

  it("calls the HTTP route's handler with the tenant of the key, the path parameter and the body", async () => {
    called.length = 0;
    const { error, res } = await enrollCall();
    assert.equal(error, null);
    assert.equal(res?.enrollmentId, 'enr_1');
    assert.equal(called.length, 1);
    assert.equal(called[0]!.req.tenantId, 'tnt_a');
    assert.equal(called[0]!.req.params.id, 'wf_1');
    assert.deepEqual(called[0]!.req.body, { object: { objectType: 'CONTACT', objectId: '1', properties: {} } });
  });

  it('starts no command for a call whose deadline passed while it was being authenticated', async () => {
    called.length = 0;
    authDelayMs = 400;
    const authDone = new Promise<void>((r) => (authenticated = r));
    try {
      const { error } = await enrollCall(100);
      assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
      await authDone;
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(called, [], 'the enroll route never ran');
    } finally {
      authDelayMs = 0;
      authenticated = () => {};
    }
  });

  it('sends a refusal of the catalogue with its status, an ErrorInfo, and a BadRequest only when the error names a field', async () => {
    enroll = async () => {
      throw new ValidationError('object.objectId is required', { field: 'object.objectId' });
    };
    const named = (await enrollCall()).error!;
    assert.equal(named.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(statusDetailsOf(named)?.badRequest?.fieldViolations, [{ field: 'object.object_id', description: 'object.objectId is required' }]);
    assert.equal(statusDetailsOf(named)?.errorInfo?.reason, 'INVALID_ARGUMENT');

    enroll = async () => {
      throw new ValidationError('something is off');
    };
    const unnamed = (await enrollCall()).error!;
    assert.equal(unnamed.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(statusDetailsOf(unnamed)?.badRequest, undefined);

    enroll = async () => {
      throw new NotFoundError('workflow wf_1 not found');
    };
    const missing = (await enrollCall()).error!;
    assert.equal(missing.code, grpc.status.NOT_FOUND);
    assert.equal(missing.details, 'workflow wf_1 not found');
    assert.equal(missing.metadata.get('codestep-code')[0], 'NOT_FOUND');
  });

  it('answers an unexpected error as INTERNAL without its message, and logs it', async () => {
    enroll = async () => {
      throw new Error('the store said something private');
    };
    errors.length = 0;
    const { error } = await enrollCall();
    assert.equal(error?.code, grpc.status.INTERNAL);
    assert.doesNotMatch(error!.details, /private/);
    assert.equal(errors.length, 1);
    enroll = async () => ({ id: 'enr_1', workflowVersion: 1, status: 'running' });
  });

  it("sends its headers once the history's tail is subscribed, streams the tenant's tail events, and ends with CANCELLED when the caller cancels", async () => {
    const opened = new Promise<void>((resolve) => (tailOpened = resolve));
    const received: string[] = [];
    const events: publicV1.HistoryEvent[] = [];
    const call = client.streamHistory({ workflowId: '', enrollmentId: '' }, metadata());
    const headers = new Promise<void>((resolve) => call.once('metadata', () => (received.push('headers'), resolve())));
    const first = new Promise<void>((resolve) => call.on('data', (e: publicV1.HistoryEvent) => (received.push('event'), events.push(e), resolve())));
    const ended = new Promise<number>((resolve) => call.on('error', (e: grpc.ServiceError) => resolve(e.code)));
    await opened;
    // The tail call is open but has not said it is subscribed (its headers): neither has the stream.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(received, []);
    tail.emit('metadata', new grpc.Metadata());
    await headers;
    // Subscribed: one event is enough.
    const event: historyV1.TailEvent = { type: 'log', enrollmentId: 'enr_1', executionId: 'exe_1', line: { level: 'log', message: 'hi', at: 1_700_000_000_000 }, status: '' };
    tail.emit('data', event);
    await first;
    assert.deepEqual(received, ['headers', 'event']);
    assert.equal(events[0]!.line?.message, 'hi');
    assert.equal(events[0]!.line?.at?.getTime(), 1_700_000_000_000);
    call.cancel();
    assert.equal(await ended, grpc.status.CANCELLED);
  });
});

describe("the public gRPC server passes the caller's deadline to the internal calls behind a call", () => {
  let server: PublicGrpcServer;
  let internal: GrpcServer;
  let client: publicV1.CodestepApiClient;
  let workflows: Record<'over gRPC' | 'in process', PromiseClient<workflowsV1.WorkflowsClient>>;
  /** The deadline each internal call was given, as the workflows service saw it; that service never answers. */
  const internalDeadlines: number[] = [];
  let transport: keyof typeof workflows = 'over gRPC';
  let internalOutcome: Promise<string> = Promise.resolve('');

  before(async () => {
    const pki = await testPki();
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(workflowsV1.WorkflowsService)) {
      impl[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>) => {
        const at = call.getDeadline();
        internalDeadlines.push(at instanceof Date ? at.getTime() : at);
      }) as grpc.handleUnaryCall<unknown, unknown>;
    }
    internal = await serve('127.0.0.1:0', [[workflowsV1.WorkflowsService, impl]], { tls: pki.tls('enrollment') });
    // Both with the default deadline of 10 s.
    const overGrpc = createClient(workflowsV1.WorkflowsClient, `127.0.0.1:${internal.port}`, { tls: pki.tls('gateway') });
    workflows = { 'over gRPC': overGrpc, 'in process': createLocalClient(workflowsV1.WorkflowsClient, impl, { caller: 'gateway', raw: overGrpc.raw }) };
    const routes: Route[] = ROUTES.map(([method, path]) => ({
      method,
      path,
      auth: 'tenant',
      handle: async () => {
        // As GET /v1/workflows/:id does: a call to the workflows service.
        internalOutcome = workflows[transport].getWorkflow(workflowsV1.GetWorkflowRequest.fromPartial({ tenantId: 'tnt_a', workflowId: 'wf_1' })).then(
          () => 'answered',
          (e: unknown) => (isCodestepError(e) ? e.code : String(e)),
        );
        await internalOutcome;
        return { status: 200, body: {} };
      },
    }));
    server = await startPublicGrpc({
      address: '127.0.0.1:0',
      tls: pki.tls('gateway'),
      routes,
      tenants: { authenticate: async (key) => (key === 'csk_good' ? 'tnt_a' : undefined) },
      clients: { historyRaw: {} as ApiClients['historyRaw'] },
      logger: silentLogger,
    });
    const caller = pki.tls('executor');
    client = new publicV1.CodestepApiClient(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createSsl(Buffer.from(caller.ca), Buffer.from(caller.key), Buffer.from(caller.cert), { checkServerIdentity: () => undefined }),
      { 'grpc.ssl_target_name_override': 'gateway.codestep' },
    );
  });

  after(async () => {
    client.close();
    workflows['over gRPC'].close();
    await server.stop();
    await internal.stop();
  });

  for (const via of ['over gRPC', 'in process'] as const) {
    it(`ends a call with DEADLINE_EXCEEDED, its internal call (${via}) given the caller's deadline instead of its own 10 s`, async () => {
      transport = via;
      internalDeadlines.length = 0;
      const deadline = Date.now() + 500;
      const md = new grpc.Metadata();
      md.set('authorization', 'Bearer csk_good');
      const error = await new Promise<grpc.ServiceError | null>((resolve) => client.getWorkflow({ workflowId: 'wf_1', version: 0 }, md, { deadline }, (e) => resolve(e)));
      assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(await internalOutcome, 'DEADLINE_EXCEEDED', 'the internal call ended on its deadline');
      assert.equal(internalDeadlines.length, 1);
      // A deadline crosses each gRPC hop as a timeout (grpc-timeout), so a hop sees it later by the
      // time the request took to reach it: within a second of the caller's, never 10 s away.
      assert.ok(internalDeadlines[0]! <= deadline + 1_000, `the internal call's deadline is ${internalDeadlines[0]! - deadline} ms after the caller's`);
    });
  }
});

describe('the public gRPC server stopping', () => {
  /** A server whose enroll route waits for `release` (or for its signal, answering what it has), and a client of it. */
  async function started(drainMs: number) {
    const pki = await testPki();
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const inFlight = new Promise<void>((r) => (entered = r));
    const routes: Route[] = ROUTES.map(([method, path]) => ({
      method,
      path,
      auth: 'tenant',
      handle: async (req) => {
        entered();
        await new Promise<void>((resolve) => {
          release = resolve;
          req.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        req.signal?.throwIfAborted();
        return { status: 200, body: { id: 'enr_1', workflowVersion: 1, status: 'running' } };
      },
    }));
    const server = await startPublicGrpc({
      address: '127.0.0.1:0',
      tls: pki.tls('gateway'),
      routes,
      tenants: { authenticate: async (key) => (key === 'csk_good' ? 'tnt_a' : undefined) },
      clients: { historyRaw: {} as ApiClients['historyRaw'] },
      logger: silentLogger,
      drainMs,
    });
    const caller = pki.tls('executor');
    const client = new publicV1.CodestepApiClient(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createSsl(Buffer.from(caller.ca), Buffer.from(caller.key), Buffer.from(caller.cert), { checkServerIdentity: () => undefined }),
      { 'grpc.ssl_target_name_override': 'gateway.codestep' },
    );
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer csk_good');
    const enroll = () =>
      new Promise<{ error: grpc.ServiceError | null; res: publicV1.EnrollResponse | undefined }>((resolve) =>
        client.enroll({ workflowId: 'wf_1', object: { objectType: 'CONTACT', objectId: '1', properties: {} }, requestId: '', dryRun: false }, md, {}, (error, res) => resolve({ error, res })),
      );
    return { server, client, enroll, inFlight, release: () => release() };
  }

  it('lets a unary call in flight finish and answers it, then stops', async () => {
    const s = await started(60_000);
    try {
      const call = s.enroll();
      await s.inFlight;
      let stopped = false;
      const stopping = s.server.stop().then(() => (stopped = true));
      // The call is still running: the server waits for it instead of cancelling it.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(stopped, false);
      s.release();
      const { error, res } = await call;
      assert.equal(error, null);
      assert.equal(res?.enrollmentId, 'enr_1');
      await stopping;
    } finally {
      s.client.close();
    }
  });

  it('cancels a unary call still running when the drain is over, and stops', async () => {
    const s = await started(200);
    try {
      const call = s.enroll();
      await s.inFlight;
      await s.server.stop();
      const { error } = await call;
      assert.equal(error?.code, grpc.status.CANCELLED);
    } finally {
      s.client.close();
    }
  });
});
