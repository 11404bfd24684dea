/**
 * The queryable connections (what `listConnections` and `getConnection` return) as a
 * projection of `codestep.connections.v1`: each `ConnectionChanged` carries the whole view of
 * one connection after a change, and the view keeps the one with the highest `sequence`. So a
 * redelivered, replayed or directly applied event changes nothing, and a rebuild from the log
 * gives the same documents. Tokens and the refresh lease are not here: they stay sealed in the
 * broker's own connection records.
 *
 * The projection writes for every tenant, so each tenant's views go through
 * `tenantScoped(store, tenantId)`, keyed by handle (stored as `<tenantId>/<handle>`, the ids the
 * views always had, so existing data directories keep working).
 */
import type { Logger } from '@codestep/core';
import type { ConsumedRecord, EventLog, Subscription } from '@codestep/event-log';
import { Topics, fromRecord, type Envelope, type EventOf } from '@codestep/events';
import { tenantScoped, type DocumentStore, type ProjectedRecord, type Projection } from '@codestep/store';
import { COLLECTIONS, accountKey, connectionId, type ConnectionDoc, type ConnectionStatus, type ConnectionView, type ProviderAccountDoc } from './connection.model.ts';
import type { GrantType } from './providers.ts';

/** The event that carries a connection's view. */
export type ConnectionSnapshot = EventOf<'connectionChanged'>;

/** The view of a connection record after a change, as the event carries it. */
export function snapshotOf(doc: ConnectionDoc, sequence: number): ConnectionSnapshot {
  return {
    handle: doc.handle,
    sequence,
    provider: doc.provider,
    grantType: doc.grantType,
    scopes: [...doc.scopes],
    permissions: [...doc.permissions],
    grantedScopes: [...doc.grantedScopes],
    status: doc.status,
    statusReason: doc.statusReason,
    createdAt: doc.createdAt,
    authorizedAt: doc.authorizedAt ?? 0,
    expiresAt: doc.expiresAt ?? 0,
    refreshedAt: doc.refreshedAt ?? 0,
    accountId: doc.accountId ?? '',
  };
}

/** The view document a snapshot of a tenant's connection gives (0 timestamps are "never"). */
export function viewOf(tenantId: string, s: ConnectionSnapshot): ConnectionView {
  return {
    tenantId,
    handle: s.handle,
    provider: s.provider,
    grantType: s.grantType as GrantType,
    scopes: [...s.scopes],
    permissions: [...s.permissions],
    grantedScopes: [...s.grantedScopes],
    status: s.status as ConnectionStatus,
    statusReason: s.statusReason,
    createdAt: s.createdAt,
    authorizedAt: s.authorizedAt || null,
    expiresAt: s.expiresAt || null,
    refreshedAt: s.refreshedAt || null,
    accountId: s.accountId,
  };
}

export async function ensureConnectionViews(store: DocumentStore): Promise<void> {
  await store.ensureCollection(COLLECTIONS.connectionViews, [{ fields: ['tenantId'] }]);
  await store.ensureCollection(COLLECTIONS.providerAccounts, [{ fields: ['accountKey'] }]);
}

/** The provider-accounts entry of a connection view, keyed by connection id. */
function accountEntry(view: ConnectionView): ProviderAccountDoc {
  return {
    tenantId: view.tenantId,
    handle: view.handle,
    provider: view.provider,
    accountId: view.accountId,
    accountKey: accountKey(view.provider, view.accountId),
    status: view.status,
    authorizedAt: view.authorizedAt ?? 0,
  };
}

/**
 * Applies decoded envelopes to the view: each connection's latest snapshot wins, versioned by
 * its sequence, so applying an event again (or an older one late) changes nothing.
 */
export async function applyConnectionEnvelopes(store: DocumentStore, envelopes: readonly Envelope[]): Promise<void> {
  const byTenant = new Map<string, Map<string, { version: number; doc: ConnectionView }>>();
  for (const env of envelopes) {
    if (env.event.$case !== 'connectionChanged' || !env.tenantId) continue;
    const snapshot = env.event.value;
    // A snapshot filed under another connection's aggregate is not this connection's view.
    if (connectionId(env.tenantId, snapshot.handle) !== env.aggregateId || snapshot.sequence < 1) continue;
    const latest = byTenant.get(env.tenantId) ?? byTenant.set(env.tenantId, new Map()).get(env.tenantId)!;
    if ((latest.get(snapshot.handle)?.version ?? 0) >= snapshot.sequence) continue;
    latest.set(snapshot.handle, { version: snapshot.sequence, doc: viewOf(env.tenantId, snapshot) });
  }
  for (const [tenantId, latest] of byTenant) {
    await tenantScoped(store, tenantId).writeVersioned(
      COLLECTIONS.connectionViews,
      [...latest].map(([handle, w]) => ({ id: handle, version: w.version, doc: w.doc })),
    );
    // Across tenants by nature (looked up by account), one entry per connection, versioned alike.
    await store.writeVersioned(
      COLLECTIONS.providerAccounts,
      [...latest].map(([handle, w]) => ({ id: connectionId(tenantId, handle), version: w.version, doc: accountEntry(w.doc) })),
    );
  }
}

function decodeAll(batch: ReadonlyArray<ProjectedRecord | ConsumedRecord>): Envelope[] {
  const out: Envelope[] = [];
  for (const r of batch) {
    const env = fromRecord(r.value);
    if (env) out.push(env);
  }
  return out;
}

/** The connections view, for the broker's consumer and for `codestep replay`. */
export const connectionsProjection: Projection = {
  name: 'connections',
  service: 'broker',
  topics: [Topics.connections],
  collections: [COLLECTIONS.connectionViews, COLLECTIONS.providerAccounts],
  ensure: ensureConnectionViews,
  apply: (store, batch) => applyConnectionEnvelopes(store, decodeAll(batch)),
};

/**
 * Keeps the view following the log (events another instance appended, or an outbox flushed
 * after a crash). The broker also applies its own changes directly, for read-your-writes.
 */
export async function startConnectionsConsumer(deps: { store: DocumentStore; eventLog: EventLog; logger: Logger; group?: string }): Promise<Subscription> {
  await ensureConnectionViews(deps.store);
  await deps.eventLog.ensureTopics([Topics.connections]);
  return deps.eventLog.consume({
    group: deps.group ?? 'codestep-oauth-broker-connections',
    topics: [Topics.connections],
    batchSize: 500,
    handle: async (batch) => {
      await connectionsProjection.apply(deps.store, batch);
      return [];
    },
    onError: (error) => deps.logger.error({ error: { name: error instanceof Error ? error.name : typeof error } }, 'connections projection batch failed; will retry'),
  });
}
