/**
 * Distributed document store on MongoDB (official driver). One MongoDB collection per store
 * collection; a document is stored as `{ _id: id, v: version, d: doc }`, so the declared doc
 * fields are indexable as `d.<field>` and the version is a plain field to compare against.
 *
 * Only single-document operations and standard commands are used — no transactions, no
 * sessions. On MongoDB every conditional write is atomic on the server: a filter on `_id` plus
 * the version, and "already there" is the unique `_id` index answering E11000.
 *
 * FerretDB v1 (infra/local's MongoDB-wire server, SQLite backend) differs in ways this adapter
 * designs around, each checked by the int tests:
 * - it evaluates an update's filter in Go and then writes by `_id`, so a conditional update is
 *   not atomic: conditional writes to one document are serialised in this process (KeyedLock),
 *   and compareAndSet/put record each version transition with a unique `_id` insert, which is
 *   atomic across processes too (the record is dropped once the write is answered).
 *   writeVersioned's guarded replaces can still race across processes: projections have one
 *   writer per partition;
 * - it ignores `ordered: false` for updates (the first error ends the command), so writes never
 *   rely on an update failing: inserts and version-guarded replaces are separate operations;
 * - `$set` of a sub-document can be skipped when old and new compare equal by values alone
 *   (`{x: 1}` → `{y: 1}`), so documents are only ever replaced whole;
 * - a command with many updates holds a SQLite connection per update until it ends (100 per
 *   database): about 100 updates in one command deadlock the database, so updates are sent in
 *   commands of `updatesPerCommand`;
 * - `createIndexes` for indexes that already exist can crash the connection, so only missing
 *   indexes are created.
 *
 * When the server restarts under load, the driver can keep handing out a connection the server
 * closed: every operation then fails ("connection N … closed") or waits out server selection,
 * for good. Operations failing on the connection for {@link RECONNECT_AFTER_MS} with none
 * succeeding replace the client with a new one (the old one is closed under whatever it holds).
 */
import { CodestepError, ConflictError, ValidationError } from '@codestep/core';
import type { DocumentStore, IndexSpec, Query, StoredDoc, VersionedWrite } from '@codestep/store';
import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Filter,
  type IndexDescription,
  type MongoClientOptions,
  type Sort,
} from 'mongodb';
import { KeyedLock } from './keyed-lock.ts';

export interface MongoStoreOptions {
  /** A `mongodb://` or `mongodb+srv://` URI (`MONGODB_URI`). */
  uri: string;
  /** Database name. @default the URI's path, else `'codestep'` */
  database?: string;
  /** Extra driver options (timeouts, TLS, pool size), merged over the adapter's. */
  clientOptions?: MongoClientOptions;
  /**
   * Most updates sent in one command. FerretDB v1 keeps a SQLite connection per update of a
   * command until the command ends, out of 100 per database: a command of about 100 updates, or
   * a few large ones at once, deadlock it. Raise it on MongoDB to save round trips. @default 16
   */
  updatesPerCommand?: number;
  /**
   * How long a recorded transition (see `replaceAt`) whose document never moved on stays another
   * caller's, by collection, ms; after it, it is taken as left by a dead caller. Collections not
   * named: 30 s. A collection whose documents are leases (the executor's claims) gives the lease:
   * a transition older than it belongs to an owner that lost the lease anyway, and a lease left by
   * an executor killed between recording a renewal and writing it is then reported lost within a
   * lease, not 30 s later.
   */
  staleTransitionMs?: Record<string, number>;
}

/** A document as stored: the port's id, version and document under short fixed names. */
export interface StoredShape {
  _id: string;
  v: number;
  d: unknown;
}

/** Raised when the server cannot be reached or fails a command; the driver error is the `cause`. */
export const STORE_UNAVAILABLE = 'STORE_UNAVAILABLE';

const DUPLICATE_KEY = 11000;
/** A recorded transition whose document never moved on for this long was left by a dead caller, ms (unless `staleTransitionMs` says otherwise). */
const STALE_TRANSITION_MS = 30_000;
const NAMESPACE_NOT_FOUND = 26;
const NAMESPACE_EXISTS = 48;
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

function ident(name: string): string {
  if (!NAME.test(name)) throw new ValidationError(`invalid collection or field name: ${JSON.stringify(name)}`);
  return name;
}

/** The database named in a MongoDB URI's path, if any (`mongodb://h1,h2/db?x=y` → `db`). */
export function databaseFromUri(uri: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(uri);
  const name = match?.[1] ? decodeURIComponent(match[1]) : '';
  return name === '' ? undefined : name;
}

