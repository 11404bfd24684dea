/**
 * gRPC glue shared by every service: mutual TLS and the access policy on every server and client,
 * async handlers with tracing and error mapping on the server, promise clients with deadlines,
 * trace propagation and retries (idempotent calls only) on the client. Status codes are mapped
 * here, at the edge, and nowhere else.
 */
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CodestepError, ERROR_CATALOGUE, ERROR_CODES, isCodestepError, isErrorCode, type ErrorCode } from '@codestep/core';
import { SpanKind, injectContext, rpcSpanOf, withSpan, type Attributes } from '@codestep/telemetry';
import { callersOf, servedBy } from './access.policy.ts';
import { callDeadline } from './call.deadline.ts';
import { clientChannelOptions, clientCredentials, identityOfPeer, serverCredentials, type TlsIdentity } from './mtls.credentials.ts';

/** gRPC status of a code, from the catalogue; a code it does not know is UNKNOWN. */
const toStatus = (code: string): grpc.status => (isErrorCode(code) ? (ERROR_CATALOGUE[code].grpc as number as grpc.status) : grpc.status.UNKNOWN);
/** The code a bare status stands for when the peer sent none: the first API code with that status. */
const FROM_STATUS = new Map<number, ErrorCode>();
for (const code of ERROR_CODES) if (ERROR_CATALOGUE[code].kind === 'api' && !FROM_STATUS.has(ERROR_CATALOGUE[code].grpc)) FROM_STATUS.set(ERROR_CATALOGUE[code].grpc, code);

/**
 * Longest status message sent, characters. The message travels in the trailers, percent-encoded
 * (up to 9 bytes a character): past the peer's header-list limit (16 KiB) the whole call fails as
 * a protocol error, and a message echoing a huge input would turn a refusal into an INTERNAL.
 */
export const MAX_STATUS_MESSAGE_CHARS = 1_000;

const bounded = (message: string): string =>
  message.length <= MAX_STATUS_MESSAGE_CHARS ? message : `${message.slice(0, MAX_STATUS_MESSAGE_CHARS)}… (message cut at ${MAX_STATUS_MESSAGE_CHARS} of ${message.length} characters)`;

function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (isCodestepError(error)) {
    const md = new grpc.Metadata();
    md.set('codestep-code', error.code);
    return { code: toStatus(error.code), details: bounded(error.message), metadata: md };
  }
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

function metadataCarrier(md: grpc.Metadata): Record<string, string | undefined> {
  const tp = md.get('traceparent')[0];
  const ts = md.get('tracestate')[0];
  return { traceparent: tp === undefined ? undefined : String(tp), tracestate: ts === undefined ? undefined : String(ts) };
}

type AsyncUnary = (request: never) => Promise<unknown>;
type AsyncStream = (request: never, write: (msg: unknown) => boolean, signal: AbortSignal) => Promise<void>;

/**
 * Adapts async handlers to a grpc-js service implementation. Unary handlers return the
 * response; server-streaming ones get `write` and an abort signal for a client that left, and
 * their response headers are sent as soon as the handler has been called (before its first
 * message): what it set up synchronously, a subscription, is live when the caller gets them.
 */
