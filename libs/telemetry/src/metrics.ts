/**
 * The metrics operators watch (docs/metrics.md lists them with their units and attributes),
 * recorded through the OpenTelemetry API. They are exported only where `startTelemetry` was given
 * a Prometheus port or an OTLP metrics endpoint; otherwise recording them costs a no-op call.
 *
 * The OpenTelemetry metrics API has no proxy provider: a meter taken before the SDK is registered
 * stays a no-op. So instruments are made on first use after `startTelemetry` (which drops the set
 * made before it: `dropInstruments`), and callers always go through `codestepMetrics()`.
 */
import { metrics, type Attributes, type BatchObservableResult, type Counter, type Gauge, type Histogram, type Meter } from '@opentelemetry/api';

/** Attribute names, after OpenTelemetry's semantic conventions where one exists. */
export const MetricAttributes = {
  status: 'codestep.status',
  errorType: 'error.type',
  consumerGroup: 'messaging.consumer.group.name',
  topic: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  workerState: 'codestep.sandbox.worker.state',
  provider: 'codestep.oauth.provider',
  outcome: 'codestep.outcome',
  executor: 'codestep.executor.id',
} as const;

/** Seconds buckets for enrollments and executions: 5 ms to 10 min. */
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

export interface CodestepMetrics {
  /** Enrollments started. */
  enrollmentsStarted: Counter;
  /** Enrollments that ended, by `codestep.status` (completed | failed) and `error.type` (the failure's code). */
  enrollmentsFinished: Counter;
  /** From EnrollmentStarted to its end, seconds, by `codestep.status`. */
  enrollmentDuration: Histogram;
  /** Executions that ended, by `codestep.status` (succeeded | failed) and `error.type`. */
  executions: Counter;
  /** An execution's run time in the sandbox, seconds, by `codestep.status`. */
  executionDuration: Histogram;
  /** Records of a topic partition a consumer group has not processed yet, at its last batch. */
  consumerLag: Gauge;
  /** OAuth token refreshes, by provider and `codestep.outcome` (refreshed | needs_reauth | failed). */
  tokenRefreshes: Counter;
  /** Outbound requests of actions refused by the egress policy (a non-public address, a scheme, a redirect there). */
  egressBlocked: Counter;
}

let cached: { meter: Meter; instruments: CodestepMetrics } | undefined;

function meter(): Meter {
  return metrics.getMeter('codestep');
}

/**
 * Drops the instruments made so far: called by `startTelemetry` once its SDK is registered, the
 * only place the global meter provider changes, so that `codestepMetrics` need not ask for the
 * meter on every call.
 */
export function dropInstruments(): void {
  cached = undefined;
}

/** The instruments, made on the meter of the SDK `startTelemetry` registered (no-ops before it). */
export function codestepMetrics(): CodestepMetrics {
  if (cached) return cached.instruments;
  const m = meter();
  const instruments: CodestepMetrics = {
    enrollmentsStarted: m.createCounter('codestep.enrollments.started', { unit: '{enrollment}', description: 'Enrollments started' }),
    enrollmentsFinished: m.createCounter('codestep.enrollments.finished', { unit: '{enrollment}', description: 'Enrollments that completed or failed, by status and error code' }),
    enrollmentDuration: m.createHistogram('codestep.enrollment.duration', {
      unit: 's',
      description: 'Time from an enrollment start to its end',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    executions: m.createCounter('codestep.executions', { unit: '{execution}', description: 'Action executions that ended, by status and error code' }),
    executionDuration: m.createHistogram('codestep.execution.duration', {
      unit: 's',
      description: "An action execution's run time in the sandbox",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    consumerLag: m.createGauge('codestep.consumer.lag', { unit: '{record}', description: 'Records of a partition a consumer group has yet to process, as of its last batch' }),
    tokenRefreshes: m.createCounter('codestep.oauth.token.refreshes', { unit: '{refresh}', description: 'OAuth access token refreshes, by provider and outcome' }),
    egressBlocked: m.createCounter('codestep.egress.blocked', { unit: '{request}', description: 'Outbound requests of actions refused by the egress policy' }),
  };
  cached = { meter: m, instruments };
  return instruments;
}

/** What a sandbox pool reports; see `observeSandboxPool`. */
export interface SandboxPoolStats {
  workers: number;
  busy: number;
  queued: number;
  replaced: number;
}

/**
 * Reports a sandbox pool's workers (busy, idle), queued executions and workers replaced, read from
 * `stats` at each collection. Returns a function that stops reporting. Call after `startTelemetry`.
 */
export function observeSandboxPool(stats: () => Promise<SandboxPoolStats | undefined>, attributes: Attributes = {}): () => void {
  const m = meter();
  const workers = m.createObservableGauge('codestep.sandbox.workers', { unit: '{worker}', description: 'Sandbox workers of an executor, by state (busy | idle)' });
  const queued = m.createObservableGauge('codestep.sandbox.queued', { unit: '{execution}', description: 'Executions waiting for a free sandbox worker' });
  const replaced = m.createObservableCounter('codestep.sandbox.replacements', {
    unit: '{worker}',
    description: 'Sandbox workers replaced (timed out, out of memory, crashed or misbehaved) since the sandbox host started',
  });
  const callback = async (observe: BatchObservableResult) => {
    const s = await stats().catch(() => undefined);
    if (!s) return;
    observe.observe(workers, s.busy, { ...attributes, [MetricAttributes.workerState]: 'busy' });
    observe.observe(workers, Math.max(0, s.workers - s.busy), { ...attributes, [MetricAttributes.workerState]: 'idle' });
    observe.observe(queued, s.queued, attributes);
    observe.observe(replaced, s.replaced, attributes);
  };
  m.addBatchObservableCallback(callback, [workers, queued, replaced]);
  return () => m.removeBatchObservableCallback(callback, [workers, queued, replaced]);
}
