import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { tenantScoped } from '@codestep/store';
import { changeEvents } from './connection.events.ts';
import { COLLECTIONS, toView, type ConnectionDoc } from './connection.model.ts';
import { createConnectionRepository } from './connection.repository.ts';
import { connectionsProjection } from './connections.projection.ts';
import { memoryEventLog, memoryStore } from './testing/memory-ports.ts';

const T = 'tenant-1';

function pending(handle: string, at = 1_000): ConnectionDoc {
  return {
    tenantId: T,
    handle,
    provider: 'acme',
    grantType: 'authorization_code',
    scopes: ['read'],
    permissions: [],
    grantedScopes: [],
    status: 'pending',
    statusReason: '',
    createdAt: at,
    updatedAt: at,
    authorizedAt: null,
    refreshedAt: null,
    credentials: null,
    expiresAt: null,
    generation: 0,
    lease: null,
    lastRefreshFailure: null,
  };
}

const revoke =
  (at: number) =>
  (doc: ConnectionDoc): ConnectionDoc => ({ ...doc, status: 'revoked', statusReason: 'revoked by a user', updatedAt: at });

function setup() {
  const store = memoryStore();
  const eventLog = memoryEventLog();
  const repo = () => createConnectionRepository({ store, eventLog, log: silentLogger });
  const events = (): Envelope[] => eventLog.records.map((r) => fromRecord(r.value)).filter((e): e is Envelope => e !== undefined);
  return { store, eventLog, repo, events };
}

