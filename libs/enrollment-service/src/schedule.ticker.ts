/**
 * Fires workflows' schedule triggers. It reads only the earliest armed schedules of the
 * schedules projection (indexed by next due time) and, for each one due, decides the tick
 * (`decideTick`: fire it, or skip ticks missed while the platform was down) and carries the
 * decision out, so that a tick fires exactly once however many replicas race for it and
 * wherever one of them crashes:
 *
 * 1. the decision, as its `ScheduleTicked` event, is reserved in an outbox under
 *    (tenant, workflow, tick time): the first replica's decision holds, the others follow it;
 * 2. a fired tick enrolls the workflow with the idempotency key `schedule:<workflowId>:<tickISO>`
 *    (one enrollment per key, whoever asks, however often);
 * 3. the `ScheduleTicked` is appended (same id, same bytes on a retry) and applied, which moves
 *    the schedule to its next tick.
 *
 * A crash anywhere leaves the schedule due; the next run (on any replica) finds the reservation
 * and the enrollment and finishes the tick without doing either twice.
 */
import type { LimitPolicy, enrollmentsV1 } from '@codestep/contracts';
import { deterministicId, isCodestepError, type Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { envelope } from '@codestep/events';
import { tenantKey, type DocumentStore } from '@codestep/store';
import { decideTick, type ScheduleBounds } from '@codestep/workflows';
import { createCommandOutbox, envelopesOf, reserveRecords, type Reservation } from './command.outbox.ts';
import type { EnrollCommand } from './enroll.command.ts';
import { SCHEDULES, applyToSchedule, type ScheduleDoc } from './schedules.projection.ts';
import { tenantLimitPolicy } from './tenant-limits.projection.ts';

/** The outbox of schedule ticks' decisions. */
export const SCHEDULE_OUTBOX = 'schedule_outbox';

/** How many due schedules one query looks at. */
const PAGE = 100;
/** How many workflows' ticks are carried out at once. */
const CONCURRENT_TICKS = 8;

export interface ScheduleTicker {
  /** Looks for due schedules every `intervalMs`. */
  start(intervalMs: number): void;
  /** Stops looking and waits for the run in progress. */
  stop(): Promise<void>;
  /** One run over the due schedules (tests). */
  runDue(): Promise<void>;
}

export interface ScheduleTickerDeps {
  store: DocumentStore;
  eventLog: EventLog;
  clock: () => number;
  logger: Logger;
  enroll: EnrollCommand;
  bounds: ScheduleBounds;
}

interface TickReservation extends Reservation {
  workflowId: string;
  tickAt: number;
}

export async function ensureScheduleOutbox(store: DocumentStore): Promise<void> {
  await store.ensureCollection(SCHEDULE_OUTBOX, []);
}

/** The idempotency key of a tick's enrollment. */
export const tickRequestId = (workflowId: string, tickAt: number): string => `schedule:${workflowId}:${new Date(tickAt).toISOString()}`;

/**
 * The enrollment of a fired tick: its object is the tick, its JsWorkflows data says when and what
 * was missed; it runs with the tenant's limits (`limits`, as the tenants topic has them), as an
 * enrollment the gateway starts does.
 */
function enrollRequest(s: ScheduleDoc, tickAt: number, missed: number, limits: LimitPolicy | undefined): enrollmentsV1.EnrollRequest {
  const scheduledAt = new Date(tickAt).toISOString();
  const data = { scheduledAt, missedTicks: missed, workflowId: s.workflowId };
  return {
    tenantId: s.tenantId,
    workflowId: s.workflowId,
    requestId: tickRequestId(s.workflowId, tickAt),
    object: { objectType: '', objectId: scheduledAt, properties: { scheduledAt, missedTicks: String(missed) } },
    portalId: 0,
    trigger: { dataJson: JSON.stringify(data), headers: { 'x-codestep-trigger': 'schedule' } },
    limits,
  };
}

export function createScheduleTicker(deps: ScheduleTickerDeps): ScheduleTicker {
  const { store, logger } = deps;
  const outbox = createCommandOutbox<TickReservation>(store, deps.eventLog, SCHEDULE_OUTBOX);
  let timer: NodeJS.Timeout | undefined;
  let run: Promise<void> = Promise.resolve();

  /** The decision for a due schedule, reserved (or the one another replica reserved first). */
  async function reserveDecision(s: ScheduleDoc, now: number): Promise<TickReservation | undefined> {
    const d = s.trigger ? decideTick(s.trigger, s.nextDueAt, now, deps.bounds.graceMs) : undefined;
    if (!d) return undefined;
    const requestId = tickRequestId(s.workflowId, d.tickAt);
    const env = envelope(
      { eventId: deterministicId('evt', 'schedule-tick', s.tenantId, s.workflowId, d.tickAt), tenantId: s.tenantId, aggregateId: s.workflowId, occurredAt: now, correlationId: requestId },
      {
        $case: 'scheduleTicked',
        value: {
          workflowId: s.workflowId,
          workflowVersion: s.version,
          tickAt: d.tickAt,
          outcome: d.outcome,
          enrollmentId: d.outcome === 'fired' ? deterministicId('enr', s.tenantId, requestId) : '',
          missed: d.missed,
          coveredUntil: d.coveredUntil,
        },
      },
    );
    const key = tenantKey(s.tenantId, `${s.workflowId}@${d.tickAt}`);
    return (await outbox.reserve(key, { tenantId: s.tenantId, workflowId: s.workflowId, tickAt: d.tickAt, records: reserveRecords([env]) })).reservation;
  }

  /** Carries out one due schedule's tick; false when it was left due (logged). */
  async function tick(s: ScheduleDoc, now: number): Promise<boolean> {
    const reservation = await reserveDecision(s, now);
    const env = reservation && envelopesOf(reservation)[0];
    if (!reservation || env?.event.$case !== 'scheduleTicked') return false;
    const t = env.event.value;
    if (t.outcome === 'fired') {
      try {
        await deps.enroll(enrollRequest(s, t.tickAt, t.missed, await tenantLimitPolicy(store, s.tenantId)));
      } catch (error) {
        const refused = isCodestepError(error) && (error.code === 'WORKFLOW_DISABLED' || error.code === 'WORKFLOW_ARCHIVED');
        logger[refused ? 'info' : 'error'](
          { workflowId: s.workflowId, tickAt: t.tickAt, error },
          refused ? 'schedule tick of a workflow disabled meanwhile: not fired' : 'schedule tick failed; left due',
        );
        return false;
      }
    }
    await outbox.append(reservation);
    await applyToSchedule(store, env);
    logger.info({ workflowId: s.workflowId, tickAt: new Date(t.tickAt).toISOString(), outcome: t.outcome, missed: t.missed, enrollmentId: t.enrollmentId }, 'schedule ticked');
    return true;
  }

  /** Ticks the due schedules, earliest first, a page at a time until none is due. */
  async function runDue(): Promise<void> {
    for (;;) {
      const due = await store.find<ScheduleDoc>(SCHEDULES, { where: { armed: true }, orderBy: { field: 'nextDueAt', direction: 'asc' }, limit: PAGE });
      const now = deps.clock();
      const ready = due.filter((s) => s.doc.nextDueAt <= now);
      let ticked = 0;
      // Different workflows' ticks are independent: a few at once, so one slow append does not hold the others back.
      for (let i = 0; i < ready.length; i += CONCURRENT_TICKS) {
        const done = await Promise.all(ready.slice(i, i + CONCURRENT_TICKS).map((s) => tick(s.doc, now)));
        ticked += done.filter(Boolean).length;
      }
      if (ready.length < PAGE || ticked === 0) return;
    }
  }

  return {
    runDue,
    start(intervalMs) {
      timer = setInterval(() => {
        run = run.then(runDue).catch((error: unknown) => logger.error({ error }, 'schedule ticks failed'));
      }, intervalMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await run;
    },
  };
}
