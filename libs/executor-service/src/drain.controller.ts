/**
 * Runs the executor's batches and drains them on stop. While running, requests run up to
 * `concurrency` at a time over every batch in progress (several partitions may be consumed at
 * once) and over the runs batches left behind; urgent requests (retries) start first, and take
 * one of `urgentSlots` more when every other slot is busy. A batch waits for its runs up to `detachAfterMs`
 * each; a run still going then is left to finish on its own ("detached": its request is committed
 * with the batch, its claim's lease still renewed, and it records and appends its outcome itself),
 * so one long action never holds its partition, and what was appended behind it (another
 * enrollment's request, a lost execution's retry) runs meanwhile. A detached run that ends with no
 * outcome of its own (a peer was down, its claim was held elsewhere) has its request appended
 * again. Draining, no new request is started and running ones, detached or not, finish (up to
 * `drainTimeoutMs`), their results committed with the batch or appended. Requests of the batch
 * that were not started, and executions still running at the timeout (their claims released:
 * "handed back"), are appended to the topic again (with the batch, or at once for a detached run),
 * so another executor, or this one after a restart, runs them as the same attempt: nothing is
 * lost, nothing is reported as a failure.
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
  /**
   * How long a batch waits for one of its runs before leaving it to finish on its own, ms
   * (see the module comment). @default never: the batch waits for every run
   */
  detachAfterMs?: number;
  /** Appends records at once, outside any batch: the requests of detached runs to run again. Needed with `detachAfterMs`. */
  appendAgain?(records: LogRecord[]): Promise<void>;
  /**
   * Requests that start first in their batch and take the next free slot before any other (a
   * retry, whose wait already happened: a lost execution's is not held up by the backlog).
   */
  urgent?(record: ConsumedRecord): boolean;
  /**
   * Slots beyond `concurrency` that only urgent requests take, when every other slot is busy: a
   * retry never waits for long actions to end. @default 0
   */
  urgentSlots?: number;
}

/**
 * One run of a batch's record, as `runOne` sees it. Once it has its result, before recording it,
 * the run asks {@link leftByBatch}: true if its batch left it (it ran past `detachAfterMs`), and
 * it records and appends its outcome itself; false, and from then on its batch waits for it.
 */
export interface BatchRun {
  leftByBatch(): boolean;
}

/** A run in progress, as the controller tracks it. */
interface Run {
  record: ConsumedRecord;
  /** Set once it claimed its execution (see {@link DrainController.claimed}). */
  executionId?: string;
  /** `finishing`: it asked {@link BatchRun.leftByBatch} while attached; its batch waits for it. */
  phase: 'running' | 'finishing' | 'detached';
  /** Its request was appended again at the drain timeout. */
  handedBack?: boolean;
  settled?: Promise<void>;
}

