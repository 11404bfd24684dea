/**
 * A tenant's API keys: several, named, created and revoked over the API, every change an event
 * and the keys a projection rebuilt by replay. Two gateways here are two replicas: each has its
 * own store and event-log handles on one data directory (as replicas share one MongoDB), and a
 * key revoked through one is refused by the other on the very next request.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { silentLogger, systemClock } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { TENANT_COLLECTIONS, apiKeyRoutes, apiKeyView, applyTenantEvents, createTenants, startGateway, tenantsProjection, type Gateway, type KeyDoc, type Tenants } from '@codestep/gateway-service';
import type { DocumentStore } from '@codestep/store';
import { openEventLog, openStore } from './adapters.ts';
import { loadPlatformConfig, type PlatformConfig } from './platform.config.ts';
import { replayProjections } from './replay.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
/** Every replica a test started, closed after it even when it failed. */
const running: Replica[] = [];
afterEach(async () => close(...running.splice(0)));

interface Replica {
  store: DocumentStore;
  log: EventLog;
  tenants: Tenants;
  gateway: Gateway;
}

/** A gateway with its own store and event-log handles on the platform's data directory. */
async function replica(config: PlatformConfig): Promise<Replica> {
  const store = await openStore(config, 'gateway');
  const log = await openEventLog(config, 'test');
  const tenants = createTenants({ store, eventLog: log, clock: systemClock });
  await tenants.ensureCollections();
  const gateway = await startGateway({ host: '127.0.0.1', port: 0, routes: apiKeyRoutes(tenants), tenants, logger: silentLogger });
  const r = { store, log, tenants, gateway };
  running.push(r);
  return r;
}

async function close(...replicas: Replica[]): Promise<void> {
  for (const r of replicas) {
    await r.gateway.close();
    await r.store.close();
    await r.log.close();
  }
}

function newConfig(): PlatformConfig {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-keys-'));
  dirs.push(dir);
  return loadPlatformConfig({ CODESTEP_DATA_DIR: dir });
}

