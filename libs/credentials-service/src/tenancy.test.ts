/**
 * Tenancy of the broker's records on the embedded store: two tenants that pick the same secret
 * name or connection handle each see only their own, and the stored ids keep the layout earlier
 * versions wrote (`<tenantId>/<name>`), so existing data directories keep working.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { NotFoundError, silentLogger } from '@codestep/core';
import { SqliteStore } from '@codestep/store-sqlite';
import { COLLECTIONS, toView, type ConnectionDoc } from './connection.model.ts';
import { createConnectionRepository } from './connection.repository.ts';
import { createSecretBox } from './secret-box.ts';
import { createSecretsVault } from './secrets.vault.ts';
import { memoryEventLog } from './testing/memory-ports.ts';

function connection(tenantId: string, handle: string, provider: string): ConnectionDoc {
  return {
    tenantId,
    handle,
    provider,
    grantType: 'authorization_code',
    scopes: ['read'],
    permissions: [],
    grantedScopes: [],
    status: 'pending',
    statusReason: '',
    createdAt: 1_000,
    updatedAt: 1_000,
    authorizedAt: null,
    refreshedAt: null,
    credentials: null,
    expiresAt: null,
    generation: 0,
    lease: null,
    lastRefreshFailure: null,
  };
}

describe('tenancy of the broker’s records', () => {
  it('gives two tenants with the same secret name each their own value, list and delete', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const vault = createSecretsVault({ store, box: createSecretBox(randomBytes(32)), clock: () => 1_000, log: silentLogger });
    await vault.ensure();
    await vault.put({ tenantId: 'tenant-a', name: 'API_KEY', value: 'a-value' });
    await vault.put({ tenantId: 'tenant-b', name: 'API_KEY', value: 'b-value' });
    await vault.put({ tenantId: 'tenant-b', name: 'ONLY_B', value: 'b-only' });

    assert.deepEqual(await vault.resolve({ tenantId: 'tenant-a', names: ['API_KEY', 'ONLY_B'] }), { values: { API_KEY: 'a-value' }, missing: ['ONLY_B'] });
    assert.deepEqual(await vault.resolve({ tenantId: 'tenant-b', names: ['API_KEY'] }), { values: { API_KEY: 'b-value' }, missing: [] });
    assert.deepEqual(
      (await vault.list('tenant-a')).map((s) => s.name),
      ['API_KEY'],
    );
    assert.equal(await vault.delete({ tenantId: 'tenant-a', name: 'ONLY_B' }), false, 'another tenant’s secret is not found');
    assert.equal(await vault.delete({ tenantId: 'tenant-a', name: 'API_KEY' }), true);
    assert.deepEqual(await vault.resolve({ tenantId: 'tenant-b', names: ['API_KEY'] }), { values: { API_KEY: 'b-value' }, missing: [] });
    assert.deepEqual((await store.find(COLLECTIONS.secrets, {})).map((d) => d.id).sort(), ['tenant-b/API_KEY', 'tenant-b/ONLY_B'], 'stored ids keep the <tenantId>/<name> layout');
    await store.close();
  });

  it('gives two tenants with the same connection handle each their own record and view', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const repo = createConnectionRepository({ store, eventLog: memoryEventLog(), log: silentLogger });
    await repo.ensure();
    assert.equal(await repo.insert(connection('tenant-a', 'crm', 'acme')), true);
    assert.equal(await repo.insert(connection('tenant-b', 'crm', 'other')), true, 'the same handle in another tenant is not taken');
    await repo.insert(connection('tenant-b', 'only-b', 'other'));

    assert.equal((await repo.find('tenant-a', 'crm'))?.doc.provider, 'acme');
    assert.equal((await repo.find('tenant-b', 'crm'))?.doc.provider, 'other');
    assert.equal(await repo.find('tenant-a', 'only-b'), null);
    assert.equal(await repo.view('tenant-a', 'only-b'), null);
    await assert.rejects(repo.require('tenant-a', 'only-b'), NotFoundError);
    await assert.rejects(
      repo.update('tenant-a', 'only-b', (d) => ({ ...d, status: 'revoked' })),
      NotFoundError,
    );

    await repo.update(
      'tenant-a',
      'crm',
      (d) => ({ ...d, status: 'revoked', updatedAt: 2_000 }),
      () => ({ $case: 'connectionRevoked', value: { handle: 'crm' } }),
    );
    assert.equal((await repo.view('tenant-a', 'crm'))?.status, 'revoked');
    assert.deepEqual(await repo.list('tenant-b'), [toView(connection('tenant-b', 'crm', 'other')), toView(connection('tenant-b', 'only-b', 'other'))]);
    assert.deepEqual(
      (await store.find(COLLECTIONS.connectionViews, {})).map((d) => d.id).sort(),
      ['tenant-a/crm', 'tenant-b/crm', 'tenant-b/only-b'],
      'stored ids keep the <tenantId>/<handle> layout',
    );
    await store.close();
  });
});
