/**
 * Fires due retry timers, earliest first: each becomes the next attempt's `ActionRequested` (a
 * wait's timeout, its `WaitTimedOut`)
 * (through the pure decider), appended, then marked fired in the timers projection. They fire in
 * batches (`batchSize`): one append per batch and one write per projection, and the event loop
 * gets a turn between batches, so a burst of 100,000 due at once neither costs a write per timer
 * nor starves the HTTP API and the consumers of the same process. The request
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
  /** Ends the waits whose timeouts came (WaitStarted timers), each unless it was resumed first; returns what was appended. */
  timeOutWaits(started: Envelope[]): Promise<Envelope[]>;
  eventLog: EventLog;
  clock: () => number;
  logger: Logger;
  repository: WorkflowRepository;
  stampGrants: GrantStamper;
  /** Most timers fired in one batch (one append, one write per projection), the event loop given a turn between batches. @default 200 */
  batchSize?: number;
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

/** Gives the event loop a turn (I/O included: the HTTP API of the same process keeps answering during a burst). */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createRetryTimersScheduler(deps: RetryTimersDeps): RetryTimersScheduler {
  const { store, eventLog, logger } = deps;
  const batchSize = deps.batchSize ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let run: Promise<void> = Promise.resolve();

  /** What a due retry or scheduled step becomes, or undefined when its workflow version is unknown (left pending, logged). */
  async function requestOf(id: string, dueAt: number, env: Envelope): Promise<{ next: Envelope[]; records: LogRecord[] } | undefined> {
    const ctx = env.event.$case === 'actionRetryScheduled' || env.event.$case === 'stepScheduled' ? env.event.value.context : undefined;
    if (!ctx) return undefined;
    try {
      const wf = await deps.repository.load(env.tenantId, ctx.workflowId, ctx.workflowVersion);
      const next = deps.stampGrants(wf, onRetryDue(wf, env.tenantId, env, dueAt));
      return { next, records: next.flatMap((e) => (env.event.$case === 'actionRetryScheduled' && e.event.$case === 'actionRequested' ? retryRequest(env.event.value, toRecord(e)) : [toRecord(e)])) };
    } catch (error) {
      logger.error({ timerId: id, error }, 'retry timer for an unknown workflow version; left pending');
      return undefined;
    }
  }

  /**
   * Fires a batch of due timers; returns how many fired. Waits' timeouts go through the wait
   * commands (their outcomes reserved, then appended: one append for the batch); the requests of
   * the others are appended in one append, earliest first, then their timers marked fired in one
   * write. A crash in between fires them again later: the same records (stamped with the due time).
   */
  async function fireBatch(due: Array<{ id: string; dueAt: number; env: Envelope }>): Promise<number> {
    const waits = due.filter((t) => t.env.event.$case === 'waitStarted');
    const others: Array<{ next: Envelope[]; records: LogRecord[] }> = [];
    for (const t of due) {
      if (t.env.event.$case === 'waitStarted') continue;
      const request = await requestOf(t.id, t.dueAt, t.env);
      if (request) others.push(request);
    }
    const [timedOut] = await Promise.all([
      waits.length ? deps.timeOutWaits(waits.map((t) => t.env)) : Promise.resolve([]),
      (async () => {
        if (!others.length) return;
        await eventLog.append(others.flatMap((o) => o.records));
        await applyToRetryTimers(
          store,
          others.flatMap((o) => o.next),
        );
      })(),
    ]);
    return others.length + new Set(timedOut.map((e) => e.aggregateId)).size;
  }

  /** Fires the due timers, earliest first, a batch at a time until none is due (a fan-out may make thousands), yielding between batches. */
  async function runDue(): Promise<void> {
    for (;;) {
      const timers = await store.find<TimerDoc>(RETRY_TIMERS, { where: { kind: 'retry' }, orderBy: { field: 'dueAt', direction: 'asc' }, limit: batchSize });
      const now = deps.clock();
      const due = timers.flatMap((t) => (t.doc.kind === 'retry' && t.doc.dueAt <= now ? [{ id: t.id, dueAt: t.doc.dueAt, env: JSON.parse(t.doc.envelope) as Envelope }] : []));
      if (!due.length) return;
      const fired = await fireBatch(due);
      if (due.length < batchSize || fired === 0) return;
      await yieldToEventLoop();
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
