/**
 * Keeps the leases of an executor's running executions: its liveness, renewed a few times per
 * lease while the executor runs (one write however many executions it runs, see `claim.store.ts`),
 * so the lease can be short (an execution in flight on an executor that died is reported lost
 * seconds later) without a live run ever losing its claim. A run's claim is held that way until a
 * hard bound well past the longest wall time the sandbox allows: the sandbox's own timeout ends a
 * live execution first, and a run stuck beyond it has its claim marked `unheld`, so its lease
 * lapses although its executor lives, and the execution is reported lost and retried.
 */
import type { Logger } from '@codestep/core';
import type { ClaimStore } from './claim.store.ts';

/** Renewals per lease: two may fail or be late before the lease runs out. */
const RENEWALS_PER_LEASE = 3;

/** What {@link startLivenessHeartbeat} works with. */
export interface LivenessHeartbeatDeps {
  claims: Pick<ClaimStore, 'heartbeat'>;
  logger: Logger;
  /** The claims' lease, ms. */
  leaseMs: number;
}

/** What {@link startHoldBound} works with. */
export interface HoldBoundDeps {
  claims: Pick<ClaimStore, 'unhold'>;
  logger: Logger;
  /** The claims' lease, ms: how often a failed mark is tried again. */
  leaseMs: number;
  /** The claim is marked unheld this long after it was taken, ms. */
  holdMs: number;
}

/** A running heartbeat or hold bound; `stop()` resolves once no write is in progress. */
export interface LeaseHeartbeat {
  stop(): Promise<void>;
}

/** The period of renewals, ms. */
const renewalPeriodMs = (leaseMs: number) => Math.max(1, Math.floor(leaseMs / RENEWALS_PER_LEASE));

/** Renews this executor's liveness about three times per lease until stopped (see the module comment). */
export function startLivenessHeartbeat(deps: LivenessHeartbeatDeps): LeaseHeartbeat {
  const { claims, logger, leaseMs } = deps;
  let renewing: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = async () => {
    try {
      await claims.heartbeat();
    } catch (error) {
      // The store is away: try again at the next tick; a lease that runs out meanwhile is reported lost.
      logger.warn({ error }, "could not renew this executor's liveness (the lease of its running executions)");
    }
  };
  const timer = setInterval(() => {
    // One renewal at a time: a slow store never piles them up.
    if (!stopped) renewing = renewing.then(tick);
  }, renewalPeriodMs(leaseMs));
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await renewing;
    },
  };
}

/** Marks the claim held by `token` unheld `holdMs` after now, unless stopped first (see the module comment). */
export function startHoldBound(deps: HoldBoundDeps, executionId: string, token: string): LeaseHeartbeat {
  const { claims, logger, leaseMs, holdMs } = deps;
  let marking: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const mark = async () => {
    if (stopped) return;
    try {
      if (!(await claims.unhold(executionId, token)))
        logger.warn({ executionId }, 'the claim of this running execution is no longer its own (reported lost or handed back); its result will be dropped');
      else logger.warn({ executionId, holdMs }, 'execution still running past every time limit; its claim is no longer held and it will be reported lost');
    } catch (error) {
      // The store is away: try again a third of a lease later.
      logger.warn({ executionId, error }, 'could not mark the claim of an execution running past every time limit');
      if (!stopped) timer = setTimeout(() => void (marking = marking.then(mark)), renewalPeriodMs(leaseMs));
    }
  };
  timer = setTimeout(() => void (marking = marking.then(mark)), holdMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await marking;
    },
  };
}
