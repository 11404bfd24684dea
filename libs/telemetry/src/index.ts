export { SpanKind, currentTraceId, currentTraceparent, extractContext, injectContext, startTelemetry, withSpan, type SpanOptions, type Telemetry, type TelemetryOptions } from './telemetry.ts';
export { MetricAttributes, codestepMetrics, observeSandboxPool, type CodestepMetrics, type SandboxPoolStats } from './metrics.ts';
