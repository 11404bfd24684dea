/**
 * A projection: queryable state that is a pure function of some topics of the event log.
 * Each service lib exports the projections it owns; its live consumer applies them as records
 * arrive, and `codestep replay` rebuilds every one from the beginning of its topics (into a
 * scratch store with `--verify`, then compares document by document with the live one).
 *
 * `apply` must be idempotent and order-preserving: applying a record twice, or a batch again
 * after a crash, changes nothing (versioned writes keyed by log offset, or dedup by event id).
 */
import type { DocumentStore } from './store.port.ts';

/** A record as the projection sees it: an encoded event envelope and its position in the log. */
export interface ProjectedRecord {
  topic: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  partition: number;
  offset: number;
}

export interface Projection {
  /** A stable name, shown by `codestep replay` (`history`, `workflows`, …). */
  name: string;
  /** The service whose store holds it: the name given to `openStore(config, service)`. */
  service: string;
  /** The topics it is built from, read in log order. */
  topics: string[];
  /** The collections it owns: cleared before a rebuild, compared by `--verify`. */
  collections: string[];
  /** Creates the collections and their indexes if missing. */
  ensure(store: DocumentStore): Promise<void>;
  /** Applies records in log order (per partition); idempotent. */
  apply(store: DocumentStore, batch: ProjectedRecord[]): Promise<void>;
}
