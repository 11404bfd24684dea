/**
 * The lease reaper of an executor: every `intervalMs` it reports lost the open claims whose lease
 * ran out (their executor died or stalled mid-run) and appends the lost events, so an execution in
 * flight on a dead executor is retried about a lease after its last renewal, without waiting for
 * the event log's consumer group to hand its request to another executor. Every executor runs one;
 * two that find the same claim race by compare-and-set and only the winner appends. A claim whose
 * owner is alive is renewed three times per lease, so it is never taken (see `claim.store.ts`).
 * The request, when consumed again, finds its claim done and produces the same records again
 * (same event ids: consumers drop the duplicate).
 */
import type { Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import type { ClaimStore } from './claim.store.ts';

/** How often an executor looks for claims whose lease ran out, ms. */
export const DEFAULT_LEASE_REAPER_INTERVAL_MS = 1_000;

/** Lapsed claims reported per look. */
const REAP_BATCH = 100;

/** What {@link startLeaseReaper} works with. */
export interface LeaseReaperDeps {
  claims: Pick<ClaimStore, 'reapLapsed'>;
  eventLog: Pick<EventLog, 'append'>;
  logger: Logger;
  /** How often to look, ms. */
  intervalMs: number;
}

/** A running reaper; `stop()` resolves once no look is in progress. */
export interface LeaseReaper {
  /** One look, as the timer runs it: the number of claims reported lost (and appended). */
  reapOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Looks for lapsed claims every `intervalMs` until stopped (see the module comment). */
export function startLeaseReaper(deps: LeaseReaperDeps): LeaseReaper {
  const { claims, eventLog, logger, intervalMs } = deps;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const reapOnce = async () => {
    let reported = 0;
    for (;;) {
      const won = await claims.reapLapsed(REAP_BATCH);
      // Recorded on the claim first: if this append fails, the request's redelivery produces them.
      if (won.length) await eventLog.append(won.flat());
      reported += won.length;
      if (won.length < REAP_BATCH || stopped) return reported;
    }
  };
  const tick = async () => {
    try {
      await reapOnce();
    } catch (error) {
      // The store or the log is away: look again at the next tick.
      logger.warn({ error }, 'could not report lapsed execution claims lost');
    }
  };
  const timer = setInterval(() => {
    if (!stopped) running = running.then(tick);
  }, intervalMs);
  timer.unref();
  return {
    reapOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
