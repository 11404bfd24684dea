/**
 * OpenTelemetry for every app: one trace per enrollment, across gRPC calls (metadata) and
 * event-log hops (record headers, W3C `traceparent`). Spans are recorded and exported over
 * OTLP/HTTP only when an endpoint is configured (off by default); then every span has its ids and
 * every execution records its trace id. Without one, tracing takes a shared no-op path that costs
 * nothing measurable: no span is created (`withSpan` hands its function one shared non-recording
 * span), no context is extracted, entered or injected (no `traceparent` goes out, executions
 * record no trace id), and no foreign span is recorded.
 * Metrics (./metrics.ts) are served on a Prometheus endpoint and/or pushed over OTLP/HTTP when
 * either is configured, and not collected otherwise.
 */
import { context, INVALID_SPAN_CONTEXT, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader, type CollectionResult, type IMetricReader, type MetricCollectOptions, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, BatchSpanProcessor, RandomIdGenerator, type IdGenerator, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

import { dropInstruments } from './metrics.ts';
import { PullMetricReader, collectScopeMetrics, mergeScopeMetrics, threadsMetricProducer } from './thread-metrics.ts';

/** Prometheus' endpoint, with one block per metric name when other threads' metrics join this one's (`thread-metrics.ts`). */
class ThreadsPrometheusExporter extends PrometheusExporter {
  override async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    return mergeScopeMetrics(await super.collect(options));
  }
}

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. Unset: no export. */
  otlpEndpoint?: string | undefined;
  /** Port of the Prometheus endpoint (`GET /metrics`); unset: none. */
  metricsPort?: number | undefined;
  /** Address the Prometheus endpoint listens on. @default 127.0.0.1 */
  metricsHost?: string | undefined;
  /** OTLP/HTTP metrics endpoint, e.g. `http://127.0.0.1:4318/v1/metrics`. Unset: no push. */
  otlpMetricsEndpoint?: string | undefined;
  /** How often metrics are pushed over OTLP, ms. @default 15000 */
  otlpMetricsIntervalMs?: number | undefined;
  /**
   * A worker thread's telemetry: metrics are collected only when `Telemetry.collectMetrics` is
   * called (by the thread that serves them, see `thread-metrics.ts`). @default false
   */
  pullMetrics?: boolean | undefined;
}

export interface Telemetry {
  /** The Prometheus endpoint's URL once it listens (`http://host:port/metrics`); undefined without one. */
  metricsUrl(): Promise<string | undefined>;
  /** Exports the spans ended so far now instead of with the next batch. */
  forceFlush(): Promise<void>;
  /** This thread's metrics as plain data (`pullMetrics`; none otherwise), for the thread that serves them. */
  collectMetrics(): Promise<ScopeMetrics[]>;
  shutdown(): Promise<void>;
}

/** Never called (nothing is recorded); its presence is what gives spans their ids (no processor: no tracer provider at all). */
const NOTHING_RECORDED: SpanProcessor = { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} };

let started: Telemetry | undefined;

/**
 * Random ids, except the one span id a {@link recordClientSpan} presets: a span made elsewhere (a
 * sandbox's outbound request) put that id in the `traceparent` it sent, and its span must have it.
 * Span creation is synchronous, so the preset is taken by the very span it was set for.
 */
class PresettableIdGenerator implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  preset: string | undefined;
  generateTraceId(): string {
    return this.#random.generateTraceId();
  }
  generateSpanId(): string {
    const id = this.preset;
    this.preset = undefined;
    return id ?? this.#random.generateSpanId();
  }
}
const idGenerator = new PresettableIdGenerator();
/** Whether spans are recorded and exported (an OTLP endpoint was given to `startTelemetry`). */
let exporting = false;

