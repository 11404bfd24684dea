/**
 * Fires due retry timers, earliest first: each becomes the next attempt's `ActionRequested` (a
 * wait's timeout, its `WaitTimedOut`)
 * (through the pure decider), appended, then marked fired in the timers projection. The request
 * is stamped with the timer's due time, not the clock, so firing a timer again after a crash
 * between the two writes appends the very same record (same id, same bytes). A retry's request
 * goes to the retry lane (`Topics.actionRetries`), where executors run it without waiting behind
 * the backlog of first attempts, and to the actions topic (marked with `RETRY_LANE_HEADER`, which
 * executors skip) for every other consumer. A retry scheduled with a `lanePartition` (an execution
 * reported lost by a live executor) has its lane request appended to that partition, which that
 * executor consumes. One scheduled before the lane (`requestPartition`) goes to that partition
 * of the actions topic only, as it did then.
 */
import type { Logger } from '@codestep/core';
import type { ActionRetryScheduled } from '@codestep/contracts';
import type { EventLog, LogRecord } from '@codestep/event-log';
import { RETRY_LANE_HEADER, Topics, toRecord, type EncodedRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { onRetryDue } from '@codestep/workflows';
import { RETRY_TIMERS, applyToRetryTimers, type TimerDoc } from './retry-timers.projection.ts';
import type { GrantStamper } from './execution-grant.stamper.ts';
import type { WorkflowRepository } from './workflow.repository.ts';

export interface RetryTimersScheduler {
  /** Looks for due timers now (after any run in progress). */
  wake(): void;
  /** Looks for due timers every `intervalMs`. */
  start(intervalMs: number): void;
  /** Stops looking and waits for the run in progress. */
  stop(): Promise<void>;
  /** One run over the due timers (tests). */
  runDue(): Promise<void>;
}

export interface RetryTimersDeps {
  store: DocumentStore;
  /** Ends a wait whose timeout came (a WaitStarted timer), unless it was resumed first. */
  timeOutWait(started: Envelope): Promise<Envelope[]>;
  eventLog: EventLog;
  clock: () => number;
  logger: Logger;
  repository: WorkflowRepository;
  stampGrants: GrantStamper;
}

/**
 * A retry's request as appended (see the module comment): in the actions topic for every consumer
 * and in the retry lane for the executors, or, scheduled before the lane, in the actions topic's
 * partition the failure named.
 */
export function retryRequest(scheduled: ActionRetryScheduled, record: EncodedRecord): LogRecord[] {
  if (scheduled.requestPartition !== undefined && scheduled.lanePartition === undefined) return [{ ...record, targetPartition: scheduled.requestPartition }];
  return [
    { ...record, headers: { ...record.headers, [RETRY_LANE_HEADER]: 'retries' } },
    { ...record, topic: Topics.actionRetries, ...(scheduled.lanePartition !== undefined ? { targetPartition: scheduled.lanePartition } : {}) },
  ];
}

export function createRetryTimersScheduler(deps: RetryTimersDeps): RetryTimersScheduler {
  const { store, eventLog, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let run: Promise<void> = Promise.resolve();

  /** True when the timer fired (false: left pending, logged). */
  async function fire(id: string, dueAt: number, env: Envelope): Promise<boolean> {
    // A wait's timeout: its outcome is reserved and appended there (it marks this timer fired).
    if (env.event.$case === 'waitStarted') return (await deps.timeOutWait(env)).length > 0;
    const ctx = env.event.$case === 'actionRetryScheduled' || env.event.$case === 'stepScheduled' ? env.event.value.context : undefined;
    if (!ctx) return false;
    let next: Envelope[];
    try {
      const wf = await deps.repository.load(env.tenantId, ctx.workflowId, ctx.workflowVersion);
      next = deps.stampGrants(wf, onRetryDue(wf, env.tenantId, env, dueAt));
    } catch (error) {
      logger.error({ timerId: id, error }, 'retry timer for an unknown workflow version; left pending');
      return false;
    }
    await eventLog.append(next.flatMap((e) => (env.event.$case === 'actionRetryScheduled' && e.event.$case === 'actionRequested' ? retryRequest(env.event.value, toRecord(e)) : [toRecord(e)])));
    await applyToRetryTimers(store, next);
    return true;
  }

  /** Fires the due timers, earliest first, 100 at a time until none is due (a fan-out may make thousands). */
  async function runDue(): Promise<void> {
    for (;;) {
      const timers = await store.find<TimerDoc>(RETRY_TIMERS, { where: { kind: 'retry' }, orderBy: { field: 'dueAt', direction: 'asc' }, limit: 100 });
      const now = deps.clock();
      let fired = 0;
      for (const t of timers) {
        if (t.doc.kind !== 'retry' || t.doc.dueAt > now) return;
        if (await fire(t.id, t.doc.dueAt, JSON.parse(t.doc.envelope) as Envelope)) fired++;
      }
      if (timers.length < 100 || fired === 0) return;
    }
  }

  function wake(): void {
    run = run.then(runDue).catch((error: unknown) => logger.error({ error }, 'retry timers failed'));
  }

  return {
    wake,
    runDue,
    start(intervalMs) {
      timer = setInterval(wake, intervalMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await run;
    },
  };
}
