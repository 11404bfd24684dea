/**
 * The document store port: collections of JSON documents with an id, a version and a few
 * indexed fields. Projections write with versions (the log offset of the event applied last),
 * so applying an event twice or out of order changes nothing. Two adapters implement it
 * (SQLite, MongoDB) and one contract suite (`./store.contract.ts`) runs against both.
 */

export type Scalar = string | number | boolean | null;

export interface StoredDoc<T> {
  id: string;
  version: number;
  doc: T;
}

/** Bounds on one top-level field: `gte` inclusive, `lt` exclusive (either may be absent). */
export interface RangeBound {
  field: string;
  gte?: number | string;
  lt?: number | string;
}

export interface Query {
  /** Equality on top-level fields. */
  where?: Record<string, Scalar>;
  /** A range on one top-level field, with `where` (a document without the field never matches). */
  range?: RangeBound;
  /** Ties are broken by id in the same direction, so keyset paging can resume after (field, id). */
  orderBy?: { field: string; direction: 'asc' | 'desc' };
  limit?: number;
}

export interface IndexSpec {
  fields: string[];
  unique?: boolean;
}

export interface VersionedWrite<T> {
  id: string;
  /** Written only when greater than the stored version. */
  version: number;
  doc: T;
}

export interface DocumentStore {
  /** Creates the collection's indexes if they are missing. */
  ensureCollection(collection: string, indexes: IndexSpec[]): Promise<void>;
  get<T>(collection: string, id: string): Promise<StoredDoc<T> | null>;
  getMany<T>(collection: string, ids: string[]): Promise<Map<string, StoredDoc<T>>>;
  find<T>(collection: string, query: Query): Promise<Array<StoredDoc<T>>>;
  /** Batched, idempotent: each write lands only if its version is newer than the stored one. */
  writeVersioned<T>(collection: string, writes: Array<VersionedWrite<T>>): Promise<void>;
  /** Inserts unless the id exists; true when inserted. */
  insertIfAbsent<T>(collection: string, id: string, doc: T): Promise<boolean>;
  /**
   * Replaces the document only if its stored version equals `expectedVersion` (0 = absent);
   * the new version is `expectedVersion + 1`. True when it won. Leases and counters use it.
   */
  compareAndSet<T>(collection: string, id: string, expectedVersion: number, doc: T): Promise<boolean>;
  /** Unconditional upsert (version + 1). */
  put<T>(collection: string, id: string, doc: T): Promise<void>;
  delete(collection: string, id: string): Promise<boolean>;
  /** Removes every document of the collection (rebuilds). */
  clear(collection: string): Promise<void>;
  close(): Promise<void>;
}
