/**
 * The claims of executions, the one decision record of each execution's outcome. A request is
 * claimed (insert-if-absent) before it runs, so a redelivered request never runs an action twice.
 * A finished run records its outcome on its claim by compare-and-set, together with the records it
 * produced: an outbox that a redelivery produces again. A claim is a short lease, held by its
 * executor's liveness: each executor process (an incarnation, named on the claims it takes as
 * `holder`) renews one document of its own in {@link EXECUTORS} a few times per lease, one write
 * however many claims it holds, and writes nothing to its claims while they run. A claim whose
 * holder stopped renewing for a lease was left by an executor that died mid-run: it is reported
 * lost, by compare-and-set over the claim version read, so an owner that finished in the meantime
 * wins. A run that goes on past every time limit marks its claim `unheld`: from then on its lease
 * is the claim's own, and it lapses (nothing renews it). Claims without a `holder` (taken by older
 * versions, which renewed each claim) are judged by their own version too. A claim whose lease still runs is {@link ClaimHeld}: the caller
 * decides how to wait, so one lost execution never holds up work that was not in flight. An open
 * claim keeps the request it was taken for and is marked `leaseOpen` (indexed with `renewedAt`),
 * so a lease reaper finds lapsed claims without waiting for their request to be consumed again
 * ({@link ClaimStore.open}, see `lease.reaper.ts`); the request, when consumed again, finds
 * its claim done and produces the same records (same event ids).
 */
import { randomUUID } from 'node:crypto';
import type { Clock, Logger } from '@codestep/core';
import type { LogRecord } from '@codestep/event-log';
import type { DocumentStore, StoredDoc } from '@codestep/store';

/** The store collection holding one claim per execution id. */
export const CLAIMS = 'execution_claims';

/** The store collection holding one liveness document per executor process, written by it alone. */
export const EXECUTORS = 'executor_liveness';

/** An executor process's liveness: renewed a few times per lease while it runs (see the module comment). */
export interface LivenessDoc {
  executorId: string;
  /** Last renewal, on the executor's clock (what a redelivery's {@link ClaimHeld} wait is told). */
  renewedAt: number;
}

/**
 * A released claim: a tombstone, not a delete, so the claim's version keeps growing and a write of
 * its former run over a version it knew (in flight while it was released) fails instead of
 * bringing the claim back over the next run's. The next claim takes it over.
 */
interface ReleasedDoc {
  released: true;
  releasedAt: number;
}

/** A log record as kept on a claim (its value base64-encoded). */
export interface StoredRecord {
  topic: string;
  key: string;
  /** The record's value, base64. */
  value: string;
  headers: Record<string, string>;
  id?: string;
  /** The record's `targetPartition`, if any. */
  partition?: number;
}

/** The claim of one execution. */
export interface ClaimDoc {
  executorId: string;
  claimedAt: number;
  /** When the claim was taken (claims of older versions: their last renewal), on its executor's clock. */
  renewedAt?: number;
  /** The executor process whose liveness holds the claim (its document in {@link EXECUTORS}); unset: the claim's own version does. */
  holder?: string;
  /** The run went on past every time limit: the claim's own version holds it now, and nothing renews it. */
  unheld?: true;
  /** Unique per claim: only the run that took this claim may record its outcome. */
  token?: string;
  /** Set once the execution finished: the records it produced (an outbox for redelivery). */
  done?: boolean;
  records?: StoredRecord[];
  /**
   * Set while the claim has no outcome, or has one not appended yet (`unpublished`): the lease
   * reaper's query (indexed with `renewedAt`).
   */
  leaseOpen?: true;
  /**
   * The outcome was recorded by a run that appends its records itself (its batch left it, see
   * `drain.controller.ts`) and has not said it did: a reaper appends them a lease after `renewedAt`.
   */
  unpublished?: true;
  /** The consumed request record's value (an encoded envelope), base64: what a lost report is built from. */
  request?: string;
  /** The actions topic's partition the request was consumed from, where the execution's events go (see `action-request.runner.ts`); unset: its key's. */
  requestPartition?: number;
}

/**
 * A claim closed with an outcome: the records it produced, nothing of its open lease; `unpublished`
 * keeps it in the reaper's query until its run says the records were appended.
 */
