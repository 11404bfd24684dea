/**
 * The public gRPC API's server (`codestep.public.v1.CodestepApi`, proto/codestep/public/v1),
 * served by the gateway beside its HTTP API. Each call is authenticated twice before a handler
 * runs: the channel is mutual TLS with the deployment's CA (a caller without a certificate of it
 * fails the handshake; one naming no `spiffe://codestep/…` identity is UNAUTHENTICATED), and the
 * call carries a tenant API key (`authorization: Bearer csk_…`), which scopes it to that tenant.
 * Deadlines are honoured: a call whose deadline has passed starts no command, the internal calls
 * behind a call end by its deadline, and a stream ends at its deadline. A history stream sends its response headers once it is subscribed to the
 * history's tail, so a caller knows from when on it misses nothing. Server reflection
 * (`grpc.reflection.v1` and `v1alpha`) lists the service.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { publicV1 } from '@codestep/contracts';
import { UnauthenticatedError, type Logger } from '@codestep/core';
import { callerOfPeer, grpc, serverCredentials, type TlsIdentity } from '@codestep/rpc';
import { SpanKind, withSpan } from '@codestep/telemetry';
import type { ApiClients } from '../api.routes.ts';
import type { Route } from '../router.ts';
import type { Tenants } from '../tenants.ts';
import { publicApiHandlers, type CallContext } from './public-api.handlers.ts';
import { publicServiceError, snakeCase, type FieldNames } from './public-api.status.ts';

const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../../proto');
/** The public API's proto file, relative to proto/: what reflection describes. */
export const PUBLIC_API_PROTO = 'codestep/public/v1/api.proto';

export interface PublicGrpcOptions {
  /** host:port to listen on (port 0: any free one). */
  address: string;
  /** The gateway's certificate and key, and the CA whose certificates callers must present. */
  tls: TlsIdentity;
  /** The gateway's routes: the public API calls their handlers. */
  routes: Route[];
  tenants: Pick<Tenants, 'authenticate'>;
  clients: Pick<ApiClients, 'historyRaw'>;
  logger: Logger;
  /** How long `stop()` lets unary calls in flight finish before it cancels them, ms. @default 3000 */
  drainMs?: number;
}

/** After the drain, how long cancelled calls have to send their answer before the server cuts them, ms. */
const CANCEL_GRACE_MS = 500;

export interface PublicGrpcServer {
  port: number;
  /**
   * Stops accepting and ends every stream at once; lets unary calls in flight finish within the
   * drain (`drainMs`), then cancels those still running (they end CANCELLED, or answer with what
   * they have), then cuts what is left.
   */
  stop(): Promise<void>;
}

type ServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/** The tenant of a call from its certificate and API key; throws UNAUTHENTICATED. */
async function authenticate(call: ServerCall, tenants: PublicGrpcOptions['tenants']): Promise<string> {
  const caller = callerOfPeer(call.getAuthContext()?.sslPeerCertificate);
  if (!caller) throw new UnauthenticatedError("the caller's certificate names no codestep identity (spiffe://codestep/…): use one made by `codestep certs client <dir> <name>`");
  const header = String(call.metadata.get('authorization')[0] ?? '');
  const key = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
  if (!key) throw new UnauthenticatedError('missing API key: send the metadata "authorization: Bearer <key>" with every call');
  const tenantId = await tenants.authenticate(key);
  if (!tenantId) throw new UnauthenticatedError('unknown API key (or revoked): send a working key of the tenant');
  return tenantId;
}

/** A signal aborted when the call's deadline passes or its caller cancels, and that deadline (if any); `done` clears the timer. */
function callSignal(call: ServerCall, shutdown: AbortSignal): { signal: AbortSignal; deadline?: number; done(): void } {
  const ac = new AbortController();
  const cancelled = () => ac.abort(Object.assign(new Error('the call was cancelled'), { code: grpc.status.CANCELLED }));
  call.once('cancelled', cancelled);
  shutdown.addEventListener('abort', cancelled, { once: true });
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(at)) {
    const expire = () => ac.abort(Object.assign(new Error('the call passed its deadline'), { code: grpc.status.DEADLINE_EXCEEDED }));
    const left = at - Date.now();
    if (left <= 0) expire();
    else timer = setTimeout(expire, Math.min(left, 2 ** 31 - 1));
  }
  return {
    signal: ac.signal,
    ...(Number.isFinite(at) ? { deadline: at } : {}),
    done: () => {
      clearTimeout(timer);
      call.off('cancelled', cancelled);
      shutdown.removeEventListener('abort', cancelled);
    },
  };
}

