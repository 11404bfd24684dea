/**
 * The lease reaper of an executor: every `intervalMs` it reports lost the open claims whose lease
 * ran out (their executor died or stalled mid-run) and appends the lost events, so an execution in
 * flight on a dead executor is retried about a lease after its last renewal, without waiting for
 * the event log's consumer group to hand the dead executor's partitions over. Each lost report
 * names a partition of the retry lane (`Topics.actionRetries`) this executor consumes
 * (`retryLanePartition`), so the retry's request is appended where a live executor reads it,
 * away from the backlog of first attempts. Every executor runs one; two that find the
 * same claim race by compare-and-set and only the winner appends. The request, when consumed
 * again, finds its claim done and produces the same records (same event ids: consumers drop the
 * duplicate).
 *
 * A claim whose outcome was recorded by a run that appends it itself (its batch left it, see
 * `drain.controller.ts`) and that did not say it did within a lease has its records appended here.
 *
 * A claim's lease is judged on one clock, the reaper's own, by what the store shows: a claim is
 * lapsed once this reaper has seen it at one version (not renewed, not finished) for a whole
 * lease. The `renewedAt` its owner wrote (on the owner's clock) only orders the query, so clocks
 * that disagree between executors never make a live claim look lapsed. A live owner renews its
 * claims three times per lease, so only an owner that could not reach the store for a whole lease
 * loses one. The time between two of the reaper's looks counts towards a lease at most
 * `maxStepMs` (a third of a lease): when this process stalls (a starved machine, a long pause),
 * its wait goes on instead of starting over, and an outage of the store hidden in such a stall
 * costs an owner at most one of its three renewals. A look that fails (the store is away) forgets
 * every claim seen: after an outage of the store every owner has a whole lease to renew before
 * any claim is reported lost.
 */
import type { Clock, Logger } from '@codestep/core';
import type { EventLog, LogRecord } from '@codestep/event-log';
import { fromRecord, toRecord } from '@codestep/events';
import type { ClaimStore, OpenClaim } from './claim.store.ts';
import { lostEvent } from './execution.mapping.ts';

/** How often an executor looks at the open claims, ms: a claim is first seen at most this long after its last renewal. */
export const DEFAULT_LEASE_REAPER_INTERVAL_MS = 500;

/** Open claims looked at per look (oldest renewal first). */
// Every open claim in one look, up to this many: a reaper that saw only the first 100 found a dead
// executor's 300 claims 100 per lease, and live claims of an owner whose clock runs behind (the
// oldest `renewedAt`) could fill the look. Past it, the rest are seen as the first ones close.
const REAP_BATCH = 2_000;

/** What {@link startLeaseReaper} works with. */
export interface LeaseReaperDeps {
  claims: Pick<ClaimStore, 'open' | 'reportLost' | 'markPublished'>;
  eventLog: Pick<EventLog, 'append'>;
  logger: Logger;
  clock: Clock;
  /** The claims' lease, ms. */
  leaseMs: number;
  /** How often to look, ms. */
  intervalMs: number;
  /** The partitions of the retry lane this executor consumes now (empty: none, or not known). */
  partitions(): number[];
}