function closed(doc: ClaimDoc, executorId: string, at: number, records: LogRecord[], unpublished = false): ClaimDoc {
  const { leaseOpen: _open, request: _request, requestPartition: _partition, unpublished: _unpublished, ...rest } = doc;
  return { ...rest, executorId, claimedAt: at, done: true, records: records.map(toStored), ...(unpublished ? { leaseOpen: true as const, unpublished: true as const, renewedAt: at } : {}) };
}

/**
 * An open claim, as the reaper gets it: one with no outcome (with its request, if it kept one), or
 * an outcome not said appended yet (its records). The reaper judges whether its lease ran out.
 */
export type OpenClaim =
  | { claim: StoredDoc<ClaimDoc>; request: Uint8Array | undefined; partition: number | undefined; records?: undefined }
  | { claim: StoredDoc<ClaimDoc>; records: LogRecord[]; request?: undefined; partition?: undefined };

/** A log record as kept on a claim. */
export const toStored = (r: LogRecord): StoredRecord => ({
  topic: r.topic,
  key: r.key,
  value: Buffer.from(r.value).toString('base64'),
  headers: r.headers,
  ...(r.id ? { id: r.id } : {}),
  ...(r.targetPartition !== undefined ? { partition: r.targetPartition } : {}),
});
/** A log record kept on a claim, as produced again. */
export const fromStored = (r: StoredRecord): LogRecord => ({
  topic: r.topic,
  key: r.key,
  value: new Uint8Array(Buffer.from(r.value, 'base64')),
  headers: r.headers,
  ...(r.id ? { id: r.id } : {}),
  ...(r.partition !== undefined ? { targetPartition: r.partition } : {}),
});

/** What a {@link ClaimStore} works with. */
export interface ClaimStoreDeps {
  store: DocumentStore;
  clock: Clock;
  logger: Logger;
  /** Recorded on the claims this executor takes. */
  executorId: string;
  /** A claim not renewed for this long with no outcome is considered lost, ms. */
  leaseMs: number;
  /** This executor process's liveness document id (default: the executor id and a random suffix). */
  incarnation?: string;
}

/** The execution is claimed by a run whose lease still runs: its outcome is not known yet. */
export class ClaimHeld extends Error {
  /** How long until the lease runs out unless it is renewed, ms. */
  readonly leaseLeftMs: number;
  constructor(executionId: string, executorId: string | undefined, leaseLeftMs: number) {
    super(`execution ${executionId} is claimed by ${executorId}; waiting for its result`);
    this.name = 'ClaimHeld';
    this.leaseLeftMs = leaseLeftMs;
  }
}

