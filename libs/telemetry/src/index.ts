export {
  SpanKind,
  SpanStatusCode,
  annotateActiveSpan,
  currentTraceId,
  currentTraceparent,
  extractContext,
  injectContext,
  startTelemetry,
  tracingEnabled,
  withSpan,
  type Attributes,
  type SpanOptions,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry.ts';
export { CodestepAttributes, idAttributes, messagingSpanOf, rpcSpanOf, setMessagingSystem, tracedFetch, type MessagingSpanOptions } from './semconv.ts';
export { MetricAttributes, codestepMetrics, observeSandboxPool, type CodestepMetrics, type SandboxPoolStats } from './metrics.ts';
