import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SECRETS_POLICY, ValidationError, silentLogger } from '@codestep/core';
import { tenantScoped } from '@codestep/store';
import { aad, COLLECTIONS, type SecretDoc } from './connection.model.ts';
import { createSecretBox } from './secret-box.ts';
import { createSecretsVault } from './secrets.vault.ts';
import { memoryStore } from './testing/memory-ports.ts';

function setup() {
  const store = memoryStore();
  const box = createSecretBox(randomBytes(32));
  return { store, box, vault: createSecretsVault({ store, box, clock: () => 1_000, log: silentLogger }) };
}

describe('secrets vault', () => {
  it('refuses a value longer than an action may use in total, saying why and what to do', async () => {
    const { vault } = setup();
    const tooLong = 'x'.repeat(SECRETS_POLICY.maxTotalCharsPerAction + 1);
    await assert.rejects(vault.put({ tenantId: 't', name: 'BIG', value: tooLong }), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /is 1001 characters/);
      assert.match(error.message, /at most 1000 characters of secrets in total, so it could never be used/);
      assert.match(error.message, /store a value of at most 1000 characters/);
      return true;
    });
    assert.deepEqual(await vault.put({ tenantId: 't', name: 'FITS', value: 'x'.repeat(SECRETS_POLICY.maxValueChars) }), { name: 'FITS', updatedAt: 1_000 });
  });

  it('takes names of up to 128 characters that can be process.env names, and no others', async () => {
    const { vault } = setup();
    await vault.put({ tenantId: 't', name: `A${'_'.repeat(127)}`, value: 'v' });
    for (const name of [`A${'_'.repeat(128)}`, '1ABC', 'with-dash', '']) {
      await assert.rejects(vault.put({ tenantId: 't', name, value: 'v' }), { message: /becomes process\.env\.NAME/ });
    }
  });

  it('lists names and value lengths, never values, and measures secrets stored before lengths were kept', async () => {
    const { store, box, vault } = setup();
    await vault.put({ tenantId: 't', name: 'B_KEY', value: 'twelve chars' });
    const legacy: SecretDoc = { tenantId: 't', name: 'A_OLD', sealed: box.seal('four', aad.secret('t', 'A_OLD')), updatedAt: 5 };
    await tenantScoped(store, 't').put(COLLECTIONS.secrets, 'A_OLD', legacy);
    await vault.put({ tenantId: 'other', name: 'C_KEY', value: 'not yours' });
    const listed = await vault.list('t');
    assert.deepEqual(listed, [
      { name: 'A_OLD', updatedAt: 5, valueChars: 4 },
      { name: 'B_KEY', updatedAt: 1_000, valueChars: 12 },
    ]);
  });

  it('resolves only the asking tenant’s secrets and reports the rest missing', async () => {
    const { vault } = setup();
    await vault.put({ tenantId: 'a', name: 'KEY', value: 'a-value' });
    await vault.put({ tenantId: 'b', name: 'ONLY_B', value: 'b-value' });
    assert.deepEqual(await vault.resolve({ tenantId: 'a', names: ['KEY', 'ONLY_B', 'bad-name'] }), { values: { KEY: 'a-value' }, missing: ['ONLY_B', 'bad-name'] });
  });
});
