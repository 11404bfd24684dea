/**
 * The broker's connection records and their events. Records change only by compare-and-set
 * (read, change, write if nobody wrote meanwhile, retry otherwise). A visible change (created,
 * authorized, refreshed, needs re-authorization, revoked) writes its events into the record's
 * outbox in the same write, then applies them to the view (read-your-writes), appends them to
 * the log and drops them from the outbox. A crash between any two of these steps loses
 * nothing: the outbox is appended again, under the same ids, by the next change of that
 * connection or by the sweep at start.
 *
 * Every per-tenant read and write goes through `tenantScoped(store, tenantId)`, keyed by handle:
 * another tenant's handle is simply absent. The stored ids (`<tenantId>/<handle>`) are the ones
 * this repository always wrote, so existing data directories keep working.
 */
import { CodestepError, NotFoundError, type Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { Topics, toRecord } from '@codestep/events';
import { tenantScoped, type DocumentStore, type StoredDoc } from '@codestep/store';
import { currentTraceparent } from '@codestep/telemetry';
import { changeEvents, outboxEnvelopes, type ConnectionEvent } from './connection.events.ts';
import { COLLECTIONS, type ConnectionDoc, type ConnectionView } from './connection.model.ts';
import { applyConnectionEnvelopes, ensureConnectionViews } from './connections.projection.ts';
import { errorSummary } from './provider-calls.ts';

/** A change: the next record, or null to leave it as it is. */
export type Change = (doc: ConnectionDoc) => ConnectionDoc | null;

/** Says a change is visible, and which event names it (none: only the new view is published). */
export type Announce = (next: ConnectionDoc) => ConnectionEvent | undefined;

export interface Written {
  doc: ConnectionDoc;
  version: number;
  changed: boolean;
}

export interface ConnectionRepository {
  /** Creates the collections, the view and the topic; publishes what earlier runs left unpublished. */
  ensure(): Promise<void>;
  /** The record, or null when the tenant has none with this handle. */
  find(tenantId: string, handle: string): Promise<StoredDoc<ConnectionDoc> | null>;
  /** @throws NotFoundError */
  require(tenantId: string, handle: string): Promise<StoredDoc<ConnectionDoc>>;
  /** Inserts a new connection (a visible change); false when the handle is taken. */
  insert(doc: ConnectionDoc, event?: ConnectionEvent): Promise<boolean>;
  /**
   * Read-change-write, retried on conflict. With `announce`, the change is visible: its events
   * are written with it and published.
   * @throws NotFoundError when the record is gone.
   */
  update(tenantId: string, handle: string, change: Change, announce?: Announce): Promise<Written>;
  /** One compare-and-set, without events (the refresh lease). */
  compareAndSet(doc: ConnectionDoc, expectedVersion: number): Promise<boolean>;
  /** The tenant's connection view, from the projection. */
  view(tenantId: string, handle: string): Promise<ConnectionView | null>;
  /** The tenant's connection views by handle, from the projection. */
  list(tenantId: string): Promise<ConnectionView[]>;
  /** Publishes every outbox left by a crash, and gives records older than the view their first view. Returns how many records it touched. */
  sweep(): Promise<number>;
}

const MAX_ATTEMPTS = 100;

/** The ports the repository works over. */
export interface RepositoryDeps {
  store: DocumentStore;
  eventLog: EventLog;
  log: Logger;
}

/** The change with its events added to the outbox, when it is visible. */
function withEvents(next: ConnectionDoc, announce: Announce | undefined): ConnectionDoc {
  if (!announce) return next;
  const sequence = (next.sequence ?? 0) + 1;
  const changed = { ...next, sequence, outbox: [] };
  return { ...changed, outbox: [...(next.outbox ?? []), ...changeEvents(changed, sequence, announce(changed))] };
}

async function update(deps: RepositoryDeps, tenantId: string, handle: string, change: Change, announce?: Announce): Promise<Written> {
  const store = tenantScoped(deps.store, tenantId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const stored = await store.get<ConnectionDoc>(COLLECTIONS.connections, handle);
    if (!stored) throw new NotFoundError(`no connection named "${handle}" in this account`);
    const next = change(stored.doc);
    if (!next) return { doc: stored.doc, version: stored.version, changed: false };
    const doc = withEvents(next, announce);
    if (await store.compareAndSet(COLLECTIONS.connections, handle, stored.version, doc)) {
      await publish(deps, doc);
      return { doc, version: stored.version + 1, changed: true };
    }
  }
  throw new CodestepError('CONFLICT', `connection "${handle}" is changing too often to update; try again`);
}

/** View first (the API reads it), then the log, then the outbox entries are dropped. */
async function publish(deps: RepositoryDeps, doc: ConnectionDoc): Promise<void> {
  const { store, eventLog, log } = deps;
  const pending = doc.outbox ?? [];
  if (!pending.length) return;
  const envelopes = outboxEnvelopes(pending);
  const where = { tenantId: doc.tenantId, handle: doc.handle, events: pending.map((e) => e.type) };
  try {
    await applyConnectionEnvelopes(store, envelopes);
  } catch (error) {
    log.error({ ...where, error: errorSummary(error) }, 'connection view not updated; the consumer will apply the events');
  }
  try {
    await eventLog.append(envelopes.map((env) => toRecord(env, currentTraceparent())));
  } catch (error) {
    // The change stands; its events stay in the outbox and are appended again later.
    log.error({ ...where, error: errorSummary(error) }, 'connection events not appended yet; they stay in the outbox');
    return;
  }
  const sent = new Set(pending.map((e) => e.eventId));
  await update(deps, doc.tenantId, doc.handle, (cur) => (cur.outbox?.some((e) => sent.has(e.eventId)) ? { ...cur, outbox: cur.outbox.filter((e) => !sent.has(e.eventId)) } : null)).catch(
    (error: unknown) => log.warn({ ...where, error: errorSummary(error) }, 'published connection events not yet dropped from the outbox'),
  );
}

function find(store: DocumentStore, tenantId: string, handle: string): Promise<StoredDoc<ConnectionDoc> | null> {
  return tenantScoped(store, tenantId).get<ConnectionDoc>(COLLECTIONS.connections, handle);
}

/** Runs over every tenant's records (the plain store), then changes each through its tenant's scope. */
async function sweep(deps: RepositoryDeps): Promise<number> {
  const all = await deps.store.find<ConnectionDoc>(COLLECTIONS.connections, { limit: 10_000_000 });
  let touched = 0;
  for (const { doc } of all) {
    if (doc.sequence === undefined) {
      await update(
        deps,
        doc.tenantId,
        doc.handle,
        (cur) => (cur.sequence === undefined ? cur : null),
        () => undefined,
      );
      touched++;
    } else if (doc.outbox?.length) {
      await publish(deps, doc);
      touched++;
    }
  }
  return touched;
}

export function createConnectionRepository(deps: RepositoryDeps): ConnectionRepository {
  const { store, eventLog, log } = deps;
  return {
    async ensure() {
      await store.ensureCollection(COLLECTIONS.connections, [{ fields: ['tenantId'] }]);
      await ensureConnectionViews(store);
      await eventLog.ensureTopics([Topics.connections]);
      const touched = await sweep(deps);
      if (touched) log.info({ connections: touched }, 'published connection events left over');
    },
    find: (tenantId, handle) => find(store, tenantId, handle),
    async require(tenantId, handle) {
      const stored = await find(store, tenantId, handle);
      if (!stored) throw new NotFoundError(`no connection named "${handle}" in this account`);
      return stored;
    },
    async insert(doc, event) {
      const sequence = 1;
      const first = { ...doc, sequence, outbox: [] };
      const withOutbox = { ...first, outbox: changeEvents(first, sequence, event) };
      if (!(await tenantScoped(store, doc.tenantId).insertIfAbsent(COLLECTIONS.connections, doc.handle, withOutbox))) return false;
      await publish(deps, withOutbox);
      return true;
    },
    update: (tenantId, handle, change, announce) => update(deps, tenantId, handle, change, announce),
    compareAndSet: (doc, expectedVersion) => tenantScoped(store, doc.tenantId).compareAndSet(COLLECTIONS.connections, doc.handle, expectedVersion, doc),
    async view(tenantId, handle) {
      return (await tenantScoped(store, tenantId).get<ConnectionView>(COLLECTIONS.connectionViews, handle))?.doc ?? null;
    },
    async list(tenantId) {
      const docs = await tenantScoped(store, tenantId).find<ConnectionView>(COLLECTIONS.connectionViews, { orderBy: { field: 'handle', direction: 'asc' } });
      return docs.map((d) => d.doc);
    },
    sweep: () => sweep(deps),
  };
}
