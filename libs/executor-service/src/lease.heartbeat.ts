/**
 * Keeps the lease of a running execution's claim: renewed a few times per lease while the run goes
 * on, so the lease can be short (an execution in flight on an executor that died is reported lost
 * seconds later) without a live run ever losing its claim. Renewal stops at a hard bound well past
 * the longest wall time the sandbox allows: the sandbox's own timeout ends a live execution first,
 * and a run stuck beyond it lets its lease lapse so the execution is reported lost and retried.
 */
import type { Logger } from '@codestep/core';
import type { ClaimStore } from './claim.store.ts';

/** Renewals per lease: two may fail or be late before the lease runs out. */
const RENEWALS_PER_LEASE = 3;

/** What {@link startLeaseHeartbeat} works with. */
export interface LeaseHeartbeatDeps {
  claims: Pick<ClaimStore, 'renew'>;
  logger: Logger;
  /** The claims' lease, ms. */
  leaseMs: number;
  /** Renewal stops this long after the claim was taken, ms. */
  holdMs: number;
}

/** A running heartbeat; `stop()` resolves once no renewal is in progress. */
export interface LeaseHeartbeat {
  stop(): Promise<void>;
}

/** Renews the claim held by `token` until stopped, until the claim is no longer this run's, or until `holdMs`. */
export function startLeaseHeartbeat(deps: LeaseHeartbeatDeps, executionId: string, token: string): LeaseHeartbeat {
  const { claims, logger, leaseMs, holdMs } = deps;
  const until = Date.now() + holdMs;
  let renewing: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const halt = () => {
    stopped = true;
    clearInterval(timer);
  };
  const tick = async () => {
    if (Date.now() >= until) {
      logger.warn({ executionId, holdMs }, 'execution still running past every time limit; its claim is no longer renewed and it will be reported lost');
      return halt();
    }
    try {
      if (await claims.renew(executionId, token)) return;
      logger.warn({ executionId }, 'the claim of this running execution is no longer its own (reported lost or handed back); its result will be dropped');
      halt();
    } catch (error) {
      // The store is away: try again at the next tick; a lease that runs out meanwhile is reported lost.
      logger.warn({ executionId, error }, 'could not renew the claim of a running execution');
    }
  };
  timer = setInterval(
    () => {
      if (!stopped) renewing = renewing.then(tick);
    },
    Math.max(1, Math.floor(leaseMs / RENEWALS_PER_LEASE)),
  );
  return {
    async stop() {
      halt();
      await renewing;
    },
  };
}