/** Claims of executions over a {@link DocumentStore} (see the module comment). */
export interface ClaimStore {
  ensureCollection(): Promise<void>;
  /** The claim of the execution, if any. */
  get(executionId: string): Promise<StoredDoc<ClaimDoc> | null>;
  /**
   * Claims the execution for one run of this executor: the run's token, or undefined if it was
   * claimed already. `request` (the consumed request's value) is kept on the open claim.
   */
  claim(executionId: string, request?: { value: Uint8Array; partition?: number }): Promise<string | undefined>;
  /**
   * What to produce for an execution claimed already (`seen`, or read again when null): the
   * records of its outcome if it finished; the `lost` records, recorded as its outcome, if its
   * claim's lease ran out with none. Throws {@link ClaimHeld} while the lease runs (another run
   * may still finish it), and an error when the claim changed under the lost report.
   */
  outcomeOfClaimed(executionId: string, seen: StoredDoc<ClaimDoc> | null, lost: () => LogRecord[]): Promise<LogRecord[]>;
  /**
   * Records a finished run's outcome on its claim, compare-and-set, and returns the records to
   * produce. If the claim was meanwhile declared lost by another executor (this one stalled past
   * its lease), that outcome stands and is produced again instead, so the log never holds two
   * different results for one execution; if the claim was released and taken by another run, this
   * run produces nothing and that run's result will. `unpublished`: the run appends the records
   * itself, then calls {@link markPublished}; until then a reaper appends them a lease later.
   */
  recordOutcome(executionId: string, token: string, records: LogRecord[], options?: { unpublished?: boolean }): Promise<LogRecord[]>;
  /**
   * The records of an `unpublished` outcome were appended: the claim leaves the reaper's query.
   * `token`: the run's (only its own outcome), or `claim`: the very version a reaper saw. Never
   * throws (a reaper then appends them again: the same event ids, dropped by consumers).
   */
  markPublished(target: { executionId: string; token: string } | { claim: StoredDoc<ClaimDoc> }): Promise<void>;
  /** This executor process's liveness document id (`holder` on the claims it takes). */
  readonly incarnation: string;
  /**
   * Renews this executor's liveness: one write, holding every claim it took (see the module
   * comment). Throws when the store is away.
   */
  heartbeat(): Promise<void>;
  /**
   * The run holding `token` goes on past every time limit: its claim is marked `unheld`, so its
   * lease lapses although its executor lives (compare-and-set; false once the claim is no longer
   * that run's).
   */
  unhold(executionId: string, token: string): Promise<boolean>;
  /** Every executor's liveness document (one per executor process). */
  executors(): Promise<Array<StoredDoc<LivenessDoc>>>;
  /** The liveness document of the executor process `incarnation`, as it is now (null: none). */
  executor(incarnation: string): Promise<StoredDoc<LivenessDoc> | null>;
  /**
   * Deletes the liveness document of an executor found dead with no open claim left, if it is
   * still at `version` (the one seen dead; read again, so one renewed meanwhile is kept); never throws.
   */
  forgetExecutor(incarnation: string, version: number): Promise<void>;
  /**
   * Releases the claim (a tombstone, see {@link ReleasedDoc}) so a redelivery runs the execution
   * at once; never throws.
   */
  release(executionId: string): Promise<void>;
  /**
   * The open claims, oldest renewal first, up to `limit`: each with the request it was taken for
   * (undefined for claims of older versions, left to the request's redelivery), or with its
   * recorded records if its outcome is still `unpublished`. Whether a lease ran out is for the
   * caller to judge, on its own clock, by how long it has seen a claim's version unchanged (see
   * `lease.reaper.ts`): the `renewedAt` on a claim is its owner's clock.
   */
  open(limit: number): Promise<OpenClaim[]>;
  /** The open claims held by the executor process `holder`, up to `limit` (see {@link open}). */
  openOf(holder: string, limit: number): Promise<OpenClaim[]>;
  /**
   * Records `records` (a lost report) as the outcome of a lapsed claim, compare-and-set over the
   * version seen lapsed: false if it was renewed, finished or reported meanwhile. Recorded as
   * `unpublished`: the reaper marks it appended once it is (see {@link markPublished}).
   */
  reportLost(claim: StoredDoc<ClaimDoc>, records: LogRecord[]): Promise<boolean>;
}

/** Whether a stored claim is a released one's tombstone. */
const isReleased = (doc: ClaimDoc | ReleasedDoc): doc is ReleasedDoc => 'released' in doc && doc.released === true;

/** The records kept on a claim, as produced again. */
const recordsOf = (claim: StoredDoc<ClaimDoc>) => (claim.doc.records ?? []).map(fromStored);

/** {@link ClaimStore.markPublished} over `store`. */
async function markPublished(store: DocumentStore, logger: Logger, target: { executionId: string; token: string } | { claim: StoredDoc<ClaimDoc> }): Promise<void> {
  try {
    const current = 'claim' in target ? target.claim : await store.get<ClaimDoc>(CLAIMS, target.executionId);
    if (!current?.doc.unpublished || ('token' in target && current.doc.token !== target.token)) return;
    const { leaseOpen: _open, unpublished: _unpublished, ...rest } = current.doc;
    await store.compareAndSet<ClaimDoc>(CLAIMS, current.id, current.version, rest);
  } catch (error) {
    logger.warn({ error }, 'could not mark an execution outcome appended; a lease reaper appends it again');
  }
}

/** Compare-and-set attempts of {@link ClaimStore.recordOutcome}, {@link ClaimStore.unhold}, {@link ClaimStore.claim} and {@link ClaimStore.release} before they give up. */
const RECORD_ATTEMPTS = 5;

/**
 * The claims an executor's runs hold, as last written by them (the run's token, the version and
 * document): a renewal or an outcome is written over that version without reading it first. A
 * compare-and-set that fails (another executor wrote meanwhile) falls back to reading it.
 */
