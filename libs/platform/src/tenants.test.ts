import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger, systemClock } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { TENANT_COLLECTIONS, applyTenantEvents, createTenants, tenantsProjection, type TenantDoc } from '@codestep/gateway-service';
import type { DocumentStore } from '@codestep/store';
import { openEventLog, openStore } from './adapters.ts';
import { loadPlatformConfig, type PlatformConfig } from './platform.config.ts';
import { replayProjections } from './replay.ts';
import { createTenant } from './tenants.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function platform(): Promise<{ config: PlatformConfig; store: DocumentStore; log: EventLog; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-tenants-'));
  dirs.push(dir);
  const config = loadPlatformConfig({ CODESTEP_DATA_DIR: dir });
  const store = await openStore(config, 'gateway');
  const log = await openEventLog(config, 'test');
  return { config, store, log, close: async () => Promise.all([store.close(), log.close()]).then(() => {}) };
}

async function tenantEvents(log: EventLog): Promise<Envelope[]> {
  const out: Envelope[] = [];
  await log.readAll([Topics.tenants], async (batch) => {
    for (const r of batch) out.push(fromRecord(r.value) as Envelope);
  });
  return out;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function verify(config: PlatformConfig): Promise<Record<string, { live: number; equal: boolean }>> {
  const report = await replayProjections(config, silentLogger, { verify: true, projections: [tenantsProjection] });
  return Object.fromEntries(Object.entries(report.collections).map(([k, v]) => [k, { live: v.live, equal: v.equal }]));
}

/** A store whose projection writes fail: the process "dies" between the append and the store write. */
function failingWrites(store: DocumentStore): DocumentStore {
  return new Proxy(store, {
    get: (target, prop, receiver) => (prop === 'writeVersioned' ? () => Promise.reject(new Error('killed before the store write')) : Reflect.get(target, prop, receiver)),
  });
}

describe('tenants as events and a projection', () => {
  it("a tenant created by `codestep tenants create` authenticates at once, and the event log holds only its key's hash", async () => {
    const p = await platform();
    const created = await createTenant(p.config, 'acme', { maxTimeoutMs: 5_000 });
    const tenants = createTenants({ store: p.store, eventLog: p.log, clock: systemClock });
    assert.equal(await tenants.authenticate(created.apiKey), created.tenantId);
    assert.deepEqual(await tenants.getLimits(created.tenantId), { maxTimeoutMs: 5_000 });
    const events = await tenantEvents(p.log);
    assert.deepEqual(
      events.map((e) => e.type),
      ['TenantCreated', 'ApiKeyCreated'],
    );
    const keyEvent = events[1]?.event;
    assert.equal(keyEvent?.$case === 'apiKeyCreated' && keyEvent.value.keyHash, createHash('sha256').update(created.apiKey).digest('hex'));
    const raw: string[] = [];
    await p.log.readAll([Topics.tenants], async (batch) => void raw.push(...batch.map((r) => Buffer.from(r.value).toString('latin1'))));
    assert.ok(!raw.some((r) => r.includes(created.apiKey)), 'the API key itself must never be in the event log');
    await p.close();
  });

  it('replay --verify rebuilds the tenants, their keys and their limit settings identically', async () => {
    const p = await platform();
    const tenants = createTenants({ store: p.store, eventLog: p.log, clock: systemClock });
    await tenants.ensureCollections();
    const a = await tenants.create('a', undefined, { defaultMemoryMb: 64 });
    await tenants.create('b');
    await tenants.setLimits(a.tenantId, { maxTimeoutMs: 2_000, defaultTimeoutMs: 1_000 });
    assert.deepEqual(await verify(p.config), { 'gateway/tenants': { live: 2, equal: true }, 'gateway/api_keys': { live: 2, equal: true } });
    await p.close();
  });

  it('a change appended by a process killed before its store write is applied by the consumer', async () => {
    const p = await platform();
    const live = createTenants({ store: p.store, eventLog: p.log, clock: systemClock });
    await live.ensureCollections();
    const { tenantId } = await live.create('acme');
    const dying = createTenants({ store: failingWrites(p.store), eventLog: p.log, clock: systemClock });
    await assert.rejects(dying.create('lost?'), /killed before the store write/);
    await assert.rejects(dying.setLimits(tenantId, { maxMemoryMb: 64 }), /killed before the store write/);
    assert.equal((await p.store.find(TENANT_COLLECTIONS.tenants, {})).length, 1);
    const subscription = await live.follow((error) => assert.fail(String(error)));
    await eventually(async () => (await p.store.find(TENANT_COLLECTIONS.tenants, {})).length === 2, 'the consumer to apply the tenant');
    await eventually(async () => (await p.store.get<TenantDoc>(TENANT_COLLECTIONS.tenants, tenantId))?.doc.limits?.maxMemoryMb === 64, 'the consumer to apply the limits');
    await subscription.stop();
    assert.equal((await verify(p.config))['gateway/tenants']?.equal, true);
    await p.close();
  });

  it('never gives one event id or one sequence to two events, even with two writers at once', async () => {
    const p = await platform();
    const one = createTenants({ store: p.store, eventLog: p.log, clock: systemClock });
    const two = createTenants({ store: p.store, eventLog: p.log, clock: systemClock });
    await one.ensureCollections();
    const { tenantId } = await one.create('acme');
    await Promise.all([one.setLimits(tenantId, { maxMemoryMb: 64 }), two.setLimits(tenantId, { maxMemoryMb: 256 }), one.setLimits(tenantId, { maxMemoryMb: 32 })]);
    const events = await tenantEvents(p.log);
    assert.equal(new Set(events.map((e) => e.eventId)).size, events.length);
    const sequences = events.map((e) => (e.event.value as { sequence: number }).sequence);
    assert.equal(new Set(sequences).size, sequences.length);
    assert.deepEqual(await verify(p.config), { 'gateway/tenants': { live: 1, equal: true }, 'gateway/api_keys': { live: 1, equal: true } });
    await p.close();
  });

  it('applying the events twice, or in reverse order, gives the same documents', async () => {
    const p = await platform();
    const tenants = createTenants({ store: p.store, eventLog: p.log, clock: systemClock });
    await tenants.ensureCollections();
    const { tenantId } = await tenants.create('acme', undefined, { maxTimeoutMs: 9_000 });
    await tenants.setLimits(tenantId, { maxTimeoutMs: 3_000 });
    await tenants.setLimits(tenantId, { defaultMemoryMb: 32 });
    const events = await tenantEvents(p.log);
    const before = await p.store.get<TenantDoc>(TENANT_COLLECTIONS.tenants, tenantId);
    await applyTenantEvents(p.store, [...events].reverse());
    await applyTenantEvents(p.store, events);
    assert.deepEqual(await p.store.get<TenantDoc>(TENANT_COLLECTIONS.tenants, tenantId), before);
    assert.deepEqual(before?.doc.limits, { defaultMemoryMb: 32 });
    await p.close();
  });

  it('records tenants written before tenants were events when it catches up, so a rebuild keeps them', async () => {
    const p = await platform();
    const tenants = createTenants({ store: p.store, eventLog: p.log, clock: systemClock });
    await tenants.ensureCollections();
    const keyHash = createHash('sha256').update('csk_legacy').digest('hex');
    await p.store.put<TenantDoc>(TENANT_COLLECTIONS.tenants, 'tnt_legacy', { tenantId: 'tnt_legacy', name: 'old', createdAt: 10, limits: { maxMemoryMb: 64 }, updatedAt: 20 });
    await p.store.put(TENANT_COLLECTIONS.apiKeys, keyHash, { tenantId: 'tnt_legacy', createdAt: 10 });
    await tenants.catchUp();
    await tenants.catchUp();
    assert.deepEqual(
      (await tenantEvents(p.log)).map((e) => e.type),
      ['TenantCreated', 'TenantLimitsSet', 'ApiKeyCreated'],
    );
    assert.deepEqual(await verify(p.config), { 'gateway/tenants': { live: 1, equal: true }, 'gateway/api_keys': { live: 1, equal: true } });
    assert.equal(await tenants.authenticate('csk_legacy'), 'tnt_legacy');
    await p.close();
  });
});