/** The error a call ends with: the catalogue's status with details, DEADLINE_EXCEEDED past its deadline, INTERNAL otherwise (logged). */
function failureOf(error: unknown, signal: AbortSignal, fields: FieldNames, onInternal: (e: unknown) => void): Partial<grpc.StatusObject> {
  const mapped = publicServiceError(error, fields);
  if (mapped) return mapped;
  if (signal.aborted) {
    const timedOut = (signal.reason as { code?: number } | undefined)?.code === grpc.status.DEADLINE_EXCEEDED;
    return { code: timedOut ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED, details: timedOut ? 'the call passed its deadline; nothing more was started' : 'the call was cancelled' };
  }
  onInternal(error);
  return { code: grpc.status.INTERNAL, details: 'internal error; the server log has the details' };
}

/** Aborted when the server stops: `streams` at once (a stream has no end of its own), `unary` once the drain is over. */
interface Shutdown {
  streams: AbortSignal;
  unary: AbortSignal;
}

function implementation(options: PublicGrpcOptions, shutdown: Shutdown): grpc.UntypedServiceImplementation {
  const handlers = publicApiHandlers(options.routes, options.clients);
  const logError = (method: string) => (error: unknown) => options.logger.error({ error, method }, 'public gRPC call failed');
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(publicV1.CodestepApiService)) {
    const span = (run: () => Promise<void>) =>
      withSpan(method.path, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': 'codestep.public.v1.CodestepApi', 'rpc.method': name } }, run);
    if (method.responseStream) {
      impl[name] = (call: grpc.ServerWritableStream<publicV1.StreamHistoryRequest, publicV1.HistoryEvent>) => {
        const { signal, done } = callSignal(call, shutdown.streams);
        void span(async () => {
          try {
            const ctx: CallContext = { tenantId: await authenticate(call, options.tenants), signal };
            // The response headers (initial metadata) tell the caller the stream is subscribed:
            // every event from then on is sent to it.
            await handlers.streamHistory(
              call.request,
              ctx,
              (event) => call.write(event),
              () => call.sendMetadata(new grpc.Metadata()),
            );
            if (signal.aborted) throw signal.reason;
            call.end();
          } catch (error) {
            call.destroy(Object.assign(new Error('public gRPC stream failed'), failureOf(error, signal, snakeCase, logError(name))));
          } finally {
            done();
          }
        });
      };
      continue;
    }
    const unary = handlers.unary[name];
    if (!unary) throw new Error(`no handler for ${method.path}`);
    impl[name] = ((call: grpc.ServerUnaryCall<never, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const { signal, deadline, done } = callSignal(call, shutdown.unary);
      void span(async () => {
        try {
          const ctx: CallContext = { tenantId: await authenticate(call, options.tenants), signal, ...(deadline === undefined ? {} : { deadline }) };
          callback(null, await unary.handle(call.request, ctx));
        } catch (error) {
          callback(failureOf(error, signal, unary.fields, logError(name)) as grpc.ServiceError, null);
        } finally {
          done();
        }
      });
    }) as grpc.handleUnaryCall<unknown, unknown>;
  }
  return impl;
}

/**
 * Starts the public gRPC API on `options.address` over mutual TLS, with server reflection.
 * @throws Error when the address cannot be bound, or the gateway lacks a route the API calls.
 */
export async function startPublicGrpc(options: PublicGrpcOptions): Promise<PublicGrpcServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  const streams = new AbortController();
  const unary = new AbortController();
  const drainMs = options.drainMs ?? 3_000;
  server.addService(publicV1.CodestepApiService, implementation(options, { streams: streams.signal, unary: unary.signal }));
  const described = protoLoader.loadSync(PUBLIC_API_PROTO, { includeDirs: [PROTO_ROOT], keepCase: true });
  new ReflectionService(described).addToServer(server);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(options.address, serverCredentials(options.tls), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        streams.abort();
        let force: NodeJS.Timeout | undefined;
        const drained = setTimeout(() => {
          unary.abort();
          force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, CANCEL_GRACE_MS);
        }, drainMs);
        server.tryShutdown(() => {
          clearTimeout(drained);
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
