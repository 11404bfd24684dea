/**
 * The enroll requests seen so far, as a projection of `EnrollmentStarted` (which carries the
 * caller's request id): what makes an enroll request idempotent, rebuilt from the log like any
 * other view. An enrollment started without a request id leaves nothing here.
 */
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { tenantKey, type DocumentStore, type Projection, type VersionedWrite } from '@codestep/store';

export const ENROLL_REQUESTS = 'enroll_requests';

/** One enroll request: which enrollment it started, on which workflow version. */
export interface EnrollRequestDoc {
  tenantId: string;
  requestId: string;
  enrollmentId: string;
  workflowVersion: number;
}

/** The stored id of a request's document (its tenant's key: what the command outbox sees too). */
export const requestKey = (tenantId: string, requestId: string): string => tenantKey(tenantId, requestId);

export async function ensureEnrollRequests(store: DocumentStore): Promise<void> {
  await store.ensureCollection(ENROLL_REQUESTS, []);
}

/** The write one envelope makes (only `EnrollmentStarted` with a request id counts), if any. */
function enrollRequestWrite(env: Envelope): VersionedWrite<EnrollRequestDoc> | undefined {
  if (env.event.$case !== 'enrollmentStarted' || !env.event.value.requestId || !env.tenantId) return undefined;
  const { requestId, enrollmentId, workflowVersion } = env.event.value;
  // Version 1 for every write: the first start for a request id stays, duplicates change nothing.
  return { id: requestKey(env.tenantId, requestId), version: 1, doc: { tenantId: env.tenantId, requestId, enrollmentId, workflowVersion } };
}

/** Applies envelopes (only `EnrollmentStarted` with a request id counts) in one batched write; idempotent. */
export async function applyEnrollmentStarted(store: DocumentStore, ...envs: Envelope[]): Promise<void> {
  const writes = envs.flatMap((env) => enrollRequestWrite(env) ?? []);
  // The first start of a request id in the batch wins, as it does across batches.
  const first = new Map<string, VersionedWrite<EnrollRequestDoc>>();
  for (const w of writes) if (!first.has(w.id)) first.set(w.id, w);
  if (first.size) await store.writeVersioned(ENROLL_REQUESTS, [...first.values()]);
}

/** The enroll requests, for the enrollment service's consumer and for `codestep replay`. */
export const enrollRequestsProjection: Projection = {
  name: 'enroll-requests',
  service: 'enrollment',
  topics: [Topics.enrollments],
  collections: [ENROLL_REQUESTS],
  ensure: ensureEnrollRequests,
  apply: (store, batch) => applyEnrollmentStarted(store, ...batch.flatMap((record) => fromRecord(record.value) ?? [])),
};
