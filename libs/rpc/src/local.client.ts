/**
 * A promise client that calls a service living in the same process (embedded mode) without the
 * network: no HTTP/2, no TLS, no loopback socket. Everything a caller could observe stays as over
 * gRPC: the access policy is checked for the caller's identity on every call (the identity is the
 * one its certificate would carry; a refused call fails with the same code and message), requests
 * and responses go through the method's protobuf serialisers (the callee never shares an object
 * with the caller, and defaults come out as over the wire), the handler is the very one the gRPC
 * server runs (`implement`: its span, its error mapping), errors come back as `fromServiceError`
 * makes them, and the call has the same deadline (the served call's when earlier, as over gRPC).
 * What a service checks itself (the broker's execution grants) is untouched: the same
 * implementation runs.
 */
import * as grpc from '@grpc/grpc-js';
import { CodestepError } from '@codestep/core';
import { SpanKind, injectContext, rpcSpanOf, withSpan } from '@codestep/telemetry';
import { callersOf, servedBy, type ServiceIdentity } from './access.policy.ts';
import { callDeadline, withoutCallDeadline } from './call.deadline.ts';
import { fromServiceError, type PromiseClient } from './grpc.ts';

export interface LocalClientOptions {
  /** The calling service: the access policy is checked for it, as for its certificate over gRPC. */
  caller: ServiceIdentity;
  /** The generated client over gRPC, for what a local client does not carry (server streams). */
  raw: grpc.Client;
  /** Deadline of every call, ms; earlier when the call is made for a served call with an earlier one (`withCallDeadline`). @default 10000 */
  deadlineMs?: number;
}

type GeneratedClient<C> = (new (address: string, creds: grpc.ChannelCredentials, options?: object) => C) & { serviceName: string; service: grpc.ServiceDefinition };

/**
 * The unary methods of `Ctor`'s service, served by `impl` (what `implement` made for the gRPC
 * server) in this process, called as `options.caller`.
 * @throws Error when the access policy names no identity serving the service.
 */
export function createLocalClient<C extends grpc.Client>(Ctor: GeneratedClient<C>, impl: grpc.UntypedServiceImplementation, options: LocalClientOptions): PromiseClient<C> {
  if (!servedBy(Ctor.serviceName)) throw new Error(`${Ctor.serviceName} is not in the access policy (libs/rpc/src/access.policy.ts)`);
  const deadlineMs = options.deadlineMs ?? 10_000;
  const wrapped: Record<string, unknown> = { close: () => options.raw.close(), raw: options.raw };
  for (const [name, method] of Object.entries(Ctor.service)) {
    if (method.requestStream || method.responseStream) continue;
    const handler = impl[name] as grpc.handleUnaryCall<unknown, unknown> | undefined;
    const rpc = rpcSpanOf(method.path);
    wrapped[name] = (req: unknown) =>
      withSpan(rpc.name, { kind: SpanKind.CLIENT, attributes: { ...rpc.attributes, 'codestep.rpc.transport': 'in-process' } }, async () => {
        if (!callersOf(method.path).includes(options.caller)) {
          throw new CodestepError('PERMISSION_DENIED', `${method.path}: the ${options.caller} service may not call this method`);
        }
        if (!handler) throw fromServiceError(serviceError(grpc.status.UNIMPLEMENTED, `${method.path} is not implemented`), name);
        const metadata = new grpc.Metadata();
        for (const [k, v] of Object.entries(injectContext())) metadata.set(k, v);
        const request = method.requestDeserialize(method.requestSerialize(req));
        const response = await new Promise<unknown>((resolve, reject) => {
          const deadline = callDeadline(deadlineMs);
          const timer = setTimeout(() => reject(serviceError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')), Math.max(0, deadline - Date.now()));
          const call = { request, metadata, getPeer: () => `in-process:${options.caller}`, getDeadline: () => new Date(deadline) } as unknown as grpc.ServerUnaryCall<unknown, unknown>;
          // As over gRPC, the callee's own calls keep their deadlines: the caller's ends this call only.
          withoutCallDeadline(() =>
            handler(call, (err, res) => {
              clearTimeout(timer);
              if (err) reject(serviceError(err.code ?? grpc.status.UNKNOWN, err.details ?? ('message' in err ? err.message : ''), err.metadata ?? undefined));
              else resolve(res);
            }),
          );
        }).catch((error: unknown) => {
          throw fromServiceError(error as grpc.ServiceError, name);
        });
        return method.responseDeserialize(method.responseSerialize(response));
      });
  }
  return wrapped as PromiseClient<C>;
}

function serviceError(code: grpc.status, details: string, metadata?: grpc.Metadata): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata: metadata ?? new grpc.Metadata() });
}