async function call(r: Replica, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(r.gateway.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

async function tenantEvents(log: EventLog): Promise<Envelope[]> {
  const out: Envelope[] = [];
  await log.readAll([Topics.tenants], async (batch) => {
    for (const r of batch) out.push(fromRecord(r.value) as Envelope);
  });
  return out;
}

describe('API keys per tenant', () => {
  it('creates a named key shown once, lists keys without values, and a key revoked through one gateway is refused by the other at once', async () => {
    const config = newConfig();
    const a = await replica(config);
    const b = await replica(config);
    const { tenantId, apiKey: first } = await a.tenants.create('acme');

    const created = await call(a, first, 'POST', '/v1/api-keys', { name: 'ci deploys' });
    assert.equal(created.status, 201);
    const second = created.body.key as string;
    assert.match(second, /^csk_[A-Za-z0-9_-]{32}$/);
    assert.equal(created.body.prefix, second.slice(0, 12));
    assert.equal(created.body.status, 'active');

    // The new key works on the other replica, which never saw it created.
    const listed = await call(b, second, 'GET', '/v1/api-keys');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.apiKeys.map((k: any) => [k.name, k.status, k.revokedAt]),
      [
        ['default', 'active', null],
        ['ci deploys', 'active', null],
      ],
    );
    assert.equal(listed.body.nextCursor, null);
    assert.ok(
      listed.body.apiKeys.every((k: any) => typeof k.lastUsedAt === 'string'),
      'both keys were used (one to create the other, which lists them)',
    );
    assert.ok(!JSON.stringify(listed.body).includes(second), 'a listed key never shows its value');

    // Revoked through B while A has just authenticated it: A refuses it on its next request.
    assert.equal((await call(a, second, 'GET', '/v1/api-keys')).status, 200);
    const revoked = await call(b, first, 'DELETE', `/v1/api-keys/${created.body.id}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, 'revoked');
    for (const r of [a, b]) {
      const refused = await call(r, second, 'GET', '/v1/api-keys');
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error.code, 'UNAUTHENTICATED');
    }
    assert.equal((await call(a, first, 'GET', '/v1/api-keys')).status, 200, 'the other key of the tenant still works');
    assert.deepEqual(
      (await tenantEvents(a.log)).map((e) => [e.type, e.tenantId]),
      [
        ['TenantCreated', tenantId],
        ['ApiKeyCreated', tenantId],
        ['ApiKeyCreated', tenantId],
        ['ApiKeyRevoked', tenantId],
      ],
    );
  });

  it('refuses bad names, a duplicate working name, an unknown or foreign key id, and the last working key, each naming what to do', async () => {
    const config = newConfig();
    const a = await replica(config);
    const { apiKey } = await a.tenants.create('acme');
    const other = await a.tenants.create('other');
    const otherKeys = await a.tenants.listKeys(other.tenantId);

    for (const [body, message] of [
      [{}, /name is required/],
      [{ name: '  ' }, /name is required/],
      [{ name: 'x'.repeat(101) }, /at most 100/],
      [{ name: 'ok', nmae: 'typo' }, /body\.nmae is not a field/],
      [['ci'], /JSON object/],
    ] as const) {
      const res = await call(a, apiKey, 'POST', '/v1/api-keys', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error.message, message);
    }
    assert.equal((await call(a, apiKey, 'POST', '/v1/api-keys', { name: 'ci' })).status, 201);
    const dup = await call(a, apiKey, 'POST', '/v1/api-keys', { name: 'ci' });
    assert.equal(dup.status, 409);
    assert.match(dup.body.error.message, /named "ci" already/);

    const unknown = await call(a, apiKey, 'DELETE', '/v1/api-keys/key_nope');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /GET \/v1\/api-keys/);
    assert.equal((await call(a, apiKey, 'DELETE', `/v1/api-keys/${otherKeys[0]!.id}`)).status, 404, "another tenant's key is not found");
    assert.equal(await a.tenants.authenticate(other.apiKey), other.tenantId, 'and still works');

    const last = await call(a, other.apiKey, 'DELETE', `/v1/api-keys/${otherKeys[0]!.id}`);
    assert.equal(last.status, 409);
    assert.match(last.body.error.message, /last working key: create another/);

    const badCursor = await call(a, apiKey, 'GET', '/v1/api-keys?cursor=bogus');
    assert.equal(badCursor.status, 400);
    assert.match(badCursor.body.error.message, /"cursor"/);
    assert.equal((await call(a, 'csk_not-a-key', 'GET', '/v1/api-keys')).status, 401);
  });

  it('given a tenant with two keys, when each is revoked at once through its own gateway, then one revocation wins and the other is refused as the last working key', async () => {
    const config = newConfig();
    const a = await replica(config);
    const b = await replica(config);
    for (let round = 0; round < 5; round++) {
      const { tenantId, apiKey: first } = await a.tenants.create(`acme-${round}`);
      const created = await call(a, first, 'POST', '/v1/api-keys', { name: 'second' });
      const second = created.body.key as string;
      const [k1, k2] = (await a.tenants.listKeys(tenantId)).map((k) => k.id);
      // Both requests are sent before either is answered: each replica reads two working keys.
      const answers = await Promise.all([call(a, first, 'DELETE', `/v1/api-keys/${k1}`), call(b, second, 'DELETE', `/v1/api-keys/${k2}`)]);
      assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409], JSON.stringify(answers.map((r) => r.body)));
      assert.match(answers.find((r) => r.status === 409)!.body.error.message, /last working key/);
      const working = (await a.tenants.listKeys(tenantId)).filter((k) => !k.revokedAt);
      assert.equal(working.length, 1, 'the tenant keeps one working key');
      const stillWorks = answers[0]!.status === 200 ? second : first;
      assert.equal(await b.tenants.authenticate(stillWorks), tenantId);
    }
  });

  it('in one process, two revocations at once leave one working key; a revocation reserved by a writer that died before appending is done again', async () => {
    const config = newConfig();
    const a = await replica(config);
    const { tenantId } = await a.tenants.create('acme');
    const { key: second } = await a.tenants.createKey(tenantId, 'second');
    const [k1] = (await a.tenants.listKeys(tenantId)).map((k) => k.id);
    const outcomes = await Promise.allSettled([a.tenants.revokeKey(tenantId, k1!), a.tenants.revokeKey(tenantId, second.id)]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    const working = (await a.tenants.listKeys(tenantId)).filter((k) => !k.revokedAt);
    assert.equal(working.length, 1, 'the tenant keeps one working key');
    await assert.rejects(a.tenants.revokeKey(tenantId, working[0]!.id), /last working key/);

    // A third key, then a writer that reserved its revocation (the working set without it) and
    // died before the append: the key still works, and revoking it again appends the event.
    const { key: third, apiKey: thirdValue } = await a.tenants.createKey(tenantId, 'third');
    const thirdHash = (await a.store.find<KeyDoc>(TENANT_COLLECTIONS.apiKeys, { where: { tenantId } })).find((d) => d.doc.keyId === third.id)!.id;
    const sequences = await a.store.get<{ last: number; workingKeys: string[] }>('tenant_sequences', tenantId);
    if (!sequences) assert.fail('a key change keeps the working keys beside the sequence');
    assert.ok(sequences.doc.workingKeys.includes(thirdHash));
    assert.ok(await a.store.compareAndSet('tenant_sequences', tenantId, sequences.version, { last: sequences.doc.last + 1, workingKeys: sequences.doc.workingKeys.filter((h) => h !== thirdHash) }));
    assert.equal(await a.tenants.authenticate(thirdValue), tenantId);
    assert.equal((await a.tenants.revokeKey(tenantId, third.id)).revokedAt !== undefined, true);
    assert.equal(await a.tenants.authenticate(thirdValue), undefined);
  });

  it('shows when each key was last used, writing it at most once a minute per gateway and never as an event', async () => {
    const config = newConfig();
    const store = await openStore(config, 'gateway');
    const log = await openEventLog(config, 'test');
    let now = Date.parse('2026-12-07T10:00:00Z');
    const tenants = createTenants({ store, eventLog: log, clock: () => now });
    await tenants.ensureCollections();
    try {
      const { tenantId, apiKey } = await tenants.create('acme');
      const { key: unused } = await tenants.createKey(tenantId, 'unused');
      const eventsBefore = (await tenantEvents(log)).length;
      const lastUsed = async () => Object.fromEntries((await tenants.listKeys(tenantId)).map((k) => [k.name, k.lastUsedAt]));
      assert.deepEqual(await lastUsed(), { default: undefined, unused: undefined });

      assert.equal(await tenants.authenticate(apiKey), tenantId);
      const first = now;
      now += 30_000;
      for (let i = 0; i < 20; i++) await tenants.authenticate(apiKey);
      assert.deepEqual(await lastUsed(), { default: first, unused: undefined }, 'within the minute, the first use stands');
      const usage = await store.find<{ lastUsedAt: number }>('api_key_usage', {});
      assert.deepEqual(
        usage.map((u) => u.version),
        [1],
        'one write for 21 requests within a minute',
      );
      now += 31_000;
      await tenants.authenticate(apiKey);
      assert.deepEqual(await lastUsed(), { default: now, unused: undefined }, 'a minute later, written again');
      assert.equal((await tenantEvents(log)).length, eventsBefore, 'using a key appends no event');
      const view = apiKeyView((await tenants.listKeys(tenantId)).find((k) => k.id === unused.id)!);
      assert.equal(view.lastUsedAt, null);
    } finally {
      await store.close();
      await log.close();
    }
  });

  it('pages the keys with a cursor: every key once, in the order of the whole list', async () => {
    const config = newConfig();
    const a = await replica(config);
    const { tenantId, apiKey } = await a.tenants.create('acme');
    for (let i = 0; i < 6; i++) await a.tenants.createKey(tenantId, `k${i}`);
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(a, apiKey, 'GET', `/v1/api-keys?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      names.push(...res.body.apiKeys.map((k: any) => k.name));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    // Keys created in one millisecond are ordered by id: the order of the unpaged list.
    assert.deepEqual(
      names,
      (await a.tenants.listKeys(tenantId)).map((k) => k.name),
    );
    assert.deepEqual([...names].sort(), ['default', 'k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    assert.equal(pages, 3);
  });

  it('replay rebuilds the keys, revocations included, identically; the events in any order give the same keys', async () => {
    const config = newConfig();
    const a = await replica(config);
    const { tenantId } = await a.tenants.create('acme');
    const { key } = await a.tenants.createKey(tenantId, 'ci');
    await a.tenants.createKey(tenantId, 'zapier');
    await a.tenants.revokeKey(tenantId, key.id);
    assert.equal(
      (await a.tenants.revokeKey(tenantId, key.id)).revokedAt,
      (await a.tenants.listKeys(tenantId)).find((k) => k.id === key.id)?.revokedAt,
      'revoking again answers the revocation as it was',
    );
    const report = await replayProjections(config, silentLogger, { verify: true, projections: [tenantsProjection] });
    assert.deepEqual(report.collections['gateway/api_keys'], { ...report.collections['gateway/api_keys'], live: 3, equal: true });

    const before = (await a.store.find<KeyDoc>(TENANT_COLLECTIONS.apiKeys, {})).sort((x, y) => x.id.localeCompare(y.id));
    const events = await tenantEvents(a.log);
    await a.store.clear(TENANT_COLLECTIONS.apiKeys);
    await applyTenantEvents(a.store, [...events].reverse());
    await applyTenantEvents(a.store, events);
    assert.deepEqual(
      (await a.store.find<KeyDoc>(TENANT_COLLECTIONS.apiKeys, {})).sort((x, y) => x.id.localeCompare(y.id)),
      before,
    );
  });

  it('lists a key created before keys had names and ids under a stable derived id, and revokes it', async () => {
    const config = newConfig();
    const a = await replica(config);
    const { tenantId, apiKey } = await a.tenants.create('acme');
    const legacyHash = 'ab'.repeat(32);
    await a.store.put(TENANT_COLLECTIONS.apiKeys, legacyHash, { tenantId, createdAt: 1 });
    const keys = await a.tenants.listKeys(tenantId);
    assert.deepEqual(keys[0], { id: `key_${legacyHash.slice(0, 24)}`, name: 'default', prefix: '', createdAt: 1 });
    const res = await call(a, apiKey, 'DELETE', `/v1/api-keys/${keys[0]!.id}`);
    assert.equal(res.status, 200);
    assert.equal((await a.store.get<KeyDoc>(TENANT_COLLECTIONS.apiKeys, legacyHash))?.doc.revokedAt !== undefined, true);
  });
});
