/**
 * Distributed document store on MongoDB (official driver). One MongoDB collection per store
 * collection; a document is stored as `{ _id: id, v: version, d: doc }`, so the declared doc
 * fields are indexable as `d.<field>` and the version is a plain field to compare against.
 *
 * Only single-document atomic operations are used — no transactions, no sessions — because the
 * port needs nothing more and FerretDB v1 (the MongoDB-wire server of infra/local) has neither.
 * Every conditional write is a filter on `_id` plus the version, and every "already there" is the
 * unique `_id` index answering E11000, which both servers implement the same way.
 */
import { CodestepError, ValidationError } from '@codestep/core';
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

export interface MongoStoreOptions {
  /** A `mongodb://` or `mongodb+srv://` URI (`MONGODB_URI`). */
  uri: string;
  /** Database name. @default the URI's path, else `'codestep'` */
  database?: string;
  /** Extra driver options (timeouts, TLS, pool size), merged over the adapter's. */
  clientOptions?: MongoClientOptions;
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
  return { id: raw._id, version: raw.v, doc: raw.d as T };
}

export class MongoStore implements DocumentStore {
  private readonly client: MongoClient;
  private readonly db: Db;

  constructor(options: MongoStoreOptions) {
    this.client = new MongoClient(options.uri, {
      // JSON semantics: a key whose value is undefined is left out, as JSON.stringify does,
      // rather than stored as null.
      ignoreUndefined: true,
      serverSelectionTimeoutMS: 10_000,
      ...options.clientOptions,
    });
    this.db = this.client.db(options.database ?? databaseFromUri(options.uri) ?? 'codestep');
  }

  private coll(collection: string): Collection<StoredShape> {
    return this.db.collection<StoredShape>(ident(collection));
  }

  async ensureCollection(collection: string, indexes: IndexSpec[]): Promise<void> {
    const c = this.coll(collection);
    const descriptions = indexes.map(indexFor);
    await guard('create indexes', async () => {
      if (descriptions.length > 0) await c.createIndexes(descriptions);
      // Indexes create the collection implicitly; without any, create it so it exists (and is
      // listed) from now on. A concurrent creator makes this fail with NamespaceExists (48).
      else await this.db.createCollection(ident(collection)).catch((e: unknown) => {
        if (!(e instanceof MongoServerError && e.code === 48)) throw e;
      });
    });
  }

  async get<T>(collection: string, id: string): Promise<StoredDoc<T> | null> {
    const raw = await guard('read', () => this.coll(collection).findOne({ _id: id }));
    return raw ? toStored<T>(raw) : null;
  }

  async getMany<T>(collection: string, ids: string[]): Promise<Map<string, StoredDoc<T>>> {
    const out = new Map<string, StoredDoc<T>>();
    const c = this.coll(collection);
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const rows = await guard('read', () => c.find({ _id: { $in: chunk } }).toArray());
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
    const rows = await guard('query', () => cursor.toArray());
    return rows.map((raw) => toStored<T>(raw));
  }

  async writeVersioned<T>(collection: string, writes: Array<VersionedWrite<T>>): Promise<void> {
    if (writes.length === 0) return;
    // Replace when the stored version is older; otherwise the filter matches nothing and the
    // upsert tries to insert the same _id, which the unique _id index refuses (E11000): that
    // refusal is the "stored one is newer or equal" answer, also when two writers race.
    const ops: Array<AnyBulkWriteOperation<StoredShape>> = newestPerId(writes).map((w) => ({
      replaceOne: { filter: { _id: w.id, v: { $lt: w.version } }, replacement: { v: w.version, d: w.doc }, upsert: true },
    }));
    try {
      await this.coll(collection).bulkWrite(ops, { ordered: false });
    } catch (error) {
      if (error instanceof MongoBulkWriteError) {
        const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
        if (writeErrors.length > 0 && writeErrors.every((e) => e.code === DUPLICATE_KEY) && !error.err) return;
      }
      throw unavailable('write', error);
    }
  }

  async insertIfAbsent<T>(collection: string, id: string, doc: T): Promise<boolean> {
    try {
      await this.coll(collection).insertOne({ _id: id, v: 1, d: doc });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw unavailable('insert', error);
    }
  }

  async compareAndSet<T>(collection: string, id: string, expectedVersion: number, doc: T): Promise<boolean> {
    if (expectedVersion === 0) return this.insertIfAbsent(collection, id, doc);
    const result = await guard('update', () =>
      this.coll(collection).updateOne({ _id: id, v: expectedVersion }, { $set: { v: expectedVersion + 1, d: doc } }),
    );
    return result.modifiedCount === 1;
  }

  async put<T>(collection: string, id: string, doc: T): Promise<void> {
    const c = this.coll(collection);
    const upsert = () => c.updateOne({ _id: id }, { $inc: { v: 1 }, $set: { d: doc } }, { upsert: true });
    try {
      await upsert();
    } catch (error) {
      // Two upserts of a new id race to insert it; the loser's retry finds it and updates.
      if (!isDuplicateKey(error)) throw unavailable('write', error);
      await guard('write', upsert);
    }
  }

  async delete(collection: string, id: string): Promise<boolean> {
    const result = await guard('delete', () => this.coll(collection).deleteOne({ _id: id }));
    return result.deletedCount === 1;
  }

  async clear(collection: string): Promise<void> {
    await guard('clear', () => this.coll(collection).deleteMany({}));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function unavailable(what: string, error: unknown): unknown {
  if (error instanceof CodestepError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CodestepError(STORE_UNAVAILABLE, `MongoDB ${what} failed: ${message}`, { cause: error });
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw unavailable(what, error);
  }
}