function heldClaims(store: DocumentStore) {
  const held = new Map<string, { token: string; version: number; doc: ClaimDoc }>();
  const heldBy = (executionId: string, token: string) => {
    const h = held.get(executionId);
    return h?.token === token ? h : undefined;
  };
  /** Writes `doc` over `version` by compare-and-set, kept as this run's if that won. */
  const writeAt = async (executionId: string, token: string, version: number, doc: ClaimDoc): Promise<boolean> => {
    if (!(await store.compareAndSet<ClaimDoc>(CLAIMS, executionId, version, doc))) return false;
    held.set(executionId, { token, version: version + 1, doc });
    return true;
  };
  return {
    heldBy,
    set: (executionId: string, token: string, version: number, doc: ClaimDoc) => void held.set(executionId, { token, version, doc }),
    /** What this executor last wrote on the claim, if it holds it. */
    peek: (executionId: string) => held.get(executionId),
    delete: (executionId: string) => void held.delete(executionId),
    /** Marks the `unpublished` outcome this run recorded appended, over its version: true if that won (never throws). */
    async publish(executionId: string, token: string): Promise<boolean> {
      const h = heldBy(executionId, token);
      held.delete(executionId);
      if (!h?.doc.unpublished) return false;
      const { leaseOpen: _open, unpublished: _unpublished, ...rest } = h.doc;
      return store.compareAndSet<ClaimDoc>(CLAIMS, executionId, h.version, rest).catch(() => false);
    },
    /** Writes `doc` over the version this run last wrote, if it knows it: true if that won. */
    async writeOver(executionId: string, token: string, doc: (held: ClaimDoc) => ClaimDoc): Promise<boolean> {
      const h = heldBy(executionId, token);
      if (!h) return false;
      if (await writeAt(executionId, token, h.version, doc(h.doc))) return true;
      held.delete(executionId);
      return false;
    },
    writeAt,
  };
}

/** An open claim as the reaper gets it (none for a closed one). */
function openClaim(claim: StoredDoc<ClaimDoc>): OpenClaim[] {
  if (claim.doc.done) return claim.doc.unpublished ? [{ claim, records: recordsOf(claim) }] : [];
  const request = claim.doc.request ? new Uint8Array(Buffer.from(claim.doc.request, 'base64')) : undefined;
  return [{ claim, request, partition: claim.doc.requestPartition }];
}

/** {@link ClaimStore.recordOutcome} over the claim as read again (see there): `close` makes the outcome's document. */
async function recordOverRead(store: DocumentStore, logger: Logger, executionId: string, token: string, records: LogRecord[], close: (doc: ClaimDoc) => ClaimDoc): Promise<LogRecord[]> {
  for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
    const current = await store.get<ClaimDoc>(CLAIMS, executionId);
    if (current?.doc.done) {
      logger.warn({ executionId, recordedBy: current.doc.executorId }, 'the execution finished after it had been reported lost; the recorded outcome stands and this result is dropped');
      return recordsOf(current);
    }
    if (!current || current.doc.token !== token) {
      logger.warn({ executionId }, 'the claim of this run was released and taken by another run; its result is dropped');
      return [];
    }
    if (await store.compareAndSet<ClaimDoc>(CLAIMS, executionId, current.version, close(current.doc))) return records;
  }
  throw new Error(`the claim of execution ${executionId} kept changing while its result was being recorded`);
}

/** An executor process's liveness in {@link EXECUTORS} (see the module comment). */
function livenessOf(store: DocumentStore, clock: Clock, logger: Logger, executorId: string, incarnation: string, leaseMs: number) {
  /** The version of this executor's liveness document last written: growing across restarts under the same id too. */
  let livenessVersion = 0;
  /** When this executor's liveness was last written (its clock), and the write in flight. */
  let lastBeat: number | undefined;
  let beating: Promise<void> | undefined;
  const heartbeat = () =>
    (beating ??= (async () => {
      try {
        const at = clock();
        livenessVersion = Math.max(livenessVersion + 1, Date.now());
        await store.writeVersioned<LivenessDoc>(EXECUTORS, [{ id: incarnation, version: livenessVersion, doc: { executorId, renewedAt: at } }]);
        lastBeat = at;
      } finally {
        beating = undefined;
      }
    })());
  /**
   * Before a claim: this executor's liveness written within half a lease (its heartbeat keeps it
   * so), so no claim is held by a liveness document never written, or one a reaper finds stale.
   */
  const beatIfDue = async () => {
    if (lastBeat === undefined || clock() - lastBeat >= leaseMs / 2) await heartbeat();
  };

  /** When the claim's holder last said it runs, on its clock: its executor's liveness, or the claim's own renewal if unheld or of an older version. */
  const lastRenewal = async (doc: ClaimDoc): Promise<number> => {
    const own = doc.renewedAt ?? doc.claimedAt;
    if (!doc.holder || doc.unheld) return own;
    const liveness = await store.get<LivenessDoc>(EXECUTORS, doc.holder);
    return Math.max(own, liveness?.doc.renewedAt ?? own);
  };

  return {
    heartbeat,
    beatIfDue,
    lastRenewal,
    executors: () => store.find<LivenessDoc>(EXECUTORS, {}),
    executor: (id: string) => store.get<LivenessDoc>(EXECUTORS, id),
    async forgetExecutor(id: string, version: number) {
      try {
        // The store has no compare-and-delete: what is left is a renewal landing between this read
        // and the delete, which the executor's next renewal (a third of a lease later) writes again.
        const now = await store.get<LivenessDoc>(EXECUTORS, id);
        if (now?.version === version) await store.delete(EXECUTORS, id);
      } catch (error) {
        logger.warn({ incarnation: id, error }, 'could not delete the liveness document of a dead executor; a later look deletes it');
      }
    },
  };
}

