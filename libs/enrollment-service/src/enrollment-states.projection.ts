/**
 * What the enrollment service knows of each enrollment, to retry the failed ones: its workflow,
 * status, and when it failed, the failed step's context (from `EnrollmentFailed`) and error code.
 * A projection of `codestep.enrollments.v1` written per tenant and versioned by log offset (one
 * enrollment's events share a partition), so a replay or a redelivery changes nothing. Bulk
 * retry jobs (`RetryJobStarted`) are kept in a second collection, with the retries each started.
 */
import type { ActionContext } from '@codestep/contracts';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { stampTenant, tenantKey, type DocumentStore, type ProjectedRecord, type Projection, type StoredDoc, type VersionedWrite } from '@codestep/store';

export const ENROLLMENT_STATE_COLLECTIONS = { states: 'enrollment_states', retryJobs: 'retry_jobs' } as const;

export interface EnrollmentStateDoc {
  tenantId: string;
  enrollmentId: string;
  workflowId: string;
  workflowVersion: number;
  status: 'running' | 'completed' | 'failed';
  /** The failed step's context (failed enrollments whose event carried it). */
  failedContext: ActionContext | null;
  errorCode: string;
  failedActionId: string;
  failedAt: number;
  round: number;
  /** The bulk retry job of the last retry ('' for none). */
  jobId: string;
}

export interface RetryJobDoc {
  tenantId: string;
  jobId: string;
  workflowId: string;
  enrollmentIds: string[];
  matched: number;
  filterJson: string;
  startedAt: number;
}

export async function ensureEnrollmentStates(store: DocumentStore): Promise<void> {
  await store.ensureCollection(ENROLLMENT_STATE_COLLECTIONS.states, [{ fields: ['tenantId', 'workflowId', 'status', 'failedAt'] }]);
  await store.ensureCollection(ENROLLMENT_STATE_COLLECTIONS.retryJobs, []);
}

/** The next state of one enrollment after `env`, or undefined when it changes nothing. */
export function applyToEnrollmentState(doc: EnrollmentStateDoc | undefined, env: Envelope): EnrollmentStateDoc | undefined {
  const e = env.event;
  switch (e.$case) {
    case 'enrollmentStarted':
      return (
        doc ?? {
          tenantId: env.tenantId,
          enrollmentId: e.value.enrollmentId,
          workflowId: e.value.workflowId,
          workflowVersion: e.value.workflowVersion,
          status: 'running',
          failedContext: null,
          errorCode: '',
          failedActionId: '',
          failedAt: 0,
          round: 0,
          jobId: '',
        }
      );
    case 'enrollmentCompleted':
      return doc && { ...doc, status: 'completed', failedContext: null };
    case 'enrollmentFailed':
      return doc && { ...doc, status: 'failed', failedContext: e.value.context ?? null, errorCode: e.value.error?.code ?? '', failedActionId: e.value.failedActionId, failedAt: env.occurredAt };
    case 'enrollmentRetried':
      return doc && { ...doc, status: 'running', workflowVersion: e.value.workflowVersion, failedContext: null, round: e.value.round, jobId: e.value.jobId };
    default:
      return undefined;
  }
}

/**
 * Applies records of the enrollments topic; versions are offset + 1. The batch is read with one
 * `getMany` and written with one `writeVersioned` per collection (one transaction on SQLite), not a
 * read and a write per record: the states come out the same, the records of one enrollment are
 * applied in order over the state in memory.
 */
export async function applyEnrollmentStates(store: DocumentStore, batch: ProjectedRecord[]): Promise<void> {
  const envs: Array<{ record: ProjectedRecord; env: Envelope & { tenantId: string }; key: string }> = [];
  for (const record of batch) {
    const env = fromRecord(record.value);
    if (!env?.tenantId) continue;
    envs.push({ record, env: env as Envelope & { tenantId: string }, key: tenantKey(env.tenantId, env.aggregateId) });
  }
  const stateKeys = [...new Set(envs.filter((e) => e.env.event.$case !== 'retryJobStarted').map((e) => e.key))];
  const stored = stateKeys.length ? await store.getMany<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, stateKeys) : new Map<string, StoredDoc<EnrollmentStateDoc>>();
  const states = new Map<string, { version: number; doc: EnrollmentStateDoc }>(stored);
  const changed = new Set<string>();
  const jobs: Array<VersionedWrite<RetryJobDoc>> = [];
  for (const { record, env, key } of envs) {
    if (env.event.$case === 'retryJobStarted') {
      const j = env.event.value;
      jobs.push({
        id: tenantKey(env.tenantId, j.jobId),
        version: 1,
        doc: { tenantId: env.tenantId, jobId: j.jobId, workflowId: j.workflowId, enrollmentIds: j.enrollmentIds, matched: j.matched, filterJson: j.filterJson, startedAt: env.occurredAt },
      });
      continue;
    }
    const current = states.get(key);
    // A state is the enrollment's only when it is of the tenant whose event names it, compared
    // whole (not split out of the key: an id may hold a '/'). Another tenant's document under the
    // same key is neither read nor overwritten.
    if (current && current.doc.tenantId !== env.tenantId) continue;
    if (current && current.version >= record.offset + 1) continue;
    const next = applyToEnrollmentState(current?.doc, env);
    if (next) {
      states.set(key, { version: record.offset + 1, doc: stampTenant(env.tenantId, next) });
      changed.add(key);
    }
  }
  if (jobs.length) await store.writeVersioned(ENROLLMENT_STATE_COLLECTIONS.retryJobs, jobs);
  if (changed.size)
    await store.writeVersioned<EnrollmentStateDoc>(
      ENROLLMENT_STATE_COLLECTIONS.states,
      [...changed].map((id) => ({ id, ...states.get(id)! })),
    );
}

/** The enrollments' states and retry jobs, for the enrollment service's consumer and for `codestep replay`. */
export const enrollmentStatesProjection: Projection = {
  name: 'enrollment-states',
  service: 'enrollment',
  topics: [Topics.enrollments],
  collections: Object.values(ENROLLMENT_STATE_COLLECTIONS),
  ensure: ensureEnrollmentStates,
  apply: applyEnrollmentStates,
};