/**
 * The index for an {@link IndexSpec}. A non-unique index ends with `_id` so that a query with
 * equality on leading fields and an order on the next one is answered by the index in the exact
 * order `find` asks for (field, then `_id` as tie-break), without an in-memory sort.
 */
export function indexFor(spec: IndexSpec): IndexDescription {
  const key: Record<string, 1> = {};
  for (const field of spec.fields) key[`d.${ident(field)}`] = 1;
  if (!spec.unique) key._id = 1;
  return { key, name: `by_${spec.fields.join('_')}${spec.unique ? '_unique' : ''}`, unique: spec.unique ?? false };
}

/** The filter and sort for a {@link Query}. Ties in the order are broken by id, same direction. */
export function toMongoQuery(query: Query): { filter: Filter<StoredShape>; sort: Sort | undefined } {
  const filter: Record<string, unknown> = {};
  // `{ 'd.f': null }` matches a null or a missing field, like SQLite's `json_extract(...) IS NULL`.
  for (const [field, value] of Object.entries(query.where ?? {})) filter[`d.${ident(field)}`] = value;
  if (query.range) {
    const { field, gte, lt } = query.range;
    // `$exists` too: a missing field never matches, as with SQLite's comparisons on NULL.
    filter[`d.${ident(field)}`] = { $exists: true, $ne: null, ...(gte !== undefined ? { $gte: gte } : {}), ...(lt !== undefined ? { $lt: lt } : {}) };
  }
  let sort: Sort | undefined;
  if (query.orderBy) {
    const direction = query.orderBy.direction === 'desc' ? -1 : 1;
    sort = { [`d.${ident(query.orderBy.field)}`]: direction, _id: direction };
  }
  return { filter: filter as Filter<StoredShape>, sort };
}

/**
 * Of several writes to one id in a batch only the highest version can land (the first of equal
 * ones, as applying them in order would give), so the batch sends one operation per id.
 */