type HeldClaims = ReturnType<typeof heldClaims>;

/** The claim of the execution, none if absent or released. */
async function claimOf(store: DocumentStore, executionId: string): Promise<StoredDoc<ClaimDoc> | null> {
  const claim = await store.get<ClaimDoc | ReleasedDoc>(CLAIMS, executionId);
  return claim && !isReleased(claim.doc) ? (claim as StoredDoc<ClaimDoc>) : null;
}

/** {@link ClaimStore.claim}: inserts `doc`, or takes over a released claim's tombstone; the version written, or undefined if claimed. */
async function takeClaim(store: DocumentStore, executionId: string, doc: ClaimDoc): Promise<number | undefined> {
  for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
    if (await store.insertIfAbsent<ClaimDoc>(CLAIMS, executionId, doc)) return 1;
    // A released claim is taken over, by compare-and-set over its tombstone.
    const current = await store.get<ClaimDoc | ReleasedDoc>(CLAIMS, executionId);
    if (!current) continue;
    if (!isReleased(current.doc)) return undefined;
    if (await store.compareAndSet<ClaimDoc>(CLAIMS, executionId, current.version, doc)) return current.version + 1;
  }
  return undefined;
}

/** {@link ClaimStore.unhold} (see there). */
async function unholdClaim(store: DocumentStore, held: HeldClaims, clock: Clock, executionId: string, token: string): Promise<boolean> {
  const unheld = (doc: ClaimDoc): ClaimDoc => ({ ...doc, unheld: true, renewedAt: clock() });
  if (await held.writeOver(executionId, token, unheld)) return true;
  for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
    const current = await store.get<ClaimDoc>(CLAIMS, executionId);
    if (!current || current.doc.token !== token || current.doc.done) return false;
    if (await held.writeAt(executionId, token, current.version, unheld(current.doc))) return true;
  }
  throw new Error(`the claim of execution ${executionId} kept changing while it was being marked unheld`);
}

/** {@link ClaimStore.release} (see there): a tombstone over the claim, unless it is closed, released or another run's already. */
async function releaseClaim(store: DocumentStore, held: HeldClaims, clock: Clock, logger: Logger, executionId: string): Promise<void> {
  const mine = held.peek(executionId);
  held.delete(executionId);
  const tombstone: ReleasedDoc = { released: true, releasedAt: clock() };
  try {
    // Over the version this run last wrote: no read when nobody else wrote since.
    if (mine && (await store.compareAndSet<ReleasedDoc>(CLAIMS, executionId, mine.version, tombstone))) return;
    for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
      const current = await store.get<ClaimDoc | ReleasedDoc>(CLAIMS, executionId);
      // Gone, released, finished (reported lost meanwhile) or another run's: nothing to release.
      if (!current || isReleased(current.doc) || current.doc.done || (mine && current.doc.token !== mine.token)) return;
      if (await store.compareAndSet<ReleasedDoc>(CLAIMS, executionId, current.version, tombstone)) return;
    }
    throw new Error(`the claim of execution ${executionId} kept changing while it was being released`);
  } catch (error) {
    // The lease then runs out (nothing holds it once this executor stops) and the execution is reported EXECUTOR_LOST, retryable.
    logger.warn({ executionId, error }, 'could not release the claim of a handed-back execution');
  }
}

