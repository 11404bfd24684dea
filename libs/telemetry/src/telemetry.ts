/**
 * OpenTelemetry for every app: one trace per enrollment, across gRPC calls (metadata) and
 * event-log hops (record headers, W3C `traceparent`). Every span has its ids, so that every
 * execution can record its trace id; spans are recorded and exported over OTLP/HTTP only when an
 * endpoint is configured (off by default). Without one, nothing is recorded: spans are
 * non-recording (the `AlwaysOff` sampler), which only carry their ids and propagate the context
 * (their `traceparent` says "not sampled"), so tracing costs next to nothing.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. Unset: no export. */
  otlpEndpoint?: string | undefined;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

/** Never called (nothing is recorded); its presence is what gives spans their ids (no processor: no tracer provider at all). */
const NOTHING_RECORDED: SpanProcessor = { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} };

let started: Telemetry | undefined;

export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (started) return started;
  const exporting = options.otlpEndpoint
    ? { spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint }), { scheduledDelayMillis: 500 })] }
    : { spanProcessors: [NOTHING_RECORDED], sampler: new AlwaysOffSampler() };
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    ...exporting,
    instrumentations: [],
    textMapPropagator: new W3CTraceContextPropagator(),
  });
  sdk.start();
  started = {
    shutdown: async () => {
      started = undefined;
      await sdk.shutdown();
    },
  };
  return started;
}

const tracer = () => trace.getTracer('codestep');

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent from a carrier (`traceparent` in record headers or gRPC metadata). */
  parent?: Record<string, string | undefined>;
}

/** Runs `fn` in a new span (child of `parent` or of the active span); records errors. */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parentCtx = options.parent ? extractContext(options.parent) : context.active();
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} }, parentCtx, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

export function extractContext(carrier: Record<string, string | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, {
    get: (c, k) => c[k] ?? undefined,
    keys: (c) => Object.keys(c),
  });
}

/** The active context as carrier fields (`traceparent`, `tracestate`). */
export function injectContext(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

export function currentTraceparent(): string | undefined {
  return injectContext().traceparent;
}

export function currentTraceId(): string {
  return trace.getActiveSpan()?.spanContext().traceId ?? '';
}

export { SpanKind };
