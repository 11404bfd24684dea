/**
 * Span names and attributes after OpenTelemetry's semantic conventions (HTTP, RPC, messaging),
 * plus codestep's own ids under the `codestep.` namespace, so a trace reads the same in any
 * tracing UI: `POST /v1/workflows/:id/enrollments`, `codestep.enrollments.v1.Enrollments/Enroll`,
 * `send codestep.actions.v1`, `process codestep.actions.v1`, `POST` (an outbound call).
 */
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { injectContext, recordForeignSpan, tracingEnabled, withSpan } from './telemetry.ts';

/** codestep's ids on spans: every span that knows one carries it, so a trace can be found by any. */
export const CodestepAttributes = {
  tenantId: 'codestep.tenant.id',
  workflowId: 'codestep.workflow.id',
  enrollmentId: 'codestep.enrollment.id',
  executionId: 'codestep.execution.id',
  actionId: 'codestep.action.id',
} as const;

/** The ids an event's context carries, as span attributes (empty values left out). */
export function idAttributes(ids: { tenantId?: string; workflowId?: string; enrollmentId?: string; executionId?: string; actionId?: string }): Attributes {
  const out: Attributes = {};
  for (const [key, name] of Object.entries(CodestepAttributes)) {
    const value = ids[key as keyof typeof ids];
    if (value) out[name] = value;
  }
  return out;
}

/**
 * An RPC span's name (`{rpc.service}/{rpc.method}`) and attributes from a gRPC method path
 * (`/codestep.enrollments.v1.Enrollments/Enroll`).
 */
export function rpcSpanOf(path: string): { name: string; attributes: Attributes } {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  return { name: `${service}/${method}`, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } };
}

/** The process's event log (`kafka`, `sqlite`), as its `tracedEventLog` said. */
let processMessagingSystem = 'codestep';

/** Sets the `messaging.system` of the spans that do not name one (one event log per process). */
export function setMessagingSystem(system: string): void {
  processMessagingSystem = system;
}

/** What a messaging span is about: the log (`kafka`, `sqlite`; default the process's), the topic, how many records. */
export interface MessagingSpanOptions {
  system?: string;
  topic: string;
  operation: 'send' | 'process';
  messageCount?: number;
  key?: string;
  messageId?: string;
  partition?: number;
  consumerGroup?: string;
}

/** A messaging span's name (`send codestep.actions.v1`) and attributes. */
export function messagingSpanOf(o: MessagingSpanOptions): { name: string; kind: SpanKind; attributes: Attributes } {
  const system = o.system ?? processMessagingSystem;
  const attributes: Attributes = {
    'messaging.system': system,
    'messaging.destination.name': o.topic,
    'messaging.operation.type': o.operation,
    'messaging.operation.name': o.operation,
  };
  if (o.messageCount !== undefined && o.messageCount !== 1) attributes['messaging.batch.message_count'] = o.messageCount;
  if (o.messageId) attributes['messaging.message.id'] = o.messageId;
  if (o.key && system === 'kafka') attributes['messaging.kafka.message.key'] = o.key;
  if (o.partition !== undefined) attributes['messaging.destination.partition.id'] = String(o.partition);
  if (o.consumerGroup) attributes['messaging.consumer.group.name'] = o.consumerGroup;
  return { name: `${o.operation} ${o.topic}`, kind: o.operation === 'send' ? SpanKind.PRODUCER : SpanKind.CONSUMER, attributes };
}

type Fetch = typeof fetch;

/**
 * `fetch` in an HTTP client span (`POST`, with `http.request.method`, `url.full` without its query
 * or credentials, `server.address`/`server.port`, `http.response.status_code`) whose context goes
 * out as `traceparent`, so the server's own spans join the trace. A 4xx/5xx answer marks the span
 * as an error; a network failure records it and rethrows. When nothing is exported, plain `inner`.
 */
export function tracedFetch(inner: Fetch = fetch): Fetch {
  return async (input, init) => {
    if (!tracingEnabled()) return inner(input, init);
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : String(input));
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const attributes: Attributes = {
      'http.request.method': method,
      'url.full': `${url.protocol}//${url.host}${url.pathname}`,
      'server.address': url.hostname,
      'server.port': port,
    };
    return withSpan(method, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const headers = new Headers(init?.headers ?? request?.headers);
      for (const [k, v] of Object.entries(injectContext())) headers.set(k, v);
      let res: Response;
      try {
        res = await inner(input, { ...init, headers });
      } catch (error) {
        span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
        throw error;
      }
      span.setAttribute('http.response.status_code', res.status);
      if (res.status >= 400) {
        span.setAttribute('error.type', String(res.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return res;
    });
  };
}

/** An outbound HTTP request made elsewhere (a sandbox's `fetch`), as {@link recordHttpClientSpan} takes it. */
export interface HttpClientCall {
  spanId: string;
  method: string;
  url: string;
  startedAt: number;
  durationMs: number;
  status?: number;
  errorCode?: string;
}

/** Records `call` as an HTTP client span (`GET`, `url.full`, `server.address`, status) under the active span; nothing when nothing is exported. */
export function recordHttpClientSpan(call: HttpClientCall, extra: Attributes = {}): void {
  if (!tracingEnabled()) return;
  let address: Attributes = {};
  try {
    const url = new URL(call.url);
    address = { 'server.address': url.hostname, 'server.port': url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80 };
  } catch {
    // A URL the sandbox could not parse either: recorded as it came.
  }
  const attributes: Attributes = { 'http.request.method': call.method, 'url.full': call.url, ...address, ...extra };
  if (call.status !== undefined) attributes['http.response.status_code'] = call.status;
  const failed = call.status === undefined || call.status >= 400;
  if (failed) attributes['error.type'] = call.status === undefined ? (call.errorCode ?? 'error') : String(call.status);
  recordForeignSpan({ name: call.method, kind: SpanKind.CLIENT, spanId: call.spanId, startTime: call.startedAt, endTime: call.startedAt + call.durationMs, attributes, error: failed });
}