/** Attempts at appending a detached run's request again before giving it up to its claim's lease. */
const APPEND_AGAIN_ATTEMPTS = 6;

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
  /** Runs their batch left to finish on their own. */
  readonly #detached = new Set<Run>();
  /** Free slots of the executor's concurrency, free slots kept for urgent runs, and the runs waiting for one. */
  #free: number;
  #urgentFree: number;
  readonly #waiters: Array<{ urgent: boolean; wake: () => void }> = [];

  constructor(deps: DrainControllerDeps) {
    this.#deps = deps;
    this.#free = Math.max(1, deps.concurrency);
    this.#urgentFree = Math.max(0, deps.urgentSlots ?? 0);
  }

  /**
   * Runs the batch's records with `runOne` and returns what to commit: their records, and the
   * records not run here (not started, handed back, or any other {@link Requeue}) appended again.
   * Runs past `detachAfterMs` are left to finish on their own (see the module comment). Throws
   * {@link Draining} for a batch arriving while draining, and whatever a run of the batch throws
   * other than a {@link Requeue}.
   */
  async runBatch(batch: ConsumedRecord[], runOne: (record: ConsumedRecord, run: BatchRun) => Promise<LogRecord[]>): Promise<LogRecord[]> {
    if (this.#draining) throw new Draining();
    const results: Array<LogRecord[] | undefined> = new Array(batch.length);
    const left = new Set<number>();
    const all = this.#runAll(batch, runOne, results, left);
    // A drain that times out stops the wait; runs still going are abandoned to the closing sandbox.
    all.catch(() => {});
    await Promise.race([all, this.#handedBack.promise]);
    const out: LogRecord[] = [];
    const again: ConsumedRecord[] = [];
    batch.forEach((record, i) => {
      const r = results[i];
      if (r) out.push(...r);
      else if (!left.has(i)) again.push(record);
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

  /**
   * A run claimed the execution; if the drain just timed out, releases the claim and throws
   * {@link HandedBack}. `run`: the run's {@link BatchRun}, so a drain that times out after its
   * batch left it releases its claim only once its request is appended again.
   */
  async claimed(executionId: string, run?: BatchRun): Promise<void> {
    const tracked = run && runs.get(run);
    if (tracked) tracked.executionId = executionId;
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

  /**
   * Drains: stops new starts, then `stopConsuming()` (which commits the batch in progress), then
   * waits for the runs batches left; hands back at the timeout.
   */
  async drain(stopConsuming: () => Promise<void>): Promise<void> {
    const { logger, drainTimeoutMs } = this.#deps;
    this.#draining = true;
    // Acquirers waiting for a slot see the drain and start nothing.
    for (const { wake } of this.#waiters.splice(0)) wake();
    if (this.#inFlight.size) logger.info({ running: this.#inFlight.size, drainTimeoutMs }, 'executor draining: letting running executions finish');
    const timer = setTimeout(() => void this.#handBack(), drainTimeoutMs);
    try {
      // Resolves once the batch in progress is committed: finished results, and the requests
      // to run again (not started, or handed back at the timeout).
      await stopConsuming();
      // Runs their batches left record and append their outcomes themselves.
      await Promise.race([Promise.allSettled([...this.#detached].map((r) => r.settled)), this.#handedBack.promise]);
    } finally {
      clearTimeout(timer);
    }
    if (this.#handingBack) await this.#handedBack.promise;
  }

  /** Waits, bounded, for runs still in progress (handed-back runs settle once the sandbox is closed under them). */
  async settle(): Promise<void> {
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, SETTLE_BOUND_MS).unref())]);
  }

  /**
   * A slot of the executor's concurrency, or for an urgent run one kept for urgent runs when
   * none other is free; resolves undefined (and holds none) once draining.
   */
  async #acquire(urgent: boolean): Promise<Slot | undefined> {
    for (;;) {
      if (this.#draining) return undefined;
      if (this.#free > 0) return (this.#free--, 'shared');
      if (urgent && this.#urgentFree > 0) return (this.#urgentFree--, 'urgent');
      await new Promise<void>((wake) => (urgent ? this.#waiters.unshift({ urgent, wake }) : this.#waiters.push({ urgent, wake })));
    }
  }

  /** Frees the slot and wakes the first run waiting that may take it. */
  #release(slot: Slot): void {
    if (slot === 'shared') this.#free++;
    else this.#urgentFree++;
    const next = slot === 'shared' ? 0 : this.#waiters.findIndex((w) => w.urgent);
    if (next >= 0 && next < this.#waiters.length) this.#waiters.splice(next, 1)[0]!.wake();
  }

  /**
   * Runs the batch's records in order (urgent ones first), each once a slot is free, until all
   * ran or draining starts; waits for each run up to `detachAfterMs`, then leaves it (its index in `left`).
   */
  async #runAll(batch: ConsumedRecord[], runOne: (record: ConsumedRecord, run: BatchRun) => Promise<LogRecord[]>, results: Array<LogRecord[] | undefined>, left: Set<number>): Promise<void> {
    const waits: Promise<void>[] = [];
    let failure: { error: unknown } | undefined;
    // Draining: what is running finishes, nothing new starts.
    const urgent = batch.map((r) => this.#deps.urgent?.(r) ?? false);
    const order = [...batch.keys()].sort((a, b) => Number(urgent[b]) - Number(urgent[a]) || a - b);
    for (const i of order) {
      const slot = failure ? undefined : await this.#acquire(urgent[i]!);
      if (!slot) break;
      const run: Run = { record: batch[i]!, phase: 'running' };
      const control: BatchRun = {
        leftByBatch: () => {
          if (run.phase === 'detached') return true;
          run.phase = 'finishing';
          return false;
        },
      };
      runs.set(control, run);
      const one = runOne(batch[i]!, control);
      this.#inFlight.add(one);
      const settled = one
        .then(
          (records) => {
            if (run.phase !== 'detached') results[i] = records;
          },
          async (error: unknown) => {
            if (run.phase === 'detached') return this.#runAgain(run, error);
            // Handed back, or held by another run: no result here, its request goes out again with the batch.
            if (!(error instanceof Requeue)) failure ??= { error };
          },
        )
        .finally(() => {
          this.#inFlight.delete(one);
          this.#detached.delete(run);
          this.#release(slot);
        });
      run.settled = settled;
      waits.push(this.#waitOrLeave(run, settled, () => left.add(i)));
    }
    await Promise.all(waits);
    if (failure) throw failure.error;
  }

  /** Waits for the run, or leaves it once it ran `detachAfterMs` (unless it is recording its outcome). */
  async #waitOrLeave(run: Run, settled: Promise<void>, leave: () => void): Promise<void> {
    const after = this.#deps.detachAfterMs;
    if (after === undefined || !this.#deps.appendAgain) return settled;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), after)));
    const first = await Promise.race([settled.then(() => 'done' as const), late]);
    clearTimeout(timer);
    if (first === 'done' || run.phase !== 'running') return settled;
    run.phase = 'detached';
    this.#detached.add(run);
    leave();
    this.#deps.logger.debug({ executionId: run.executionId, detachAfterMs: after }, 'a run outlasted its batch: left to finish on its own');
  }

  /** A detached run ended with no outcome of its own: its request is appended again (unless handed back already). */
  async #runAgain(run: Run, error: unknown): Promise<void> {
    const { logger } = this.#deps;
    if (run.handedBack) return;
    if (!(error instanceof Requeue)) logger.warn({ error, executionId: run.executionId }, 'a run its batch had left failed; its request is appended again');
    if (!(await this.#appendAgain([run.record])))
      logger.error({ executionId: run.executionId }, 'could not append the request of a detached run again; its claim, if any, is reported lost once its lease runs out');
  }

  async #appendAgain(records: ConsumedRecord[]): Promise<boolean> {
    for (let attempt = 0; attempt < APPEND_AGAIN_ATTEMPTS; attempt++) {
      try {
        await this.#deps.appendAgain!(records.map(requeued));
        return true;
      } catch (error) {
        this.#deps.logger.warn({ error }, 'could not append requests again; retrying');
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
    return false;
  }

  /**
   * The drain timed out: release the claims of executions still running so a redelivery runs them
   * at once. Those of runs their batch left have their requests appended again first (no batch
   * commits them); if that fails their claims are kept, to be reported lost at their lease's end.
   */
  async #handBack(): Promise<void> {
    this.#handingBack = true;
    const left = [...this.#detached];
    for (const run of left) run.handedBack = true;
    const appended = left.length === 0 || (await this.#appendAgain(left.map((r) => r.record)));
    const keep = new Set(appended ? [] : left.flatMap((r) => (r.executionId ? [r.executionId] : [])));
    const ids = [...this.#claimedRuns].filter((id) => !keep.has(id));
    this.#claimedRuns.clear();
    if (ids.length) this.#deps.logger.warn({ executionIds: ids, drainTimeoutMs: this.#deps.drainTimeoutMs }, 'drain timeout: handing running executions back for redelivery');
    await Promise.all(ids.map(this.#deps.releaseClaim));
    this.#handedBack.resolve();
  }
}

/** A slot of the executor's concurrency (`shared`), or one kept for urgent runs (see `urgentSlots`). */
type Slot = 'shared' | 'urgent';

/** Each {@link BatchRun} handed to `runOne`, to its run. */
const runs = new WeakMap<BatchRun, Run>();
