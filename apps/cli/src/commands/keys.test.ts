import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger, systemClock } from '@codestep/core';
import { apiKeyRoutes, createTenants, startGateway } from '@codestep/gateway-service';
import { loadPlatformConfig, openEventLog, openStore } from '@codestep/platform';
import { keysCommand } from './keys.ts';

const io = () => {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } } };
};

describe('codestep keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-keys-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a key (its value printed once), lists the keys, revokes one, and the revoked key is refused at once', async () => {
    const config = loadPlatformConfig({ CODESTEP_DATA_DIR: dir });
    const store = await openStore(config, 'gateway');
    const eventLog = await openEventLog(config, 'test');
    const tenants = createTenants({ store, eventLog, clock: systemClock });
    await tenants.ensureCollections();
    const gateway = await startGateway({ host: '127.0.0.1', port: 0, routes: apiKeyRoutes(tenants), tenants, logger: silentLogger });
    try {
      const { apiKey } = await tenants.create('acme');
      const env = { CODESTEP_URL: gateway.url, CODESTEP_API_KEY: apiKey };

      const created = io();
      assert.equal(await keysCommand(['create', 'ci deploys', '--json'], env, created.io), 0);
      const key = JSON.parse(created.out.stdout) as { id: string; key: string; name: string };
      assert.equal(key.name, 'ci deploys');
      assert.match(key.key, /^csk_/);

      const listed = io();
      assert.equal(await keysCommand(['list'], { ...env, CODESTEP_API_KEY: key.key }, listed.io), 0);
      const lines = listed.out.stdout.trim().split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[1] ?? '', new RegExp(`^${key.id}  active .* ci deploys  \\(last used \\d{4}-\\d\\d-\\d\\dT\\S+Z\\)$`), 'the key listing is the one in use');
      assert.ok(!listed.out.stdout.includes(key.key), 'list never prints a value');

      const revoked = io();
      assert.equal(await keysCommand(['revoke', key.id], env, revoked.io), 0);
      assert.match(revoked.out.stdout, new RegExp(`revoked API key ${key.id} "ci deploys"`));
      const refused = io();
      assert.equal(await keysCommand(['list'], { ...env, CODESTEP_API_KEY: key.key }, refused.io), 1);
      assert.match(refused.out.stderr, /401 UNAUTHENTICATED/);

      const dup = io();
      assert.equal(await keysCommand(['create', 'default'], env, dup.io), 1);
      assert.match(dup.out.stderr, /409 ALREADY_EXISTS: a working API key is named "default"/);
    } finally {
      await gateway.close();
      await store.close();
      await eventLog.close();
    }
  });

  it('answers --help without calling anything, and a bad command line with its usage and exit 2', async () => {
    const help = io();
    assert.equal(await keysCommand(['--help'], {}, help.io), 0);
    assert.match(help.out.stdout, /revoke <keyId>/);
    for (const argv of [['create'], ['revoke'], ['rotate'], ['list', 'extra'], ['list', '--bogus']]) {
      const bad = io();
      assert.equal(await keysCommand(argv, { CODESTEP_URL: 'http://127.0.0.1:9', CODESTEP_API_KEY: 'csk_x' }, bad.io), 2, argv.join(' '));
      assert.match(bad.out.stderr, /Usage: codestep keys/);
    }
    const noKey = io();
    assert.equal(await keysCommand(['list'], {}, noKey.io), 2);
    assert.match(noKey.out.stderr, /set CODESTEP_API_KEY/);
  });
});
