export {
  SpanKind,
  SpanStatusCode,
  activeContext,
  annotateActiveSpan,
  currentTraceId,
  currentTraceparent,
  extractContext,
  injectContext,
  recordForeignSpan,
  startTelemetry,
  tracingEnabled,
  withContext,
  withSpan,
  type Attributes,
  type Context,
  type ForeignSpan,
  type SpanOptions,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry.ts';
export { CodestepAttributes, idAttributes, messagingSpanOf, recordHttpClientSpan, rpcSpanOf, setMessagingSystem, tracedFetch, type HttpClientCall, type MessagingSpanOptions } from './semconv.ts';
export { MetricAttributes, codestepMetrics, observeSandboxPool, type CodestepMetrics, type SandboxPoolStats } from './metrics.ts';
export { addMetricProducer, type ScopeMetrics } from './thread-metrics.ts';
