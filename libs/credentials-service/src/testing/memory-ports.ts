/**
 * In-memory implementations of the store and event-log ports for this lib's unit tests (the
 * SQLite adapters are for apps; the broker's flows run on them in `apps/oauth-broker`). Documents
 * are copied on every write and read, like a real store serialises them; the event log drops a
 * second record with the same id, like the SQLite adapter, and can be told to fail appends.
 */
import type { ConsumedRecord, EventLog, LogRecord } from '@codestep/event-log';
import type { DocumentStore, Query, StoredDoc } from '@codestep/store';

export function memoryStore(): DocumentStore {
  const collections = new Map<string, Map<string, StoredDoc<unknown>>>();
  const of = (c: string) => collections.get(c) ?? collections.set(c, new Map()).get(c)!;
  const copy = <T>(d: StoredDoc<unknown> | undefined): StoredDoc<T> | null => (d ? (structuredClone(d) as StoredDoc<T>) : null);
  const set = (c: string, id: string, version: number, doc: unknown) => of(c).set(id, { id, version, doc: structuredClone(doc) });
  return {
    ensureCollection: async (c) => void of(c),
    get: async <T>(c: string, id: string) => copy<T>(of(c).get(id)),
    getMany: async <T>(c: string, ids: string[]) => new Map(ids.filter((id) => of(c).has(id)).map((id) => [id, copy<T>(of(c).get(id))!])),
    find: async <T>(c: string, q: Query) => {
      let docs = [...of(c).values()].filter((d) => Object.entries(q.where ?? {}).every(([k, v]) => (d.doc as Record<string, unknown>)[k] === v));
      if (q.orderBy) {
        const { field, direction } = q.orderBy;
        const key = (d: StoredDoc<unknown>) => (d.doc as Record<string, string | number>)[field] ?? '';
        docs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (direction === 'asc' ? 1 : -1));
      }
      if (q.limit !== undefined) docs = docs.slice(0, q.limit);
      return docs.map((d) => copy<T>(d)!);
    },
    writeVersioned: async (c, writes) => {
      for (const w of writes) if ((of(c).get(w.id)?.version ?? 0) < w.version) set(c, w.id, w.version, w.doc);
    },
    insertIfAbsent: async (c, id, doc) => {
      if (of(c).has(id)) return false;
      set(c, id, 1, doc);
      return true;
    },
    compareAndSet: async (c, id, expected, doc) => {
      if ((of(c).get(id)?.version ?? 0) !== expected) return false;
      set(c, id, expected + 1, doc);
      return true;
    },
    put: async (c, id, doc) => void set(c, id, (of(c).get(id)?.version ?? 0) + 1, doc),
    delete: async (c, id) => of(c).delete(id),
    clear: async (c) => void of(c).clear(),
    close: async () => {},
  };
}

export interface MemoryEventLog extends EventLog {
  records: ConsumedRecord[];
  /** The next `n` appends throw (a broker that cannot reach the log, or dies before it could). */
  failNextAppends(n: number): void;
}

export function memoryEventLog(): MemoryEventLog {
  const records: ConsumedRecord[] = [];
  let failing = 0;
  return {
    records,
    failNextAppends: (n) => void (failing = n),
    ensureTopics: async () => {},
    append: async (batch: LogRecord[]) => {
      if (failing > 0) {
        failing--;
        throw new Error('event log unavailable');
      }
      for (const r of batch) {
        if (r.id && records.some((x) => x.topic === r.topic && x.id === r.id)) continue;
        records.push({ ...r, partition: 0, offset: records.length });
      }
    },
    consume: async () => Promise.reject(new Error('not needed by these tests')),
    readAll: async (topics, handle) => {
      const mine = records.filter((r) => topics.includes(r.topic));
      if (mine.length) await handle(mine);
      return mine.length;
    },
    close: async () => {},
  };
}
