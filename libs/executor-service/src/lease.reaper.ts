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
 * Claims are held by their executor's liveness (see `claim.store.ts`): every look reads the
 * executors' liveness documents (a few small ones), and an executor is dead once this reaper has
 * seen its document at one version for a whole lease; only then are its open claims read (their
 * requests, to build the lost reports), and reported lost at once, a batch at a time, each after
 * its executors' liveness was read again: one that renewed since the look read it (it stalled for
 * a lease and came back, and may have taken some of these claims since) keeps them, the report's
 * compare-and-set being over the claim's version, which renewals do not change. Every lease a look also reads
 * the open claims that no live executor holds (taken by older versions, whose holder's document
 * is gone, or marked `unheld` by a run past every time limit) and outcomes not said appended, and
 * judges each by its own version, on this reaper's clock too, but read a lease apart: the time
 * between two such reads counts at most one and a half leases (`maxStepMs(leaseMs, leaseMs)`),
 * not a third, so such a claim is reported after two reads (one to two leases after its last
 * write) and a long stall of the reaper counts as one read's interval.
 *
 * Leases are judged on one clock, the reaper's own, by what the store shows: the `renewedAt` an
 * owner wrote (on its clock) is never compared with the reaper's, so clocks that disagree between
 * executors never make a live executor look dead. A live executor renews its liveness three times
 * per lease, so only one that could not reach the store for a whole lease loses its claims. The
 * time between two of the reaper's looks at the liveness counts towards a lease at most `maxStepMs`
 * (a third of a lease): when this process stalls (a starved machine, a long pause), its wait goes on instead of
 * starting over, and an outage of the store hidden in such a stall costs an owner at most one of
 * its three renewals. A look that fails (the store is away) forgets everything seen: after an
 * outage of the store every owner has a whole lease to renew before any claim is reported lost.
 */
import type { Clock, Logger } from '@codestep/core';
import type { EventLog, LogRecord } from '@codestep/event-log';
import { fromRecord, toRecord } from '@codestep/events';
import type { StoredDoc } from '@codestep/store';
import type { ClaimDoc, ClaimStore, OpenClaim } from './claim.store.ts';
import { lostEvent } from './execution.mapping.ts';

/** How often an executor looks at the open claims, ms: a claim is first seen at most this long after its last renewal. */
export const DEFAULT_LEASE_REAPER_INTERVAL_MS = 500;

/** Open claims looked at per look (oldest renewal first), and per dead executor. */
// Every open claim in one look, up to this many: a reaper that saw only the first 100 found a dead
// executor's 300 claims 100 per lease, and live claims of an owner whose clock runs behind (the
// oldest `renewedAt`) could fill the look. Past it, the rest are seen as the first ones close.
const REAP_BATCH = 2_000;

/** A dead executor with no open claim left is forgotten (its liveness document deleted) once seen dead this many leases. */
const FORGET_DEAD_AFTER_LEASES = 12;

