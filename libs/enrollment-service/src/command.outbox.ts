/**
 * The write-ahead of a command: before a command appends its events, it reserves their exact
 * encoded records in the store under an id that names what they decide (a workflow version, an
 * enroll request id). Only one reservation per id can exist (`insertIfAbsent`), so:
 * - a retried command, or a concurrent one, finds the reservation and appends those very bytes
 *   again (same event ids, same payloads; the log or its consumers drop the duplicate);
 * - a crash between the append and the projection's write loses nothing: the next command for
 *   that id re-appends and applies the reserved records before going on.
 *
 * Reservations are not queryable state and no projection: they exist before their events do,
 * so the log cannot rebuild them. Nothing but the command that owns an id reads them; every
 * reservation whose events were appended is also in a projection (workflow heads, enroll
 * requests), which answers for it after a rebuild. They are never deleted: deleting one would let
 * a late retry reserve a different payload for the same ids.
 */
import type { EventLog, LogRecord } from '@codestep/event-log';
import { fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { currentTraceparent } from '@codestep/telemetry';

/** One encoded record, as reserved (the value base64). Trace headers are added at each append. */
export interface ReservedRecord {
  topic: string;
  key: string;
  id: string;
  headers: Record<string, string>;
  value: string;
}

/** What every reservation document carries. */
export interface Reservation {
  tenantId: string;
  records: ReservedRecord[];
}

/** Encodes envelopes for a reservation. */
export function reserveRecords(envs: Envelope[]): ReservedRecord[] {
  return envs.map((env) => {
    const r = toRecord(env);
    return { topic: r.topic, key: r.key, id: r.id, headers: r.headers, value: Buffer.from(r.value).toString('base64') };
  });
}

/** The reserved records as log records, with the caller's trace context. */
export function logRecordsOf(reservation: Reservation): LogRecord[] {
  const traceparent = currentTraceparent();
  return reservation.records.map((r) => ({
    topic: r.topic,
    key: r.key,
    id: r.id,
    headers: traceparent ? { ...r.headers, traceparent } : r.headers,
    value: new Uint8Array(Buffer.from(r.value, 'base64')),
  }));
}

/** The reserved records' envelopes, decoded from the reserved bytes. */
export function envelopesOf(reservation: Reservation): Envelope[] {
  return reservation.records.flatMap((r) => fromRecord(Buffer.from(r.value, 'base64')) ?? []);
}

/** A store collection of reservations. */
export interface CommandOutbox<T extends Reservation> {
  /** Reserves `doc` under `id` unless a reservation is there; returns the one that holds. */
  reserve(id: string, doc: T): Promise<{ reservation: T; won: boolean }>;
  /**
   * {@link reserve} for many ids at once (one write for the absent ones, in one batch), in the
   * order given: for each, the reservation that holds and whether it is the one asked for (equal to it).
   */
  reserveMany(entries: Array<{ id: string; doc: T }>): Promise<Array<{ reservation: T; won: boolean }>>;
  get(id: string): Promise<T | undefined>;
  /** Appends the reservation's records (again, if they were): same ids, same bytes. */
  append(reservation: T): Promise<void>;
}

export function createCommandOutbox<T extends Reservation>(store: DocumentStore, eventLog: EventLog, collection: string): CommandOutbox<T> {
  const get = async (id: string): Promise<T | undefined> => (await store.get<T>(collection, id))?.doc;
  return {
    get,
    async reserve(id, doc) {
      if (await store.insertIfAbsent<T>(collection, id, doc)) return { reservation: doc, won: true };
      const held = await get(id);
      if (!held) throw new Error(`reservation ${collection}/${id} vanished`);
      return { reservation: held, won: false };
    },
    async reserveMany(entries) {
      if (!entries.length) return [];
      const ids = [...new Set(entries.map((e) => e.id))];
      const before = await store.getMany<T>(collection, ids);
      // Version 1 lands only where no reservation is: an insert-if-absent of them all at once.
      await store.writeVersioned<T>(
        collection,
        entries.filter((e) => !before.has(e.id)).map((e) => ({ id: e.id, version: 1, doc: e.doc })),
      );
      const held = await store.getMany<T>(
        collection,
        ids.filter((id) => !before.has(id)),
      );
      return entries.map((e) => {
        const holds = before.get(e.id)?.doc ?? held.get(e.id)?.doc;
        if (!holds) throw new Error(`reservation ${collection}/${e.id} vanished`);
        return { reservation: holds, won: !before.has(e.id) && JSON.stringify(holds) === JSON.stringify(e.doc) };
      });
    },
    append: (reservation) => eventLog.append(logRecordsOf(reservation)),
  };
}
