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

/** How long a drain lets running executions finish by default (a little above HubSpot's 20 s default limit), ms. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;

/** How long {@link DrainController.settle} waits for handed-back runs, ms. */
const SETTLE_BOUND_MS = 5_000;

/**
 * The request has no result here: it is appended again at the end of its topic, committed with
 * the batch, so the batch's other requests are not held up by it and it comes again later.
 */
export class Requeue extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Requeue';
  }
}

/** The execution was handed back by a drain that timed out: its result is not this executor's to report. */
export class HandedBack extends Requeue {
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

/**
 * The request again, at the end of its topic, committed with the batch. The envelope (and its
 * event id) is unchanged, so history drops it as a duplicate; only the log record id differs,
 * which the SQLite log would otherwise ignore as already appended (a request appended again more
 * than once keeps one suffix: the latest position).
 */
export function requeued(record: ConsumedRecord): LogRecord {
  const base = (record.id ?? record.key).replace(/~again@\d+:\d+$/, '');
  // In the partition it was in: a retry routed to a live executor's partition keeps its execution's events there.
  return { topic: record.topic, key: record.key, value: record.value, headers: record.headers, id: `${base}~again@${record.partition}:${record.offset}`, targetPartition: record.partition };
}

/** Batches, the claimed runs within them, and the drain of one executor (see the module comment). */
export class DrainController {
  readonly #deps: DrainControllerDeps;
  #draining = false;
  #handingBack = false;
  /** Resolved once executions still running at the drain timeout were handed back. */
  readonly #handedBack = Promise.withResolvers<void>();
  /** Claimed and running: a drain that times out releases these claims. */
  readonly #claimedRuns = new Set<string>();
  /** Every run in progress, so stopping closes nothing under them. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(deps: DrainControllerDeps) {
    this.#deps = deps;
  }

  /**
   * Runs the batch's records with `runOne` and returns what to commit: their records, and the
   * records not run here (not started, handed back, or any other {@link Requeue}) appended again.
   * Throws {@link Draining} for a batch arriving while draining, and whatever `runOne` throws other
   * than a {@link Requeue}.
   */
  async runBatch(batch: ConsumedRecord[], runOne: (record: ConsumedRecord) => Promise<LogRecord[]>): Promise<LogRecord[]> {
    if (this.#draining) throw new Draining();
    const results: Array<LogRecord[] | undefined> = new Array(batch.length);
    const all = this.#runAll(batch, runOne, results);
    // A drain that times out stops the wait; runs still going are abandoned to the closing sandbox.
    all.catch(() => {});
    await Promise.race([all, this.#handedBack.promise]);
    const out: LogRecord[] = [];
    const again: ConsumedRecord[] = [];
    batch.forEach((record, i) => {
      const r = results[i];
      if (r) out.push(...r);
      else again.push(record);
    });
    if (again.length) {
      this.#deps.logger.info({ requests: again.length, draining: this.#draining }, 'requests not run here are appended again for redelivery');
      out.push(...again.map(requeued));
    }
    return out;
  }

  /** Throws {@link HandedBack} once the drain timed out: no new claim is taken then. */
  assertNotHandingBack(executionId: string): void {
    if (this.#handingBack) throw new HandedBack(executionId);
  }

  /** A run claimed the execution; if the drain just timed out, releases the claim and throws {@link HandedBack}. */
  async claimed(executionId: string): Promise<void> {
    this.#claimedRuns.add(executionId);
    if (!this.#handingBack) return;
    // Claimed just after the drain timed out: give it straight back.
    this.#claimedRuns.delete(executionId);
    await this.#deps.releaseClaim(executionId);
    throw new HandedBack(executionId);
  }

  /** A claimed run finished; throws {@link HandedBack} if it was handed back meanwhile. */
  finished(executionId: string): void {
    // Handed back meanwhile: its claim is released and its request appended again; whatever the
    // sandbox said (closed under it, most likely) is not this action's result.
    if (!this.#claimedRuns.delete(executionId)) throw new HandedBack(executionId);
  }

  /** Drains: stops new starts, then `stopConsuming()` (which commits the batch in progress), handing back at the timeout. */
  async drain(stopConsuming: () => Promise<void>): Promise<void> {
    const { logger, drainTimeoutMs } = this.#deps;
    this.#draining = true;
    if (this.#inFlight.size) logger.info({ running: this.#inFlight.size, drainTimeoutMs }, 'executor draining: letting running executions finish');
    const timer = setTimeout(() => void this.#handBack(), drainTimeoutMs);
    try {
      // Resolves once the batch in progress is committed: finished results, and the requests
      // to run again (not started, or handed back at the timeout).
      await stopConsuming();
    } finally {
      clearTimeout(timer);
    }
    if (this.#handingBack) await this.#handedBack.promise;
  }

  /** Waits, bounded, for runs still in progress (handed-back runs settle once the sandbox is closed under them). */
  async settle(): Promise<void> {
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, SETTLE_BOUND_MS).unref())]);
  }

  /** Runs the batch's records, up to `concurrency` at once, until all ran or draining starts. */
  async #runAll(batch: ConsumedRecord[], runOne: (record: ConsumedRecord) => Promise<LogRecord[]>, results: Array<LogRecord[] | undefined>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(this.#deps.concurrency, batch.length) }, async () => {
        // Draining: what is running finishes, nothing new starts.
        while (next < batch.length && !this.#draining) {
          const i = next++;
          const one = runOne(batch[i]!);
          this.#inFlight.add(one);
          try {
            results[i] = await one;
          } catch (error) {
            // Handed back, or held by another run: no result here, its request goes out again below.
            if (!(error instanceof Requeue)) throw error;
          } finally {
            this.#inFlight.delete(one);
          }
        }
      }),
    );
  }

  /** The drain timed out: release the claims of executions still running so a redelivery runs them at once. */
  async #handBack(): Promise<void> {
    this.#handingBack = true;
    const ids = [...this.#claimedRuns];
    this.#claimedRuns.clear();
    if (ids.length) this.#deps.logger.warn({ executionIds: ids, drainTimeoutMs: this.#deps.drainTimeoutMs }, 'drain timeout: handing running executions back for redelivery');
    await Promise.all(ids.map(this.#deps.releaseClaim));
    this.#handedBack.resolve();
  }
}
