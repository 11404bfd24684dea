export { SpanKind, currentTraceId, currentTraceparent, extractContext, injectContext, startTelemetry, withSpan, type SpanOptions, type Telemetry, type TelemetryOptions } from './telemetry.ts';
