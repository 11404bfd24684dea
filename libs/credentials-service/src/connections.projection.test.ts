import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envelope, toRecord, type Envelope } from '@codestep/events';
import { tenantScoped, type ProjectedRecord } from '@codestep/store';
import { COLLECTIONS, connectionId, type ConnectionView } from './connection.model.ts';
import { applyConnectionEnvelopes, connectionsProjection, viewOf, type ConnectionSnapshot } from './connections.projection.ts';
import { memoryStore } from './testing/memory-ports.ts';

const T = 'tenant-1';

function snapshot(sequence: number, over: Partial<ConnectionSnapshot> = {}): ConnectionSnapshot {
  return {
    handle: 'crm',
    sequence,
    provider: 'acme',
    grantType: 'authorization_code',
    scopes: ['read'],
    permissions: [],
    grantedScopes: sequence > 1 ? ['read'] : [],
    status: sequence > 1 ? 'active' : 'pending',
    statusReason: '',
    createdAt: 1_000,
    authorizedAt: sequence > 1 ? 2_000 : 0,
    expiresAt: sequence > 1 ? 9_000 : 0,
    refreshedAt: 0,
    accountId: '',
    ...over,
  };
}

const changed = (s: ConnectionSnapshot, tenantId = T): Envelope =>
  envelope({ eventId: `evt-${s.sequence}`, tenantId, aggregateId: connectionId(tenantId, s.handle), occurredAt: 1 }, { $case: 'connectionChanged', value: s });

const record = (env: Envelope, offset: number): ProjectedRecord => ({ ...toRecord(env), partition: 0, offset });

describe('connections projection', () => {
  it('keeps the latest view of each connection, whatever the order and however often events arrive', async () => {
    const store = memoryStore();
    await connectionsProjection.ensure(store);
    await applyConnectionEnvelopes(store, [changed(snapshot(2)), changed(snapshot(1))]);
    await applyConnectionEnvelopes(store, [changed(snapshot(1)), changed(snapshot(2))]);
    const stored = await tenantScoped(store, T).get<ConnectionView>(COLLECTIONS.connectionViews, 'crm');
    assert.equal(stored?.version, 2);
    assert.deepEqual(stored?.doc, viewOf(T, snapshot(2)));
    assert.equal(stored?.doc.status, 'active');
  });

  it('reads "never" for zero timestamps and carries the tenant from the envelope', () => {
    const view = viewOf(T, snapshot(1));
    assert.equal(view.tenantId, T);
    assert.equal(view.authorizedAt, null);
    assert.equal(view.expiresAt, null);
    assert.equal(view.refreshedAt, null);
  });

  it('ignores the other connection events and a snapshot filed under another connection', async () => {
    const store = memoryStore();
    const revoked = envelope({ eventId: 'r', tenantId: T, aggregateId: connectionId(T, 'crm'), occurredAt: 1 }, { $case: 'connectionRevoked', value: { handle: 'crm' } });
    const misfiled = envelope({ eventId: 'm', tenantId: 'tenant-2', aggregateId: connectionId(T, 'crm'), occurredAt: 1 }, { $case: 'connectionChanged', value: snapshot(1) });
    await connectionsProjection.apply(store, [record(revoked, 0), record(misfiled, 1)]);
    assert.deepEqual(await store.find(COLLECTIONS.connectionViews, {}), []);
  });

  it('is rebuilt by replay from its topic into the same documents', async () => {
    const batch = [changed(snapshot(1)), changed(snapshot(1, { handle: 'other' }), 'tenant-2'), changed(snapshot(2))].map(record);
    const live = memoryStore();
    const rebuilt = memoryStore();
    for (const r of batch) await connectionsProjection.apply(live, [r]);
    await connectionsProjection.apply(rebuilt, batch);
    assert.deepEqual(await rebuilt.find(COLLECTIONS.connectionViews, {}), await live.find(COLLECTIONS.connectionViews, {}));
    assert.deepEqual(await rebuilt.find(COLLECTIONS.providerAccounts, {}), await live.find(COLLECTIONS.providerAccounts, {}));
    assert.deepEqual(connectionsProjection.collections, [COLLECTIONS.connectionViews, COLLECTIONS.providerAccounts]);
    assert.equal(connectionsProjection.service, 'broker');
  });
});