export function implement(
  definition: grpc.ServiceDefinition,
  handlers: Record<string, AsyncUnary | AsyncStream>,
  onError?: (method: string, error: unknown) => void,
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = handlers[name];
    if (!handler) throw new Error(`no handler for ${method.path}`);
    if (!method.responseStream) {
      impl[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        withSpan(rpcSpanOf(method.path).name, { kind: SpanKind.SERVER, parent: metadataCarrier(call.metadata), attributes: rpcSpanOf(method.path).attributes }, (span) =>
          (handler as AsyncUnary)(call.request as never).then(
            (res) => (span.setAttribute('rpc.grpc.status_code', grpc.status.OK), res),
            (error: unknown) => {
              span.setAttribute('rpc.grpc.status_code', toServiceError(error).code ?? grpc.status.UNKNOWN);
              throw error;
            },
          ),
        ).then(
          (res) => callback(null, res),
          (error: unknown) => {
            if (!isCodestepError(error)) onError?.(name, error);
            callback(toServiceError(error) as grpc.ServiceError, null);
          },
        );
      }) as grpc.handleUnaryCall<unknown, unknown>;
    } else {
      impl[name] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        const ac = new AbortController();
        call.on('cancelled', () => ac.abort());
        call.on('close', () => ac.abort());
        const running = (handler as AsyncStream)(call.request as never, (msg) => call.write(msg), ac.signal);
        // The response headers go out once the handler has started (its synchronous part ran): a
        // handler that subscribes there (the history tail) thus tells its caller it is listening.
        call.sendMetadata(new grpc.Metadata());
        running.then(
          () => call.end(),
          (error: unknown) => call.destroy(Object.assign(new Error(error instanceof Error ? error.message : String(error)), toServiceError(error))),
        );
      }) as grpc.handleServerStreamingCall<unknown, unknown>;
    }
  }
  return impl;
}

export interface GrpcServer {
  server: grpc.Server;
  port: number;
  stop(): Promise<void>;
}

/** How a server authenticates its callers: mutual TLS with the deployment's CA (see `./mtls.credentials.ts`). */
export interface ServerSecurity {
  tls: TlsIdentity;
}

function refusal(code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED', message: string): grpc.ServiceError {
  const md = new grpc.Metadata();
  md.set('codestep-code', code);
  return Object.assign(new Error(message), { code: toStatus(code), details: message, metadata: md });
}

/** Why the caller of `call` may not call `path`, from its certificate and the access policy; undefined when it may. */
function refusalOf(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null }, path: string): grpc.ServiceError | undefined {
  const identity = identityOfPeer(call.getAuthContext()?.sslPeerCertificate);
  if (!identity) return refusal('UNAUTHENTICATED', `${path}: the caller's certificate names no codestep service identity (spiffe://codestep/<service>)`);
  if (!callersOf(path).includes(identity)) return refusal('PERMISSION_DENIED', `${path}: the ${identity} service may not call this method`);
  return undefined;
}

/** The implementation with every method behind the access policy: refused callers never reach a handler. */
function guarded(definition: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    if (!callersOf(method.path).length) throw new Error(`${method.path} is not in the access policy (libs/rpc/src/access.policy.ts): decide who may call it`);
    const handler = impl[name] as (...args: unknown[]) => void;
    out[name] = method.responseStream
      ? (((call: grpc.ServerWritableStream<unknown, unknown>) => {
          const refused = refusalOf(call, method.path);
          if (refused) call.destroy(refused);
          else handler(call);
        }) as grpc.handleServerStreamingCall<unknown, unknown>)
      : (((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          const refused = refusalOf(call, method.path);
          if (refused) callback(refused, null);
          else handler(call, callback);
        }) as grpc.handleUnaryCall<unknown, unknown>);
  }
  return out;
}

/**
 * Binds a server with the given services on `address` (host:port; port 0 = any free one), over
 * mutual TLS: a caller without a certificate of the deployment's CA fails the handshake, and each
 * call is checked against the access policy (`./access.policy.ts`) before its handler runs.
 * @throws Error when a method of a service is not in the access policy.
 */
export async function serve(address: string, services: Array<[grpc.ServiceDefinition, grpc.UntypedServiceImplementation]>, security: ServerSecurity): Promise<GrpcServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  for (const [def, impl] of services) server.addService(def, guarded(def, impl));
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(address, serverCredentials(security.tls), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    server,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 3000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

type AnyFn = (...args: any[]) => any;
type UnaryOf<F> = F extends (req: infer Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: infer Res) => void) => grpc.ClientUnaryCall
  ? (req: Req) => Promise<Res>
  : never;
/** The promise view of a generated client's unary methods. */
export type PromiseClient<C> = { [K in Exclude<keyof C, keyof grpc.Client> as C[K] extends AnyFn ? K : never]: UnaryOf<C[K]> } & { close(): void; raw: C };

