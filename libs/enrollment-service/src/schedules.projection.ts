/**
 * Workflows' schedule triggers as a projection of `codestep.workflows.v1`: a `WorkflowPublished`
 * sets the trigger (the head's), a `WorkflowStatusChanged` arms or disarms it (only an enabled
 * workflow fires), a `ScheduleTicked` moves it past the tick it decided. Each document keeps its
 * next due time (`nextDueAt`, indexed with `armed`), so the scheduler finds due schedules by
 * time, earliest first, and never looks at the others.
 *
 * The next due time is a pure function of the events: the first tick after the latest of the
 * last decided tick and the anchor (when the trigger was set or the workflow enabled again), so
 * ticks from before a schedule existed, or from while it was disabled, never count as missed.
 * Writes are compare-and-set on the stored version: the scheduler applies its own ticks while the
 * projection consumer (possibly on another replica) applies status changes, and neither may
 * undo the other.
 */
import type { WorkflowTrigger, workflowsV1 } from '@codestep/contracts';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { tenantKey, type DocumentStore, type ProjectedRecord, type Projection } from '@codestep/store';
import { nextFireTime, nextFireTimes, triggerToInput } from '@codestep/workflows';
import type { WorkflowRepository } from './workflow.repository.ts';
import { isDeepStrictEqual } from 'node:util';

export const SCHEDULES = 'schedules';

/** One workflow's schedule (every workflow with an event on the workflows topic has one, armed or not). */
export interface ScheduleDoc {
  tenantId: string;
  workflowId: string;
  /** The head's version, whose trigger this is. */
  version: number;
  trigger: WorkflowTrigger | null;
  status: string;
  statusSequence: number;
  /** No tick at or before this time fires (UNIX ms): when the trigger was set or the workflow enabled again. */
  anchorAt: number;
  /** The latest tick a `ScheduleTicked` accounted for (0: none). */
  lastTickAt: number;
  /** The last decision: `fired` or `skipped`, its enrollment and how many ticks it collapsed. */
  last: { tickAt: number; outcome: string; enrollmentId: string; missed: number } | null;
  /** True when the schedule fires: a trigger, and the workflow enabled. */
  armed: boolean;
  /** The next tick (UNIX ms), 0 when not armed. */
  nextDueAt: number;
}

/** A schedule's stored id (the plain store: the scheduler looks across tenants). */
export const scheduleKey = (tenantId: string, workflowId: string): string => tenantKey(tenantId, workflowId);

export async function ensureSchedules(store: DocumentStore): Promise<void> {
  await store.ensureCollection(SCHEDULES, [{ fields: ['armed', 'nextDueAt'] }]);
}

const empty = (tenantId: string, workflowId: string): ScheduleDoc => ({
  tenantId,
  workflowId,
  version: 0,
  trigger: null,
  status: 'enabled',
  statusSequence: 0,
  anchorAt: 0,
  lastTickAt: 0,
  last: null,
  armed: false,
  nextDueAt: 0,
});

const sameTrigger = (a: WorkflowTrigger | null, b: WorkflowTrigger | null): boolean => isDeepStrictEqual(a && triggerToInput(a), b && triggerToInput(b));

/** The event applied to a schedule; undefined when it changes nothing. */
function evolve(doc: ScheduleDoc, env: Envelope): ScheduleDoc | undefined {
  const e = env.event;
  if (e.$case === 'workflowPublished') {
    const wf = e.value.workflow;
    if (!wf || wf.version <= doc.version) return undefined;
    const trigger = wf.trigger ?? null;
    return { ...doc, version: wf.version, trigger, anchorAt: sameTrigger(doc.trigger, trigger) ? doc.anchorAt : env.occurredAt };
  }
  if (e.$case === 'workflowStatusChanged') {
    if (e.value.sequence <= doc.statusSequence) return undefined;
    const reenabled = e.value.status === 'enabled' && doc.status !== 'enabled';
    return { ...doc, status: e.value.status, statusSequence: e.value.sequence, anchorAt: reenabled ? Math.max(doc.anchorAt, env.occurredAt) : doc.anchorAt };
  }
  if (e.$case === 'scheduleTicked') {
    const t = e.value;
    if (t.coveredUntil <= doc.lastTickAt) return undefined;
    return { ...doc, lastTickAt: t.coveredUntil, last: { tickAt: t.tickAt, outcome: t.outcome, enrollmentId: t.enrollmentId, missed: t.missed } };
  }
  return undefined;
}

