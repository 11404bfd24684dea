/**
 * The enroll requests seen so far, as a projection of `EnrollmentStarted` (which carries the
 * caller's request id): what makes an enroll request idempotent, rebuilt from the log like any
 * other view. An enrollment started without a request id leaves nothing here.
 */
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { tenantKey, tenantScoped, type DocumentStore, type Projection } from '@codestep/store';

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

/** Applies one envelope (only `EnrollmentStarted` with a request id counts); idempotent. */
export async function applyEnrollmentStarted(store: DocumentStore, env: Envelope): Promise<void> {
  if (env.event.$case !== 'enrollmentStarted' || !env.event.value.requestId) return;
  const { requestId, enrollmentId, workflowVersion } = env.event.value;
  // Version 1 for every write: the first start for a request id stays, duplicates change nothing.
  if (!env.tenantId) return;
  await tenantScoped(store, env.tenantId).writeVersioned<EnrollRequestDoc>(ENROLL_REQUESTS, [{ id: requestId, version: 1, doc: { tenantId: env.tenantId, requestId, enrollmentId, workflowVersion } }]);
}

/** The enroll requests, for the enrollment service's consumer and for `codestep replay`. */
export const enrollRequestsProjection: Projection = {
  name: 'enroll-requests',
  service: 'enrollment',
  topics: [Topics.enrollments],
  collections: [ENROLL_REQUESTS],
  ensure: ensureEnrollRequests,
  apply: async (store, batch) => {
    for (const record of batch) {
      const env = fromRecord(record.value);
      if (env) await applyEnrollmentStarted(store, env);
    }
  },
};