export interface ClientOptions {
  /** This service's certificate, key and the CA: the server must present the identity that serves the client's gRPC service. */
  tls: TlsIdentity;
  /** Deadline of every call, ms; earlier when the call is made for a served call with an earlier one (`withCallDeadline`). @default 10000 */
  deadlineMs?: number;
  /** Methods safe to retry on UNAVAILABLE (idempotent ones only). */
  idempotent?: string[];
  /** Attempts for idempotent methods. @default 4 */
  maxAttempts?: number;
}

/** The method's path (`/codestep.enrollments.v1.Enrollments/Enroll`) from a generated client's service definition. */
function pathOf(Ctor: { serviceName: string }, name: string): string {
  const service = (Ctor as { service?: grpc.ServiceDefinition }).service;
  const method = service?.[name] ?? Object.values(service ?? {}).find((m) => m.originalName === name);
  return method?.path ?? `/${Ctor.serviceName}/${name}`;
}

/** `server.address` and `server.port` of a `host:port` target. */
function serverAttributes(address: string): Attributes {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  return m ? { 'server.address': m[1]!, 'server.port': Number(m[2]) } : { 'server.address': address };
}

/** Errors from the server come back as CodestepError with the server's code. */
export function fromServiceError(error: grpc.ServiceError, method: string): CodestepError {
  const sent = String(error.metadata?.get('codestep-code')[0] ?? FROM_STATUS.get(error.code) ?? (error.code === grpc.status.UNAVAILABLE ? 'UNAVAILABLE' : 'INTERNAL'));
  // A code this side does not know (a newer peer) stays visible in the message, as INTERNAL.
  const code = isErrorCode(sent) ? sent : 'INTERNAL';
  return new CodestepError(code, error.details || `${method} failed: ${error.message}`, { cause: error });
}

/**
 * A promise client of a generated gRPC client, over mutual TLS with `options.tls`.
 * @throws Error when the access policy names no service identity serving the client's gRPC service.
 */
export function createClient<C extends grpc.Client>(
  Ctor: (new (address: string, creds: grpc.ChannelCredentials, options?: object) => C) & { serviceName: string },
  address: string,
  options: ClientOptions,
): PromiseClient<C> {
  const server = servedBy(Ctor.serviceName);
  if (!server) throw new Error(`${Ctor.serviceName} is not in the access policy (libs/rpc/src/access.policy.ts)`);
  const client = new Ctor(address, clientCredentials(options.tls, server), { 'grpc.max_receive_message_length': 8 * 1024 * 1024, ...clientChannelOptions(server) });
  const deadlineMs = options.deadlineMs ?? 10_000;
  const peer = serverAttributes(address);
  const idempotent = new Set(options.idempotent ?? []);
  const maxAttempts = options.maxAttempts ?? 4;
  const wrapped: Record<string, unknown> = { close: () => client.close(), raw: client };
  const proto = Object.getPrototypeOf(client) as Record<string, unknown>;
  for (const name of Object.keys(proto)) {
    const fn = proto[name];
    if (typeof fn !== 'function' || name === 'constructor') continue;
    const rpc = rpcSpanOf(pathOf(Ctor, name));
    wrapped[name] = (req: unknown) =>
      withSpan(rpc.name, { kind: SpanKind.CLIENT, attributes: { ...rpc.attributes, ...peer } }, async (span) => {
        for (let attempt = 1; ; attempt++) {
          const md = new grpc.Metadata();
          for (const [k, v] of Object.entries(injectContext())) md.set(k, v);
          try {
            const res = await new Promise((resolve, reject) => {
              (fn as AnyFn).call(client, req, md, { deadline: callDeadline(deadlineMs) }, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
            });
            span.setAttribute('rpc.grpc.status_code', grpc.status.OK);
            return res;
          } catch (error) {
            const se = error as grpc.ServiceError;
            span.setAttribute('rpc.grpc.status_code', se.code ?? grpc.status.UNKNOWN);
            if (se.code === grpc.status.UNAVAILABLE && idempotent.has(name) && attempt < maxAttempts) {
              await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
              continue;
            }
            throw fromServiceError(se, name);
          }
        }
      });
  }
  return wrapped as PromiseClient<C>;
}

export { grpc };
