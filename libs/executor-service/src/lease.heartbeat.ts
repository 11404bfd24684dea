/**
 * Keeps the leases of an executor's running executions: its liveness, renewed a few times per
 * lease while the executor runs (one write however many executions it runs, see `claim.store.ts`),
 * so the lease can be short (an execution in flight on an executor that died is reported lost
 * seconds later) without a live run ever losing its claim. A run's claim is held that way until a
 * hard bound well past the longest wall time the sandbox allows: the sandbox's own timeout ends a
 * live execution first, and a run stuck beyond it has its claim marked `unheld`, so its lease
 * lapses although its executor lives, and the execution is reported lost and retried. A run that
 * ends without its outcome recorded (the action threw, or recording it failed: the store away, the
 * claim changing under every attempt) abandons its claim: marked `unheld` at once, tried again
 * until written, so it is judged like a dead executor's and reported lost within a lease instead of
 * being held by its live executor forever.
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
  /** A renewal in flight: the ticks meanwhile are skipped, so a slow store never piles them up (nor `stop()`'s wait). */
  let busy = false;
  const tick = async () => {
    try {
      await claims.heartbeat();
    } catch (error) {
      // The store is away: try again at the next tick; a lease that runs out meanwhile is reported lost.
      logger.warn({ error }, "could not renew this executor's liveness (the lease of its running executions)");
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => {
    if (stopped || busy) return;
    busy = true;
    renewing = tick();
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

/** A run's hold bound: stopped once its outcome is recorded, or abandoned (see the module comment). */
export interface HoldBound extends LeaseHeartbeat {
  /**
   * The run ended without its outcome recorded: its claim is marked unheld now (not waited for),
   * tried again a third of a lease later while the store is away, until written (see the module
   * comment). Nothing once stopped.
   */
  abandon(): void;
}

/** Marks the claim held by `token` unheld `holdMs` after now (or once abandoned), unless stopped first (see the module comment). */
export function startHoldBound(deps: HoldBoundDeps, executionId: string, token: string): HoldBound {
  const { claims, logger, leaseMs, holdMs } = deps;
  let marking: Promise<void> = Promise.resolve();
  let stopped = false;
  let abandoned = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number) => {
    timer = setTimeout(() => void (marking = marking.then(mark)), ms);
    // An abandoned claim's marks never keep the process up: once it exits, its liveness stops holding the claim.
    if (abandoned) timer.unref();
  };
  const mark = async () => {
    if (stopped) return;
    try {
      if (!(await claims.unhold(executionId, token))) {
        if (!abandoned) logger.warn({ executionId }, 'the claim of this running execution is no longer its own (reported lost or handed back); its result will be dropped');
      } else if (abandoned) logger.warn({ executionId }, 'execution ended without its outcome recorded; its claim is no longer held and it will be reported lost within a lease');
      else logger.warn({ executionId, holdMs }, 'execution still running past every time limit; its claim is no longer held and it will be reported lost');
    } catch (error) {
      // The store is away: try again a third of a lease later.
      logger.warn(
        { executionId, error },
        abandoned ? 'could not mark the claim of an execution that ended without its outcome recorded' : 'could not mark the claim of an execution running past every time limit',
      );
      if (!stopped) schedule(renewalPeriodMs(leaseMs));
    }
  };
  schedule(holdMs);
  return {
    abandon() {
      if (stopped || abandoned) return;
      abandoned = true;
      clearTimeout(timer);
      marking = marking.then(mark);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await marking;
    },
  };
}