/** A running reaper; `stop()` resolves once no look is in progress. */
export interface LeaseReaper {
  /** One look, as the timer runs it: the number of claims reported lost (and appended). */
  reapOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** A partition of `partitions` for `executionId`, spreading retries over them; undefined if none. */
export function partitionFor(executionId: string, partitions: number[]): number | undefined {
  if (partitions.length === 0) return undefined;
  let h = 0;
  for (let i = 0; i < executionId.length; i++) h = (h * 31 + executionId.charCodeAt(i)) >>> 0;
  return [...partitions].sort((a, b) => a - b)[h % partitions.length];
}

/** What a look found: lost reports to append (and the claims they close), outcomes to append again. */
interface Found {
  lost: LogRecord[];
  reported: Array<{ executionId: string; token: string }>;
  outcomes: OpenClaim[];
}

/** The log's part of a look: what it found appended, then marked so on the claims. */
async function publishFound({ claims, eventLog, logger }: LeaseReaperDeps, { lost, reported, outcomes }: Found, publishing: Set<string>): Promise<void> {
  try {
    if (outcomes.length) {
      // Recorded by a run that died (or stalled) before saying it appended them: appended here
      // (again, maybe: the same event ids, which consumers drop), then marked appended.
      await eventLog.append(outcomes.flatMap((l) => l.records ?? []));
      for (const { claim } of outcomes) await claims.markPublished({ claim });
      logger.info({ executionIds: outcomes.map((l) => l.claim.id) }, 'appended outcomes their runs recorded but did not say they appended');
    }
    // Recorded on the claims first, unpublished: if this append fails, a look a lease later appends them.
    if (lost.length) await eventLog.append(lost);
    for (const target of reported) await claims.markPublished(target);
  } finally {
    for (const { claim } of outcomes) publishing.delete(claim.id);
  }
}

/**
 * How much of the time between two looks counts towards a claim's lease: a third of a lease (one
 * renewal of a live owner), or more when looks are that far apart by configuration.
 */
export function maxStepMs(leaseMs: number, intervalMs: number): number {
  return Math.max(leaseMs / 3, 1.5 * intervalMs);
}

/** What a reaper has seen of the open claims, on its own clock (see the module comment). */
interface LeaseWatch {
  /** The claims of a look that ended at `ended` seen unchanged for a lease; the others are remembered. */
  lapsed(open: OpenClaim[], ended: number): OpenClaim[];
  /** The store was away: owners could not renew either, every claim is seen afresh once it is back. */
  forget(): void;
  /** For how long the claim has been seen unchanged, as counted. */
  unchangedMs(id: string): number | undefined;
}

/** A {@link LeaseWatch}: the time between two looks counts at most `maxStep`. */
function watchLeases(leaseMs: number, maxStep: number, logger: Logger): LeaseWatch {
  /** The open claims seen: the version last seen, and for how long it has not changed (counted in steps). */
  let seen = new Map<string, { version: number; unchangedMs: number }>();
  /** When the last successful look ended; undefined before the first one and after a failure. */
  let lastLookEnded: number | undefined;
  return {
    lapsed(open, ended) {
      // A stall (this process, or a slow answer) counts at most a step: see the module comment.
      const elapsed = lastLookEnded === undefined ? 0 : Math.max(0, ended - lastLookEnded);
      if (elapsed > maxStep) logger.info({ sinceLastLookMs: elapsed, countedMs: maxStep }, 'lease reaper: a long time between looks; it counts as a third of a lease');
      const step = Math.min(elapsed, maxStep);
      lastLookEnded = ended;
      const next = new Map<string, { version: number; unchangedMs: number }>();
      const out: OpenClaim[] = [];
      for (const o of open) {
        const before = seen.get(o.claim.id);
        const unchangedMs = before?.version === o.claim.version ? before.unchangedMs + step : 0;
        next.set(o.claim.id, { version: o.claim.version, unchangedMs });
        if (unchangedMs >= leaseMs) out.push(o);
      }
      seen = next;
      return out;
    },
    forget() {
      seen = new Map();
      lastLookEnded = undefined;
    },
    unchangedMs: (id) => seen.get(id)?.unchangedMs,
  };
}

/** Looks for lapsed claims every `intervalMs` until stopped (see the module comment). */
export function startLeaseReaper(deps: LeaseReaperDeps): LeaseReaper {
  const { claims, eventLog, logger, clock, leaseMs, intervalMs } = deps;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const watch = watchLeases(leaseMs, maxStepMs(leaseMs, intervalMs), logger);

  /** Outcomes being appended (a look meanwhile leaves them to that append). */
  const publishing = new Set<string>();

  /**
   * The store's part of a look: the open claims, those seen unchanged for a lease taken as lapsed;
   * those without an outcome reported lost (by compare-and-set; their records kept on the claims),
   * and the unpublished outcomes found.
   */
  const look = async (): Promise<Found> => {
    let open;
    try {
      open = await claims.open(REAP_BATCH);
    } catch (error) {
      watch.forget();
      throw error;
    }
    const lapsed = watch.lapsed(open, clock());
    const lost: LogRecord[] = [];
    const reported: Array<{ executionId: string; token: string }> = [];
    const outcomes = lapsed.filter((l) => l.records && !publishing.has(l.claim.id));
    for (const { claim, request, partition } of lapsed) {
      if (!request) continue;
      const env = fromRecord(request);
      if (!env || env.event.$case !== 'actionRequested' || !env.event.value.context) continue;
      const req = env.event.value;
      const lanePartition = partitionFor(req.executionId, deps.partitions());
      // In the request's partition, with the execution's other events (history applies them in that order).
      const records = [{ ...toRecord(lostEvent(req, env.tenantId, clock, lanePartition)), ...(partition !== undefined ? { targetPartition: partition } : {}) }];
      if (!(await claims.reportLost(claim, records))) continue;
      logger.info(
        { executionId: req.executionId, lanePartition, unchangedMs: watch.unchangedMs(claim.id) },
        'reported lost; its retry is to be requested on a partition of the retry lane this executor consumes',
      );
      lost.push(...records);
      reported.push({ executionId: claim.id, token: claim.doc.token ?? '' });
    }
    for (const { claim } of outcomes) publishing.add(claim.id);
    return { lost, reported, outcomes };
  };

  const publish = (found: Found) => publishFound(deps, found, publishing);
  const reapOnce = async () => {
    const found = await look();
    await publish(found);
    return found.lost.length;
  };
  /** Appends in progress, one after the other: a slow log never delays the next look. */
  let appending: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      const found = await look();
      if (found.lost.length || found.outcomes.length) {
        appending = appending.then(() => publish(found).catch((error: unknown) => logger.warn({ error }, 'could not append what the lease reaper found; a look a lease later appends it again')));
      }
    } catch (error) {
      // The store is away: look again at the next tick.
      logger.warn({ error }, 'could not report lapsed execution claims lost');
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    if (stopped || busy) return;
    busy = true;
    running = tick().finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return {
    reapOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await appending;
    },
  };
}
