/**
 * The history views (enrollments, executions, console lines per execution) as a projection of
 * the enrollment, action and console-line topics. Writes are versioned by log offset, so a
 * redelivered or replayed batch changes nothing and a rebuild gives identical documents. Each
 * tenant's documents are written through its own tenant-scoped view of the store.
 */
import type { ConsumedRecord } from '@codestep/event-log';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { applyToEnrollment, applyToExecution, applyToConsoleLines, type EnrollmentDoc, type ExecutionDoc, type ExecutionConsoleDoc } from '@codestep/history';
import { tenantScoped, type DocumentStore, type ProjectedRecord, type Projection, type TenantStore } from '@codestep/store';
import { MetricAttributes, codestepMetrics } from '@codestep/telemetry';

/** The collections of the history views. */
export const HISTORY_COLLECTIONS = { enrollments: 'enrollments', executions: 'executions', consoleLines: 'execution_logs' } as const;

/** The topics the history views are built from. */
export const HISTORY_TOPICS = [Topics.enrollments, Topics.actions, Topics.consoleLines];

type Reducer<D> = (doc: D | undefined, env: Envelope) => D | undefined;
type Positioned = { env: Envelope; offset: number };
/** Records the metrics of an event newly applied to `before` (run once its write is durable). */
type Observer<D> = (before: D | undefined, env: Envelope) => void;

const seen = (doc: { eventIds: string[] } | undefined, env: Envelope) => !!doc?.eventIds.includes(env.eventId);

/** Enrollments started and finished, and how long they ran (docs/metrics.md). */
const observeEnrollment: Observer<EnrollmentDoc> = (before, env) => {
  if (seen(before, env)) return; // the same event appended twice (at least once)
  const m = codestepMetrics();
  const e = env.event;
  if (e.$case === 'enrollmentStarted' && !before) m.enrollmentsStarted.add(1);
  if ((e.$case === 'enrollmentCompleted' || e.$case === 'enrollmentFailed') && before?.status === 'running') {
    const status = e.$case === 'enrollmentCompleted' ? 'completed' : 'failed';
    const attributes = { [MetricAttributes.status]: status, ...(e.$case === 'enrollmentFailed' ? { [MetricAttributes.errorType]: e.value.error?.code || 'UNKNOWN' } : {}) };
    m.enrollmentsFinished.add(1, attributes);
    if (before.startedAt > 0) m.enrollmentDuration.record(Math.max(0, env.occurredAt - before.startedAt) / 1000, { [MetricAttributes.status]: status });
  }
};

/** Executions that ended, by status and error code, and their run time. */
const observeExecution: Observer<ExecutionDoc> = (before, env) => {
  if (seen(before, env)) return;
  const e = env.event;
  if (e.$case !== 'actionSucceeded' && e.$case !== 'actionFailed') return;
  const m = codestepMetrics();
  const status = e.$case === 'actionSucceeded' ? 'succeeded' : 'failed';
  m.executions.add(1, { [MetricAttributes.status]: status, ...(e.$case === 'actionFailed' ? { [MetricAttributes.errorType]: e.value.error?.code || 'UNKNOWN' } : {}) });
  m.executionDuration.record(e.value.durationMs / 1000, { [MetricAttributes.status]: status });
};

export async function ensureHistoryCollections(store: DocumentStore): Promise<void> {
  // Each filter of GET /v1/enrollments (workflow, status, both, object id) has an index ending in
  // startedAt, so a page of the newest is read from the index in order, however many match.
  await store.ensureCollection(HISTORY_COLLECTIONS.enrollments, [
    { fields: ['tenantId', 'startedAt'] },
    { fields: ['tenantId', 'workflowId', 'startedAt'] },
    { fields: ['tenantId', 'workflowId', 'status', 'startedAt'] },
    { fields: ['tenantId', 'status', 'startedAt'] },
    { fields: ['tenantId', 'objectId', 'startedAt'] },
  ]);
  await store.ensureCollection(HISTORY_COLLECTIONS.executions, [{ fields: ['tenantId', 'enrollmentId'] }]);
  await store.ensureCollection(HISTORY_COLLECTIONS.consoleLines, [{ fields: ['tenantId', 'enrollmentId'] }]);
}

async function project<D>(store: DocumentStore, collection: string, reducer: Reducer<D>, items: Positioned[], observe?: Observer<D>): Promise<void> {
  const byTenant = new Map<string, Positioned[]>();
  for (const item of items) byTenant.set(item.env.tenantId, [...(byTenant.get(item.env.tenantId) ?? []), item]);
  for (const [tenantId, mine] of byTenant) if (tenantId) await projectTenant(tenantScoped(store, tenantId), collection, reducer, mine, observe);
}

async function projectTenant<D>(store: TenantStore, collection: string, reducer: Reducer<D>, items: Positioned[], observe?: Observer<D>): Promise<void> {
  const observed: Array<() => void> = [];
  const ids = [...new Set(items.map((i) => i.env.aggregateId))];
  const current = await store.getMany<D>(collection, ids);
  const next = new Map<string, { doc: D; version: number }>();
  for (const { env, offset } of items) {
    // Versions are offset + 1: offsets start at 0 (Kafka), and 0 means "no document".
    const version = offset + 1;
    const id = env.aggregateId;
    const before = next.get(id)?.doc ?? current.get(id)?.doc;
    const storedVersion = current.get(id)?.version ?? 0;
    if (version <= storedVersion && !next.has(id)) continue; // applied before (by offset)
    const after = reducer(before, env);
    if (after !== undefined) next.set(id, { doc: after, version });
    if (observe) observed.push(() => observe(before, env));
  }
  await store.writeVersioned(
    collection,
    [...next].map(([id, v]) => ({ id, version: v.version, doc: v.doc })),
  );
  for (const o of observed) o();
}

/**
 * Applies a batch to the history views; returns the decoded envelopes in log order (the live
 * tail publishes them).
 */
export async function applyToHistory(store: DocumentStore, batch: Array<ProjectedRecord | ConsumedRecord>): Promise<Envelope[]> {
  const byTopic = new Map<string, Positioned[]>();
  const decoded: Envelope[] = [];
  for (const r of batch) {
    const env = fromRecord(r.value);
    if (!env) continue;
    decoded.push(env);
    const list = byTopic.get(r.topic) ?? [];
    list.push({ env, offset: r.offset });
    byTopic.set(r.topic, list);
  }
  await project<EnrollmentDoc>(store, HISTORY_COLLECTIONS.enrollments, applyToEnrollment, byTopic.get(Topics.enrollments) ?? [], observeEnrollment);
  await project<ExecutionDoc>(store, HISTORY_COLLECTIONS.executions, applyToExecution, byTopic.get(Topics.actions) ?? [], observeExecution);
  await project<ExecutionConsoleDoc>(store, HISTORY_COLLECTIONS.consoleLines, applyToConsoleLines, byTopic.get(Topics.consoleLines) ?? []);
  return decoded;
}

/** The history views, for the live consumer and for `codestep replay`. */
export const historyProjection: Projection = {
  name: 'history',
  service: 'log',
  topics: HISTORY_TOPICS,
  collections: Object.values(HISTORY_COLLECTIONS),
  ensure: ensureHistoryCollections,
  apply: async (store, batch) => {
    await applyToHistory(store, batch);
  },
};
