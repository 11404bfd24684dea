/**
 * Runs the executor's batches and drains them on stop. While running, a batch's requests run up
 * to `concurrency` at a time. Draining, no new request is started and running ones finish (up to
 * `drainTimeoutMs`), their results committed with the batch. Requests of the batch that were not
 * started, and executions still running at the timeout (their claims released: "handed back"),
 * are appended to the topic again in the same commit, so another executor, or this one after a
 * restart, runs them as the same attempt: nothing is lost, nothing is reported as a failure.
 */
import type { Logger } from '@codestep/core';
import type { ConsumedRecord, LogRecord } from '@codestep/event-log';

/** @default {@link ExecutorServiceDeps.drainTimeoutMs} */
export const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;

/** How long {@link DrainController.settle} waits for handed-back runs, ms. */
const SETTLE_BOUND_MS = 5_000;

/** The execution was handed back by a drain that timed out: its result is not this executor's to report. */
export class HandedBack extends Error {
  constructor(executionId: string) {
    super(`execution ${executionId} was handed back at the drain timeout`);
    this.name = 'HandedBack';
  }
}

/** Thrown for a batch that arrives while draining: not committed, so it is delivered again. */
export class Draining extends Error {
  readonly code = 'EXECUTOR_DRAINING';
  constructor() {
    super('the executor is stopping; the batch will be delivered again');
    this.name = 'Draining';
  }
}

/** What a {@link DrainController} works with. */
export interface DrainControllerDeps {
  logger: Logger;
  /** Executions in flight at once. */
  concurrency: number;
  /** How long a drain lets running executions finish before handing them back, ms. */
  drainTimeoutMs: number;
  /** Releases the claim of an execution handed back; never throws. */
  releaseClaim(executionId: string): Promise<void>;
}

/** Batches, the claimed runs within them, and the drain (see the module comment). */
export interface DrainController {
  /**
   * Runs the batch's records with `runOne` and returns what to commit: their records, and the
   * records not run here (not started, or handed back) appended again. Throws {@link Draining}
   * for a batch arriving while draining, and whatever `runOne` throws other than {@link HandedBack}.
   */
  runBatch(batch: ConsumedRecord[], runOne: (record: ConsumedRecord) => Promise<LogRecord[]>): Promise<LogRecord[]>;
  /** Throws {@link HandedBack} once the drain timed out: no new claim is taken then. */
  assertNotHandingBack(executionId: string): void;
  /** A run claimed the execution; if the drain just timed out, releases the claim and throws {@link HandedBack}. */
  claimed(executionId: string): Promise<void>;
  /** A claimed run finished; throws {@link HandedBack} if it was handed back meanwhile. */
  finished(executionId: string): void;
  /** Drains: stops new starts, then `stopConsuming()` (which commits the batch in progress), handing back at the timeout. */
  drain(stopConsuming: () => Promise<void>): Promise<void>;
  /** Waits, bounded, for runs still in progress (handed-back runs settle once the sandbox is closed under them). */
  settle(): Promise<void>;
}

/**
 * The request again, at the end of its topic, committed with the batch. The envelope (and its
 * event id) is unchanged, so history drops it as a duplicate; only the log record id differs,
 * which the SQLite log would otherwise ignore as already appended.
 */
export function requeued(record: ConsumedRecord): LogRecord {
  return { topic: record.topic, key: record.key, value: record.value, headers: record.headers, id: `${record.id ?? record.key}~again@${record.partition}:${record.offset}` };
}

/** Creates the {@link DrainController} of one executor. */
export function createDrainController(deps: DrainControllerDeps): DrainController {
  const { logger, concurrency, drainTimeoutMs } = deps;
  let draining = false;
  let handingBack = false;
  /** Resolved once executions still running at the drain timeout were handed back. */
  const handedBack = Promise.withResolvers<void>();
  /** Claimed and running: a drain that times out releases these claims. */
  const claimedRuns = new Set<string>();
  /** Every run in progress, so stopping closes nothing under them. */
  const inFlight = new Set<Promise<unknown>>();

  /** Runs the batch's records, up to `concurrency` at once, until all ran or draining starts. */
  async function runAll(batch: ConsumedRecord[], runOne: (record: ConsumedRecord) => Promise<LogRecord[]>, results: Array<LogRecord[] | undefined>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
        // Draining: what is running finishes, nothing new starts.
        while (next < batch.length && !draining) {
          const i = next++;
          const one = runOne(batch[i]!);
          inFlight.add(one);
          try {
            results[i] = await one;
          } catch (error) {
            // Handed back: no result here, its request goes out again below.
            if (!(error instanceof HandedBack)) throw error;
          } finally {
            inFlight.delete(one);
          }
        }
      }),
    );
  }

  /** The drain timed out: release the claims of executions still running so a redelivery runs them at once. */
  async function handBack(): Promise<void> {
    handingBack = true;
    const ids = [...claimedRuns];
    claimedRuns.clear();
    if (ids.length) logger.warn({ executionIds: ids, drainTimeoutMs }, 'drain timeout: handing running executions back for redelivery');
    await Promise.all(ids.map(deps.releaseClaim));
    handedBack.resolve();
  }

  return {
    async runBatch(batch, runOne) {
      if (draining) throw new Draining();
      const results: Array<LogRecord[] | undefined> = new Array(batch.length);
      const all = runAll(batch, runOne, results);
      // A drain that times out stops the wait; runs still going are abandoned to the closing sandbox.
      all.catch(() => {});
      await Promise.race([all, handedBack.promise]);
      const out: LogRecord[] = [];
      const again: ConsumedRecord[] = [];
      batch.forEach((record, i) => {
        const r = results[i];
        if (r) out.push(...r);
        else again.push(record);
      });
      if (again.length) {
        logger.info({ requests: again.length }, 'executor stopping: requests not run here are appended again for redelivery');
        out.push(...again.map(requeued));
      }
      return out;
    },
    assertNotHandingBack(executionId) {
      if (handingBack) throw new HandedBack(executionId);
    },
    async claimed(executionId) {
      claimedRuns.add(executionId);
      if (!handingBack) return;
      // Claimed just after the drain timed out: give it straight back.
      claimedRuns.delete(executionId);
      await deps.releaseClaim(executionId);
      throw new HandedBack(executionId);
    },
    finished(executionId) {
      // Handed back meanwhile: its claim is released and its request appended again; whatever the
      // sandbox said (closed under it, most likely) is not this action's result.
      if (!claimedRuns.delete(executionId)) throw new HandedBack(executionId);
    },
    async drain(stopConsuming) {
      draining = true;
      if (inFlight.size) logger.info({ running: inFlight.size, drainTimeoutMs }, 'executor draining: letting running executions finish');
      const timer = setTimeout(() => void handBack(), drainTimeoutMs);
      try {
        // Resolves once the batch in progress is committed: finished results, and the requests
        // to run again (not started, or handed back at the timeout).
        await stopConsuming();
      } finally {
        clearTimeout(timer);
      }
      if (handingBack) await handedBack.promise;
    },
    async settle() {
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, SETTLE_BOUND_MS).unref())]);
    },
  };
}