export function newestPerId<T>(writes: Array<VersionedWrite<T>>): Array<VersionedWrite<T>> {
  const newest = new Map<string, VersionedWrite<T>>();
  for (const w of writes) {
    const seen = newest.get(w.id);
    if (!seen || w.version > seen.version) newest.set(w.id, w);
  }
  return [...newest.values()];
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

function toStored<T>(raw: StoredShape): StoredDoc<T> {
  return { id: raw._id, version: raw.v, doc: decodeKeys(raw.d) as T };
}

/** Attempts of an optimistic write before it gives up under constant contention. */
const MAX_ATTEMPTS = 10;

/** How long operations may keep failing on the connection, none succeeding, before the client is replaced, ms. */
export const RECONNECT_AFTER_MS = 5_000;

/** Errors of the connection to the server, not of the operation. */
const CONNECTION_ERRORS = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongoTopologyClosedError', 'MongoPoolClearedError', 'MongoNotConnectedError']);

export class MongoStore implements DocumentStore {
  private client: MongoClient;
  private db: Db;
  private readonly newClient: () => MongoClient;
  private readonly database: string;
  private readonly locks = new KeyedLock();
  private readonly updatesPerCommand: number;
  private readonly staleTransitionMs: Record<string, number>;
  /** Since when operations have failed on the connection with none succeeding. */
  private failingSince: number | undefined;
  private closing = false;

  constructor(options: MongoStoreOptions) {
    this.newClient = () =>
      new MongoClient(options.uri, {
        // JSON semantics: a key whose value is undefined is left out, as JSON.stringify does,
        // rather than stored as null.
        ignoreUndefined: true,
        serverSelectionTimeoutMS: 10_000,
        // A call the server never answers fails (STORE_UNAVAILABLE, retried by the caller) instead
        // of holding its consumer forever; the URI's own `socketTimeoutMS` wins.
        ...(/[?&]socketTimeoutMS=/i.test(options.uri) ? {} : { socketTimeoutMS: 60_000 }),
        ...options.clientOptions,
      });
    this.client = this.newClient();
    this.database = options.database ?? databaseFromUri(options.uri) ?? 'codestep';
    this.db = this.client.db(this.database);
    this.updatesPerCommand = Math.max(1, options.updatesPerCommand ?? 16);
    this.staleTransitionMs = options.staleTransitionMs ?? {};
  }

  /** Runs a driver operation: its errors as STORE_UNAVAILABLE, the client replaced if the connection keeps failing (see the header). */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const client = this.client;
    try {
      const out = await fn();
      if (client === this.client) this.failingSince = undefined;
      return out;
    } catch (error) {
      if (client === this.client) this.noteFailure(error);
      throw unavailable(what, error);
    }
  }

  /** An operation that failed outside {@link guard}: its error as STORE_UNAVAILABLE, counted if the connection failed. */
  private unavailable(what: string, error: unknown): unknown {
    this.noteFailure(error);
    return unavailable(what, error);
  }

  private noteFailure(error: unknown): void {
    if (error instanceof Error && CONNECTION_ERRORS.has(error.name)) this.connectionFailed();
  }

  private connectionFailed(): void {
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince < RECONNECT_AFTER_MS || this.closing) return;
    const old = this.client;
    this.client = this.newClient();
    this.db = this.client.db(this.database);
    this.failingSince = undefined;
    void old.close(true).catch(() => {});
  }

  private coll(collection: string): Collection<StoredShape> {
    return this.db.collection<StoredShape>(ident(collection));
  }

  /** Serialises this process's conditional writes to the given documents (see the header). */
  private exclusive<T>(collection: string, ids: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const keys = [...ids].map((id) => `${collection}\u0000${id}`);
    return this.locks.run(keys, fn);
  }

  async ensureCollection(collection: string, indexes: IndexSpec[]): Promise<void> {
    const c = this.coll(collection);
    const wanted = indexes.map(indexFor);
    await this.guard('create indexes', async () => {
      const existing = new Map<string, IndexDescription>();
      try {
        for (const ix of await c.listIndexes().toArray()) existing.set(ix.name as string, ix as IndexDescription);
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND)) throw error;
      }
      const missing = wanted.filter((ix) => {
        const found = existing.get(ix.name!);
        if (!found) return true;
        if (JSON.stringify(found.key) !== JSON.stringify(ix.key) || Boolean(found.unique) !== Boolean(ix.unique)) {
          throw new CodestepError('FAILED_PRECONDITION', `index ${ix.name} of ${collection} exists with another definition; drop it to have it rebuilt`);
        }
        return false;
      });
      if (missing.length > 0) await c.createIndexes(missing);
      // Indexes create the collection implicitly; without any, create it so that it exists from
      // now on. A concurrent creator makes this fail with NamespaceExists, which is fine.
      else if (existing.size === 0) {
        await this.db.createCollection(ident(collection)).catch((e: unknown) => {
          if (!(e instanceof MongoServerError && e.code === NAMESPACE_EXISTS)) throw e;
        });
      }
    });
  }

  async get<T>(collection: string, id: string): Promise<StoredDoc<T> | null> {
    const raw = await this.guard('read', () => this.coll(collection).findOne({ _id: id }));
    return raw ? toStored<T>(raw) : null;
  }

  async getMany<T>(collection: string, ids: string[]): Promise<Map<string, StoredDoc<T>>> {
    const out = new Map<string, StoredDoc<T>>();
    const c = this.coll(collection);
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const rows = await this.guard('read', () => c.find({ _id: { $in: chunk } }).toArray());
      for (const raw of rows) out.set(raw._id, toStored<T>(raw));
    }
    return out;
  }

  async find<T>(collection: string, query: Query): Promise<Array<StoredDoc<T>>> {
    const { filter, sort } = toMongoQuery(query);
    let cursor = this.coll(collection).find(filter);
    if (sort) cursor = cursor.sort(sort);
    if (query.limit !== undefined) {
      const limit = Math.max(0, Math.floor(query.limit));
      // The driver reads limit(0) as "no limit"; the port means "nothing".
      if (limit === 0) return [];
      cursor = cursor.limit(limit);
    }
    const rows = await this.guard('query', () => cursor.toArray());
    return rows.map((raw) => toStored<T>(raw));
  }

  /**
   * One read of the stored versions, then a replace guarded by `v < version` for each older
   * document (unordered bulk writes of `updatesPerCommand`) and one unordered insert of the
   * absent ones; writes that are not newer are dropped before sending. An insert refused as a
   * duplicate lost a race with another writer and goes round again as a guarded replace.
   */
  async writeVersioned<T>(collection: string, writes: Array<VersionedWrite<T>>): Promise<void> {
    if (writes.length === 0) return;
    const c = this.coll(collection);
    let pending = newestPerId(writes);
    let lostInserts = new Set<string>();
    await this.exclusive(
      collection,
      pending.map((w) => w.id),
      async () => {
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
          const ids = pending.map((w) => w.id);
          const stored = new Map<string, number>();
          for (let i = 0; i < ids.length; i += 1000) {
            const chunk = ids.slice(i, i + 1000);
            const rows = await this.guard('read', () => c.find({ _id: { $in: chunk } }, { projection: { v: 1 } }).toArray());
            for (const row of rows) stored.set(row._id, row.v);
          }
          // An insert refused although its id is still absent broke another unique index.
          const refused = ids.filter((id) => lostInserts.has(id) && !stored.has(id));
          if (refused.length > 0) throw uniqueViolation(collection, refused);
          const inserts: Array<VersionedWrite<T>> = [];
          const replaces: Array<AnyBulkWriteOperation<StoredShape>> = [];
          for (const w of pending) {
            const version = stored.get(w.id);
            if (version === undefined) inserts.push(w);
            else if (version < w.version) replaces.push({ replaceOne: { filter: { _id: w.id, v: { $lt: w.version } }, replacement: { v: w.version, d: encodeKeys(w.doc) } } });
          }
          // A guarded replace that finds a newer version matches nothing: never an error.
          for (let i = 0; i < replaces.length; i += this.updatesPerCommand) {
            const chunk = replaces.slice(i, i + this.updatesPerCommand);
            await this.guard('write', () => c.bulkWrite(chunk, { ordered: false }));
          }
          if (inserts.length === 0) return;
          try {
            await c.insertMany(
              inserts.map((w) => ({ _id: w.id, v: w.version, d: encodeKeys(w.doc) })),
              { ordered: false },
            );
            return;
          } catch (error) {
            const lost = duplicateInsertIds(
              error,
              inserts.map((w) => w.id),
            );
            if (!lost) throw this.unavailable('write', error);
            lostInserts = lost;
            pending = inserts.filter((w) => lost.has(w.id));
          }
        }
        throw contention(
          collection,
          pending.map((w) => w.id),
        );
      },
    );
  }

  async insertIfAbsent<T>(collection: string, id: string, doc: T): Promise<boolean> {
    try {
      await this.coll(collection).insertOne({ _id: id, v: 1, d: encodeKeys(doc) });
      return true;
    } catch (error) {
      if (!isDuplicateKey(error)) throw this.unavailable('insert', error);
      // E11000 comes from any unique index, and FerretDB does not say which (no keyPattern):
      // the id being there is what makes it "absent no more".
      if (await this.guard('read', () => this.coll(collection).countDocuments({ _id: id }, { limit: 1 }))) return false;
      throw uniqueViolation(collection, [id]);
    }
  }

  async compareAndSet<T>(collection: string, id: string, expectedVersion: number, doc: T): Promise<boolean> {
    if (expectedVersion === 0) return this.insertIfAbsent(collection, id, doc);
    return this.exclusive(collection, [id], async () => {
      const current = await this.guard('read', () => this.coll(collection).findOne({ _id: id }, { projection: { v: 1 } }));
      if (!current || current.v !== expectedVersion) return false;
      return this.replaceAt(collection, id, expectedVersion, doc);
    });
  }

  /**
   * Replaces the document at `version` by `doc` at `version + 1`; true when it won. FerretDB
   * checks a conditional update and then writes it, not atomically, so two clients can both
   * "win" it; a unique _id insert is atomic everywhere, so whoever records the transition first
   * is the one winner. The caller holds this process's lock on the document.
   */
  private async replaceAt<T>(collection: string, id: string, version: number, doc: T): Promise<boolean> {
    if (!(await this.claimTransition(collection, id, version + 1))) return false;
    const result = await this.guard('update', () => this.coll(collection).replaceOne({ _id: id, v: version }, { v: version + 1, d: encodeKeys(doc) }));
    await this.forgetTransition(collection, id, version + 1);
    return result.matchedCount === 1;
  }

  /**
   * Records the transition of a document to `version`; true for the one caller that recorded it.
   * A transition recorded by a caller that died before writing the document (still at the
   * version before, long after) is taken over, so a crash never wedges the document.
   */
  private async claimTransition(collection: string, id: string, version: number): Promise<boolean> {
    const t = this.transitions(collection);
    const key = `${id}\u0000${version}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await t.insertOne({ _id: key, v: 1, d: Date.now() });
        return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw this.unavailable('insert', error);
      }
      const stale = await this.guard('read', () => t.findOne({ _id: key }));
      const doc = await this.guard('read', () => this.coll(collection).findOne({ _id: id }, { projection: { v: 1 } }));
      const staleAfter = this.staleTransitionMs[collection] ?? STALE_TRANSITION_MS;
      if (!stale || !doc || doc.v !== version - 1 || Date.now() - Number(stale.d) < staleAfter) return false;
      await this.guard('delete', () => t.deleteOne({ _id: key, d: stale.d }));
    }
    return false;
  }

  /**
   * Drops the record of a transition once its replace has been answered. The record only has to
   * outlive the replace: a caller that read the version before and records the same transition
   * afterwards then fails the replace's version filter instead (the document has moved on, and
   * that replace was complete), so at most the transitions in flight are kept. Best effort: a
   * record left by a failure here is taken over as stale later.
   */
  private async forgetTransition(collection: string, id: string, version: number): Promise<void> {
    await this.transitions(collection)
      .deleteOne({ _id: `${id}\u0000${version}` })
      .catch(() => {});
  }

  private transitions(collection: string) {
    return this.coll(`${collection}__transitions`);
  }

  /** Read the version, replace guarded by it (or insert), again if someone came between. */
  async put<T>(collection: string, id: string, doc: T): Promise<void> {
    const c = this.coll(collection);
    await this.exclusive(collection, [id], async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await this.guard('read', () => c.findOne({ _id: id }, { projection: { v: 1 } }));
        if (!current) {
          if (await this.insertIfAbsent(collection, id, doc)) return;
          continue;
        }
        if (await this.replaceAt(collection, id, current.v, doc)) return;
      }
      throw contention(collection, [id]);
    });
  }

  async delete(collection: string, id: string): Promise<boolean> {
    // A document created again starts over at version 1: forget its recorded transitions.
    await this.guard('delete', () => this.transitions(collection).deleteMany({ _id: { $gte: `${id}\u0000`, $lt: `${id}\u0001` } }));
    const result = await this.guard('delete', () => this.coll(collection).deleteOne({ _id: id }));
    return result.deletedCount === 1;
  }

  async clear(collection: string): Promise<void> {
    await this.guard('clear', () => this.coll(collection).deleteMany({}));
    await this.guard('clear', () => this.transitions(collection).deleteMany({}));
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.client.close();
  }
}

/**
 * The ids of the documents an unordered insert refused as duplicates, when those are its only
 * errors; undefined when anything else failed.
 */
function duplicateInsertIds(error: unknown, ids: string[]): Set<string> | undefined {
  if (!(error instanceof MongoBulkWriteError) || error.err) return undefined;
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  if (writeErrors.length === 0 || !writeErrors.every((e) => e.code === DUPLICATE_KEY)) return undefined;
  return new Set(writeErrors.map((e) => ids[e.index]!));
}

function uniqueViolation(collection: string, ids: string[]): CodestepError {
  return new ConflictError(`a unique index of ${collection} already holds another document with the same value (writing ${ids.slice(0, 10).join(', ')})`);
}

function contention(collection: string, ids: string[]): CodestepError {
  return new CodestepError('ABORTED', `documents of ${collection} kept changing under a write; try again`, { details: { ids: ids.slice(0, 10) } });
}

function unavailable(what: string, error: unknown): unknown {
  if (error instanceof CodestepError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CodestepError(STORE_UNAVAILABLE, `MongoDB ${what} failed: ${message}`, { cause: error });
}

/**
 * MongoDB refuses field names that start with `$` or contain `.`, and documents are arbitrary
 * JSON (ts-proto's oneofs carry `$case`). Every key is escaped reversibly: `~` → `~t`,
 * `$` → `~d`, `.` → `~p`; plain names (the indexed fields) are unchanged.
 */
function mapKeys(value: unknown, f: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapKeys(v, f));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[f(k)] = mapKeys(v, f);
  return out;
}
const ESC: Record<string, string> = { '~': '~t', $: '~d', '.': '~p' };
const UNESC: Record<string, string> = { t: '~', d: '$', p: '.' };
export function encodeKeys(value: unknown): unknown {
  return mapKeys(value, (k) => (/[~$.]/.test(k) ? k.replace(/[~$.]/g, (c) => ESC[c]!) : k));
}
export function decodeKeys(value: unknown): unknown {
  return mapKeys(value, (k) => (k.includes('~') ? k.replace(/~([tdp])/g, (_m, c: string) => UNESC[c]!) : k));
}