describe('connection repository', () => {
  it('shows a created connection in the view at once and appends its ConnectionChanged', async () => {
    const { repo, events } = setup();
    const r = repo();
    await r.ensure();
    assert.equal(await r.insert(pending('crm')), true);
    assert.deepEqual(await r.list(T), [toView(pending('crm'))]);
    assert.deepEqual(
      events().map((e) => [e.type, e.aggregateId]),
      [['ConnectionChanged', `${T}/crm`]],
    );
    assert.equal(await r.insert(pending('crm')), false, 'a taken handle is refused');
  });

  it('appends a visible change’s event and the new view under ids deterministic in the sequence, then empties the outbox', async () => {
    const { store, repo, events } = setup();
    const r = repo();
    await r.insert(pending('crm'));
    const written = await r.update(T, 'crm', revoke(2_000), () => ({ $case: 'connectionRevoked', value: { handle: 'crm' } }));
    assert.equal(written.doc.sequence, 2);
    const revokedEvents = events().filter((e) => e.event.$case !== 'connectionChanged' || e.event.value.sequence === 2);
    assert.deepEqual(
      revokedEvents.map((e) => e.type),
      ['ConnectionRevoked', 'ConnectionChanged'],
    );
    assert.equal(new Set(events().map((e) => e.eventId)).size, 3, 'every change has its own ids');
    assert.equal((await r.view(T, 'crm'))?.status, 'revoked');
    assert.deepEqual((await tenantScoped(store, T).get<ConnectionDoc>(COLLECTIONS.connections, 'crm'))?.doc.outbox, []);
  });

  it('leaves a change without an event out of the log (the refresh lease)', async () => {
    const { repo, events } = setup();
    const r = repo();
    await r.insert(pending('crm'));
    await r.update(T, 'crm', (doc) => ({ ...doc, lease: { holder: 'me', until: 5 } }));
    assert.equal(events().length, 1);
  });

  it('keeps the events of a change the log did not take, and appends exactly those later, under the same ids', async () => {
    const { store, eventLog, repo, events } = setup();
    const first = repo();
    await first.insert(pending('crm'));
    eventLog.failNextAppends(2);
    await first.update(T, 'crm', revoke(2_000), () => ({ $case: 'connectionRevoked', value: { handle: 'crm' } }));
    await first.update(
      T,
      'crm',
      (doc) => ({ ...doc, statusReason: 'revoked again', updatedAt: 3_000 }),
      () => undefined,
    );
    assert.equal(events().length, 1, 'nothing of the two changes reached the log');
    assert.equal((await first.view(T, 'crm'))?.statusReason, 'revoked again', 'the API reads its own writes all the same');
    const outbox = (await tenantScoped(store, T).get<ConnectionDoc>(COLLECTIONS.connections, 'crm'))?.doc.outbox ?? [];
    assert.deepEqual(
      outbox.map((e) => e.type),
      ['ConnectionRevoked', 'ConnectionChanged', 'ConnectionChanged'],
    );

    // A restarted broker publishes what was left, in order, with the ids and bytes stored with the change.
    const restarted = repo();
    await restarted.ensure();
    const appended = eventLog.records.slice(1);
    assert.deepEqual(
      appended.map((r) => r.id),
      outbox.map((e) => e.eventId),
    );
    assert.deepEqual(
      appended.map((r) => Buffer.from(r.value).toString('base64')),
      outbox.map((e) => e.encoded),
    );
    assert.deepEqual((await tenantScoped(store, T).get<ConnectionDoc>(COLLECTIONS.connections, 'crm'))?.doc.outbox, []);

    // Sweeping again appends nothing new.
    await repo().ensure();
    assert.equal(eventLog.records.length, 4);
    assert.ok(eventLog.records.every((rec) => rec.topic === Topics.connections));
  });

  it('appends the same event again, never another, when a crash came between the append and emptying the outbox', async () => {
    const { store, eventLog, repo } = setup();
    const r = repo();
    await r.insert(pending('crm'));
    const stored = (await tenantScoped(store, T).get<ConnectionDoc>(COLLECTIONS.connections, 'crm'))!;
    // As if the process had died before emptying the outbox: put the published entries back.
    const published = eventLog.records.map((x) => x.id);
    const entries = changeEvents(stored.doc, 1);
    assert.deepEqual(
      entries.map((e) => e.eventId),
      published,
      'the ids of a change are a function of the change',
    );
    assert.ok(await tenantScoped(store, T).compareAndSet(COLLECTIONS.connections, 'crm', stored.version, { ...stored.doc, outbox: entries }));
    await repo().ensure();
    assert.equal(eventLog.records.length, 1, 'the log took the repeated event as the same one');
  });

  it('gives connections stored before the view their first view when it starts', async () => {
    const { store, repo } = setup();
    const legacy = { ...pending('old'), status: 'active' as const, authorizedAt: 1_500, grantedScopes: ['read'] };
    await tenantScoped(store, T).insertIfAbsent(COLLECTIONS.connections, 'old', legacy);
    const r = repo();
    await r.ensure();
    assert.deepEqual(await r.view(T, 'old'), toView(legacy));
  });

  it('builds the same view from the log as the one the broker wrote directly', async () => {
    const { store, eventLog, repo } = setup();
    const r = repo();
    await r.insert(pending('a'));
    await r.insert({ ...pending('b'), tenantId: 'tenant-2' });
    await r.update(T, 'a', revoke(2_000), () => ({ $case: 'connectionRevoked', value: { handle: 'a' } }));
    const rebuilt = memoryStore();
    await connectionsProjection.ensure(rebuilt);
    await eventLog.readAll(connectionsProjection.topics, (batch) => connectionsProjection.apply(rebuilt, batch));
    for (const [tenant, handle] of [
      [T, 'a'],
      ['tenant-2', 'b'],
    ] as const) {
      assert.deepEqual((await tenantScoped(rebuilt, tenant).get(COLLECTIONS.connectionViews, handle))?.doc, (await tenantScoped(store, tenant).get(COLLECTIONS.connectionViews, handle))?.doc);
    }
    assert.deepEqual(await r.list('tenant-2'), [toView({ ...pending('b'), tenantId: 'tenant-2' })], 'each tenant sees only its own');
  });
});