export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (started) return started;
  exporting = Boolean(options.otlpEndpoint);
  const spanProcessor = options.otlpEndpoint ? new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpEndpoint }), { scheduledDelayMillis: 500 }) : NOTHING_RECORDED;
  const spanSetup = options.otlpEndpoint ? { spanProcessors: [spanProcessor] } : { spanProcessors: [spanProcessor], sampler: new AlwaysOffSampler() };
  const metricReaders: IMetricReader[] = [];
  let metricsUrl: Promise<string | undefined> = Promise.resolve(undefined);
  if (options.metricsPort !== undefined) {
    const host = options.metricsHost ?? '127.0.0.1';
    const exporter = new ThreadsPrometheusExporter({ host, port: options.metricsPort, preventServerStart: true, metricProducers: [threadsMetricProducer] });
    metricReaders.push(exporter);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${options.metricsPort}/metrics`;
    metricsUrl = exporter.startServer().then(
      () => url,
      (error: unknown) => {
        throw new Error(`the metrics endpoint could not listen on ${host}:${options.metricsPort}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
    metricsUrl.catch(() => {}); // reported to whoever awaits metricsUrl()
  }
  if (options.otlpMetricsEndpoint) {
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: options.otlpMetricsEndpoint }),
        exportIntervalMillis: options.otlpMetricsIntervalMs ?? 15_000,
        metricProducers: [threadsMetricProducer],
      }),
    );
  }
  const pull = options.pullMetrics ? new PullMetricReader() : undefined;
  if (pull) metricReaders.push(pull);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    ...spanSetup,
    idGenerator,
    // Always given: without it sdk-node reads OTEL_METRICS_EXPORTER and, unset, pushes OTLP to localhost every minute.
    metricReaders,
    instrumentations: [],
    textMapPropagator: new W3CTraceContextPropagator(),
  });
  sdk.start();
  dropInstruments(); // made on the meter before this SDK registered its provider
  started = {
    metricsUrl: () => metricsUrl,
    forceFlush: () => spanProcessor.forceFlush(),
    collectMetrics: async () => (pull ? collectScopeMetrics(pull) : []),
    shutdown: async () => {
      started = undefined;
      exporting = false;
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

/** What `withSpan` hands its function when nothing is exported: one shared span that records nothing and has no ids. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs `fn` in a new span (child of `parent` or of the active span); records errors. When nothing
 * is exported, runs `fn` as it is, with a shared non-recording span and the context unchanged.
 */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!exporting) {
    try {
      return fn(NO_SPAN);
    } catch (error) {
      return Promise.reject(error); // as from the span's async path: a function that throws at once rejects
    }
  }
  return inSpan(name, options, fn);
}

async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
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

/** The context a carrier's `traceparent` names; the root context (no trace) when nothing is exported. */
export function extractContext(carrier: Record<string, string | undefined>): Context {
  if (!exporting) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier, {
    get: (c, k) => c[k] ?? undefined,
    keys: (c) => Object.keys(c),
  });
}

/** The active context (or `ctx`) as carrier fields (`traceparent`, `tracestate`); none when nothing is exported. */
export function injectContext(ctx?: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (exporting) propagation.inject(ctx ?? context.active(), carrier);
  return carrier;
}

/** The active span's `traceparent`; undefined outside a span and when nothing is exported. */
export function currentTraceparent(): string | undefined {
  return exporting ? injectContext().traceparent : undefined;
}

/**
 * True when spans are recorded and exported. Spans that only describe (a producer span per
 * append, say) are skipped when false: the trace context still propagates without them.
 */
export function tracingEnabled(): boolean {
  return exporting;
}

/**
 * Names and adds attributes to the active span, for what is known only once it runs: the
 * gateway's matched route and tenant, the enrollment a command created. No-op without one.
 */
export function annotateActiveSpan(attributes: Attributes, name?: string): void {
  if (!exporting) return;
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttributes(attributes);
  if (name) span.updateName(name);
}

/** A span that happened elsewhere, reported after the fact: its id, times and attributes. */
export interface ForeignSpan {
  name: string;
  kind: SpanKind;
  /** 16 hex digits. */
  spanId: string;
  /** ms since the epoch. */
  startTime: number;
  endTime: number;
  attributes: Attributes;
  error?: boolean;
}

/** Records `span` as a child of the active span, with its own span id. No-op unless exporting. */
export function recordForeignSpan(span: ForeignSpan): void {
  if (!exporting || !/^[0-9a-f]{16}$/.test(span.spanId)) return;
  idGenerator.preset = span.spanId;
  const s = tracer().startSpan(span.name, { kind: span.kind, attributes: span.attributes, startTime: span.startTime });
  idGenerator.preset = undefined;
  if (span.error) s.setStatus({ code: SpanStatusCode.ERROR });
  s.end(span.endTime);
}

/** The active context, to run later work in the same trace ({@link withContext}); the root context when nothing is exported. */
export function activeContext(): Context {
  return exporting ? context.active() : ROOT_CONTEXT;
}

/** Runs `fn` with `ctx` active: work that arrives outside a trace (a callback over a channel) joins it. Just runs it when nothing is exported. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return exporting ? context.with(ctx, fn) : fn();
}

/** The active span's trace id; '' outside a span and when nothing is exported. */
export function currentTraceId(): string {
  if (!exporting) return '';
  return trace.getActiveSpan()?.spanContext().traceId ?? '';
}

export { SpanKind, SpanStatusCode, type Attributes, type Context };