/** The armed flag and next due time, from the rest of the document. */
function withNextDue(doc: ScheduleDoc): ScheduleDoc {
  const next = doc.trigger && doc.status === 'enabled' ? nextFireTime(doc.trigger, Math.max(doc.anchorAt, doc.lastTickAt)) : undefined;
  return { ...doc, armed: next !== undefined, nextDueAt: next ?? 0 };
}

const workflowIdOf = (env: Envelope): string | undefined => {
  const e = env.event;
  if (e.$case === 'workflowPublished') return e.value.workflow?.workflowId;
  if (e.$case === 'workflowStatusChanged' || e.$case === 'scheduleTicked') return e.value.workflowId;
  return undefined;
};

/** Applies one event of the workflows topic (others are ignored); idempotent, safe against concurrent writers. */
export async function applyToSchedule(store: DocumentStore, env: Envelope): Promise<void> {
  const workflowId = workflowIdOf(env);
  if (!workflowId || !env.tenantId) return;
  const id = scheduleKey(env.tenantId, workflowId);
  for (;;) {
    const current = await store.get<ScheduleDoc>(SCHEDULES, id);
    const next = evolve(current?.doc ?? empty(env.tenantId, workflowId), env);
    if (!next) return;
    if (await store.compareAndSet<ScheduleDoc>(SCHEDULES, id, current?.version ?? 0, withNextDue(next))) return;
  }
}

/** The schedules, for the enrollment service's projection consumer and for `codestep replay`. */
export const schedulesProjection: Projection = {
  name: 'schedules',
  service: 'enrollment',
  topics: [Topics.workflows],
  collections: [SCHEDULES],
  ensure: ensureSchedules,
  apply: async (store, batch: ProjectedRecord[]) => {
    for (const record of batch) {
      const env = fromRecord(record.value);
      if (env) await applyToSchedule(store, env);
    }
  },
};

/** How many next fire times a schedule shows. */
export const SHOWN_FIRE_TIMES = 5;

/**
 * A workflow's schedule as it will fire: the head's trigger, armed or not, the next
 * {@link SHOWN_FIRE_TIMES} ticks from the projection's next due time (one due now comes first),
 * and the last tick decided. Throws NotFoundError for no workflow (another tenant's included).
 */
export async function workflowSchedule(store: DocumentStore, repository: WorkflowRepository, tenantId: string, workflowId: string): Promise<workflowsV1.WorkflowSchedule> {
  const state = await repository.state(tenantId, workflowId);
  const doc = (await store.get<ScheduleDoc>(SCHEDULES, scheduleKey(tenantId, workflowId)))?.doc;
  const trigger = doc?.trigger ?? (await repository.load(tenantId, workflowId, 0)).trigger;
  const armed = !!doc?.armed && state.status === 'enabled';
  const next = armed && doc?.trigger ? [doc.nextDueAt, ...nextFireTimes(doc.trigger, doc.nextDueAt, SHOWN_FIRE_TIMES - 1)] : [];
  return {
    workflowId,
    ...(trigger ? { trigger } : {}),
    armed,
    status: state.status,
    nextFireTimes: next,
    lastTickAt: doc?.last?.tickAt ?? 0,
    lastOutcome: doc?.last?.outcome ?? '',
    lastEnrollmentId: doc?.last?.enrollmentId ?? '',
    lastMissed: doc?.last?.missed ?? 0,
  };
}