/** Creates the {@link ClaimStore} of one executor. */
export function createClaimStore(deps: ClaimStoreDeps): ClaimStore {
  const { store, clock, logger, executorId, leaseMs } = deps;
  const incarnation = deps.incarnation ?? `${executorId}/${randomUUID()}`;
  const get = (id: string) => claimOf(store, id);
  const held = heldClaims(store);
  const writeOverHeld = held.writeOver;
  const liveness = livenessOf(store, clock, logger, executorId, incarnation, leaseMs);
  const { heartbeat, beatIfDue, lastRenewal } = liveness;

  return {
    incarnation,
    async ensureCollection() {
      await store.ensureCollection(CLAIMS, [{ fields: ['leaseOpen', 'renewedAt'] }, { fields: ['holder', 'leaseOpen'] }]);
      await store.ensureCollection(EXECUTORS, []);
    },
    get,
    heartbeat,
    async claim(executionId, request) {
      await beatIfDue();
      const token = `${executorId}/${randomUUID()}`;
      const now = clock();
      const doc: ClaimDoc = {
        executorId,
        claimedAt: now,
        renewedAt: now,
        token,
        holder: incarnation,
        leaseOpen: true,
        ...(request ? { request: Buffer.from(request.value).toString('base64'), ...(request.partition !== undefined ? { requestPartition: request.partition } : {}) } : {}),
      };
      const version = await takeClaim(store, executionId, doc);
      if (version === undefined) return undefined;
      held.set(executionId, token, version, doc);
      return token;
    },
    async outcomeOfClaimed(executionId, seen, lost) {
      const claim = seen ?? (await get(executionId));
      // Already ran: produce its records again (same event ids, so consumers drop them if the
      // first commit did land; if the executor died before committing, this is the only copy).
      if (claim?.doc.done) return recordsOf(claim);
      const sinceRenewed = claim ? clock() - (await lastRenewal(claim.doc)) : Infinity;
      // Another run may still be going (its executor renews its liveness); only a lapsed lease is lost.
      if (sinceRenewed < leaseMs) throw new ClaimHeld(executionId, claim?.doc.executorId, leaseMs - sinceRenewed);
      logger.warn({ executionId }, 'execution claimed by an executor that did not finish it; reporting it lost');
      const records = lost();
      // "Lost" is recorded only over the very claim version seen stale, so an owner that
      // finished in the meantime wins.
      if (claim && (await store.compareAndSet<ClaimDoc>(CLAIMS, executionId, claim.version, closed(claim.doc, executorId, clock(), records)))) return records;
      const now = await get(executionId);
      if (now?.doc.done) return recordsOf(now);
      throw new Error(`the claim of execution ${executionId} changed while it was being reported lost; looking again`);
    },
    async recordOutcome(executionId, token, records, options) {
      const close = (doc: ClaimDoc) => closed(doc, doc.executorId, clock(), records, options?.unpublished);
      try {
        // Over the version this run last wrote: no read when nobody else wrote since.
        if (await writeOverHeld(executionId, token, close)) return records;
      } finally {
        if (!options?.unpublished) held.delete(executionId);
      }
      return recordOverRead(store, logger, executionId, token, records, close);
    },
    async markPublished(target) {
      // Over the outcome this run recorded, if nobody wrote since: no read.
      if ('token' in target && (await held.publish(target.executionId, target.token))) return;
      return markPublished(store, logger, target);
    },
    unhold: (executionId, token) => unholdClaim(store, held, clock, executionId, token),
    release: (executionId) => releaseClaim(store, held, clock, logger, executionId),
    executors: liveness.executors,
    executor: liveness.executor,
    forgetExecutor: liveness.forgetExecutor,
    async open(limit) {
      const open = await store.find<ClaimDoc>(CLAIMS, { where: { leaseOpen: true }, orderBy: { field: 'renewedAt', direction: 'asc' }, limit });
      return open.flatMap(openClaim);
    },
    async openOf(holder, limit) {
      const open = await store.find<ClaimDoc>(CLAIMS, { where: { holder, leaseOpen: true }, limit });
      return open.flatMap(openClaim);
    },
    async reportLost(claim, records) {
      // Over the very version seen lapsed: an outcome or another reaper wins.
      // Unpublished until the reaper appended it: if that append fails, a reaper appends it a lease later.
      if (!(await store.compareAndSet<ClaimDoc>(CLAIMS, claim.id, claim.version, closed(claim.doc, executorId, clock(), records, true)))) return false;
      logger.warn({ executionId: claim.id, owner: claim.doc.executorId }, 'the lease of an execution ran out with no outcome (its executor died or stalled); reported lost');
      return true;
    },
  };
}
