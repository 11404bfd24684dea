/**
 * The durable timers as a projection of the actions topic: an `ActionRetryScheduled`, or a
 * JsWorkflows `StepScheduled` (`api.scheduleNextStep`), sets a timer (keyed by its event id,
 * indexed by due time); the request it becomes (a retry's `ActionRequested`, attempt > 1, or a
 * scheduled step's, caused by that event) marks it fired. A JsWorkflows wait's timeout is one too
 * (`WaitStarted`, due when the wait times out), fired by whichever of its `WaitResumed` or
 * `WaitTimedOut` comes (both are caused by it). A fired timer stays as a marker rather than being deleted, so the two events
 * give the same document in either order: they have different keys, so they may sit in different
 * partitions, and a redelivered or replayed `ActionRetryScheduled` never re-arms a fired timer.
 */
import { Topics, type Envelope } from '@codestep/events';
import type { DocumentStore, VersionedWrite } from '@codestep/store';
import { envelopeProjection } from './envelope.projection.ts';

export const RETRY_TIMERS = 'retry_timers';

/** A retry timer: pending (`retry`) or `fired`. */
export type TimerDoc =
  | {
      kind: 'retry';
      tenantId: string;
      dueAt: number;
      /** The ActionRetryScheduled (or StepScheduled, or WaitStarted) envelope, JSON. */
      envelope: string;
    }
  | { kind: 'fired'; tenantId: string };

export async function ensureRetryTimers(store: DocumentStore): Promise<void> {
  await store.ensureCollection(RETRY_TIMERS, [{ fields: ['kind', 'dueAt'] }]);
}

/** A JsWorkflows step on a branch of its own is requested by its timer (start and the lifecycle hooks are not). */
const isScheduledStep = (branchId: string | undefined): boolean => !!branchId && !branchId.startsWith('hook-');

/**
 * Applies envelopes in log order; others than the two above are ignored. Idempotent. Batched:
 * one read of every timer they touch and one write of those that changed. The versions make a
 * pending timer (always version 1) lose to a fired marker (version 2 or more) whichever lands
 * first, as an insert-if-absent and an upsert did one at a time, so a concurrent writer (the
 * scheduler, a replica) never re-arms a fired timer. True when a timer was newly set.
 */
export async function applyToRetryTimers(store: DocumentStore, envs: Envelope[]): Promise<boolean> {
  const changes: Array<{ id: string; doc: TimerDoc }> = [];
  for (const env of envs) {
    const body = env.event;
    if (body.$case === 'actionRetryScheduled' || body.$case === 'stepScheduled' || body.$case === 'waitStarted') {
      changes.push({ id: env.eventId, doc: { kind: 'retry', tenantId: env.tenantId, dueAt: body.value.dueAt, envelope: JSON.stringify(env) } });
    } else if (
      ((body.$case === 'actionRequested' && ((body.value.context?.attempt ?? 1) > 1 || isScheduledStep(body.value.context?.step?.branchId))) ||
        body.$case === 'waitResumed' ||
        body.$case === 'waitTimedOut') &&
      env.causationId
    ) {
      changes.push({ id: env.causationId, doc: { kind: 'fired', tenantId: env.tenantId } });
    }
  }
  if (!changes.length) return false;
  const stored = await store.getMany<TimerDoc>(RETRY_TIMERS, [...new Set(changes.map((c) => c.id))]);
  const writes = new Map<string, VersionedWrite<TimerDoc>>();
  let scheduled = false;
  for (const { id, doc } of changes) {
    const current = writes.get(id) ?? stored.get(id);
    if (doc.kind === 'retry') {
      if (current) continue;
      writes.set(id, { id, version: 1, doc });
      scheduled = true;
    } else if (current?.doc.kind !== 'fired') {
      writes.set(id, { id, version: Math.max(2, (current?.version ?? 0) + 1), doc });
    }
  }
  await store.writeVersioned(RETRY_TIMERS, [...writes.values()]);
  return scheduled;
}

/** The retry timers, for the enrollment service's consumer and for `codestep replay`. */
export const retryTimersProjection = envelopeProjection({
  name: 'retry-timers',
  service: 'enrollment',
  topics: [Topics.actions],
  collections: [RETRY_TIMERS],
  ensure: ensureRetryTimers,
  apply: applyToRetryTimers,
});