/** What {@link startLeaseReaper} works with. */
export interface LeaseReaperDeps {
  claims: Pick<ClaimStore, 'open' | 'openOf' | 'executors' | 'executor' | 'forgetExecutor' | 'reportLost' | 'markPublished'>;
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

/** Claims reported lost (or marked appended) at once: a dead executor's hundreds take a few round trips of the store each, not one after the other. */
const REPORT_CONCURRENCY = 16;

/** Runs `each` over `items`, `size` at a time. */
async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
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
    await inBatches(reported, REPORT_CONCURRENCY, (target) => claims.markPublished(target));
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

/** What a reaper has seen of versioned documents (liveness documents, open claims), on its own clock (see the module comment). */
interface LeaseWatch {
  /** The ids of the documents of a look that ended at `ended` seen unchanged for a lease; the others are remembered. */
  lapsed(docs: Array<{ id: string; version: number }>, ended: number): Set<string>;
  /** The store was away: owners could not renew either, every document is seen afresh once it is back. */
  forget(): void;
  /** For how long the document has been seen unchanged, as counted. */
  unchangedMs(id: string): number | undefined;
}

/** A {@link LeaseWatch}: the time between two looks counts at most `maxStep`. */
function watchLeases(leaseMs: number, maxStep: number, logger: Logger): LeaseWatch {
  /** The documents seen: the version last seen, and for how long it has not changed (counted in steps). */
  let seen = new Map<string, { version: number; unchangedMs: number }>();
  /** When the last successful look ended; undefined before the first one and after a failure. */
  let lastLookEnded: number | undefined;
  return {
    lapsed(docs, ended) {
      // A stall (this process, or a slow answer) counts at most a step: see the module comment.
      const elapsed = lastLookEnded === undefined ? 0 : Math.max(0, ended - lastLookEnded);
      if (elapsed > maxStep) logger.info({ sinceLastLookMs: elapsed, countedMs: maxStep }, 'lease reaper: a long time between looks; it counts as a third of a lease');
      const step = Math.min(elapsed, maxStep);
      lastLookEnded = ended;
      const next = new Map<string, { version: number; unchangedMs: number }>();
      const out = new Set<string>();
      for (const { id, version } of docs) {
        const before = seen.get(id);
        const unchangedMs = before?.version === version ? before.unchangedMs + step : 0;
        next.set(id, { version, unchangedMs });
        if (unchangedMs >= leaseMs) out.add(id);
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

/**
 * What a reaper judges lapsed, on its own clock: the open claims of the executors found dead
 * (every look), and those no live executor holds seen unchanged for a lease (read every lease).
 * See the module comment.
 */
function watchClaims(deps: LeaseReaperDeps) {
  const { claims, clock, logger, leaseMs, intervalMs } = deps;
  /** The executors' liveness documents, every look. */
  const executors = watchLeases(leaseMs, maxStepMs(leaseMs, intervalMs), logger);
  /** The open claims no live executor holds, every lease. */
  const orphans = watchLeases(leaseMs, maxStepMs(leaseMs, leaseMs), logger);
  /** When the open claims were last read (every lease); undefined: at the next look. */
  let lastScan: number | undefined;
  /** The executors found dead by the last look, with the version of their liveness seen unchanged for a lease. */
  let judgedDead = new Map<string, number>();

  const lapsed = async (): Promise<OpenClaim[]> => {
    const found = new Map<string, OpenClaim>();
    const docs = await claims.executors();
    const dead = executors.lapsed(docs, clock());
    judgedDead = new Map(docs.filter((d) => dead.has(d.id)).map((d) => [d.id, d.version]));
    for (const holder of dead) {
      const open = await claims.openOf(holder, REAP_BATCH);
      for (const o of open) found.set(o.claim.id, o);
      // Long dead and holding nothing: its document goes (a live one writes it again).
      if (open.length === 0 && (executors.unchangedMs(holder) ?? 0) >= FORGET_DEAD_AFTER_LEASES * leaseMs) await claims.forgetExecutor(holder, judgedDead.get(holder)!);
    }
    const now = clock();
    if (lastScan === undefined || now - lastScan >= leaseMs) {
      lastScan = now;
      const live = new Set(docs.map((d) => d.id).filter((id) => !dead.has(id)));
      const open = (await claims.open(REAP_BATCH)).filter(({ claim: { doc } }) => doc.done || doc.unheld || !doc.holder || (!live.has(doc.holder) && !dead.has(doc.holder)));
      const stale = orphans.lapsed(
        open.map((o) => o.claim),
        clock(),
      );
      for (const o of open) if (stale.has(o.claim.id)) found.set(o.claim.id, o);
    }
    return [...found.values()];
  };

  /**
   * `batch` without the claims of executors found dead that renewed their liveness since (read
   * again now): one that stalled for a lease and came back may have taken some of them after
   * the look read its liveness, and runs them. See the module comment.
   */
  const stillLapsed = async (batch: OpenClaim[]): Promise<OpenClaim[]> => {
    const holders = new Set(batch.flatMap(({ claim: { doc } }) => (doc.holder && !doc.unheld && judgedDead.has(doc.holder) ? [doc.holder] : [])));
    const renewed = new Set<string>();
    for (const holder of holders) {
      const now = await claims.executor(holder);
      if (now && now.version !== judgedDead.get(holder)) renewed.add(holder);
    }
    if (renewed.size) logger.info({ holders: [...renewed] }, 'lease reaper: an executor found dead renewed its liveness since; its claims are left to it');
    return batch.filter(({ claim: { doc } }) => !(doc.holder && !doc.unheld && renewed.has(doc.holder)));
  };

  return {
    lapsed,
    stillLapsed,
    /** The store was away: everything is seen afresh once it is back. */
    forget() {
      executors.forget();
      orphans.forget();
      lastScan = undefined;
      judgedDead = new Map();
    },
    /** For how long what holds the claim has been seen unchanged, as counted. */
    unchangedMs: (claim: StoredDoc<ClaimDoc>) => (claim.doc.holder && !claim.doc.unheld ? executors.unchangedMs(claim.doc.holder) : orphans.unchangedMs(claim.id)),
  };
}

/** Looks for lapsed claims every `intervalMs` until stopped (see the module comment). */
export function startLeaseReaper(deps: LeaseReaperDeps): LeaseReaper {
  const { claims, eventLog, logger, clock, intervalMs } = deps;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const lapsedClaims = watchClaims(deps);

  /** Outcomes being appended (a look meanwhile leaves them to that append). */
  const publishing = new Set<string>();

  /**
   * The store's part of a look: the open claims whose lease ran out (see {@link watchClaims});
   * those without an outcome reported lost (by compare-and-set; their records kept on the claims),
   * and the unpublished outcomes found.
   */
  const look = async (): Promise<Found> => {
    let lapsed;
    try {
      lapsed = await lapsedClaims.lapsed();
    } catch (error) {
      lapsedClaims.forget();
      throw error;
    }
    const lost: LogRecord[] = [];
    const reported: Array<{ executionId: string; token: string }> = [];
    const outcomes = lapsed.filter((l) => l.records && !publishing.has(l.claim.id));
    // A dead executor's hundreds of claims: reported a few at a time, not one store round trip after the other.
    const report = async ({ claim, request, partition }: OpenClaim) => {
      if (!request) return;
      const env = fromRecord(request);
      if (!env || env.event.$case !== 'actionRequested' || !env.event.value.context) return;
      const req = env.event.value;
      const lanePartition = partitionFor(req.executionId, deps.partitions());
      // In the request's partition, with the execution's other events (history applies them in that order).
      const records = [{ ...toRecord(lostEvent(req, env.tenantId, clock, lanePartition)), ...(partition !== undefined ? { targetPartition: partition } : {}) }];
      if (!(await claims.reportLost(claim, records))) return;
      logger.info(
        { executionId: req.executionId, lanePartition, holder: claim.doc.holder, unchangedMs: lapsedClaims.unchangedMs(claim) },
        'reported lost; its retry is to be requested on a partition of the retry lane this executor consumes',
      );
      lost.push(...records);
      reported.push({ executionId: claim.id, token: claim.doc.token ?? '' });
    };
    // Each batch after the liveness of its dead executors was read again (see `stillLapsed`): the
    // report's compare-and-set is over the claim's version, which a renewal does not change.
    for (let i = 0; i < lapsed.length; i += REPORT_CONCURRENCY) await Promise.all((await lapsedClaims.stillLapsed(lapsed.slice(i, i + REPORT_CONCURRENCY))).map(report));
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
