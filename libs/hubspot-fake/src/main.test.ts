/** `main.ts` run as its own process, and the flags it understands. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseCliArgs, parseClientSpec, parseTokenSpec } from './cli-args.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

void describe('main.ts', () => {
  void test('prints its URL, serves the token it was given and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', '0', '--token', 'pat-na1-standalone@555'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          const match = /hubspot-fake listening on (http:\/\/\S+)/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`main.ts exited early with ${code}: ${stdout}`)));
      });
      const created = await fetch(`${url}/crm/v3/objects/contacts`, {
        method: 'POST',
        headers: { Authorization: 'Bearer pat-na1-standalone', 'Content-Type': 'application/json' },
        body: JSON.stringify({ properties: { email: 'cli@example.com' } }),
      });
      assert.equal(created.status, 201);
      const info = await fetch(`${url}/oauth/v1/access-tokens/pat-na1-standalone`);
      assert.equal(((await info.json()) as { hub_id: number }).hub_id, 555);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  void test('a bad flag stops it with exit code 2 and a message', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /--port takes a non-negative integer, got eighty/);
  });

  void test('--seed loads a seed document; a seed naming an unknown ref exits 2', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'hs-main-seed-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ owners: [{ id: 42, email: 'seeded@example.com' }] }));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ associations: [{ from: 'x', to: 'y' }] }));
    const child = spawn(process.execPath, [MAIN, '--port', '0', '--token', 'pat-seeded', '--seed', join(dir, 'good.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          const match = /hubspot-fake listening on (http:\/\/\S+)/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`main.ts exited early with ${code}: ${stdout}`)));
      });
      const owners = await fetch(`${url}/crm/v3/owners/42`, { headers: { Authorization: 'Bearer pat-seeded' } });
      assert.equal(((await owners.json()) as { email: string }).email, 'seeded@example.com');
    } finally {
      child.kill('SIGKILL');
    }
    const bad = spawn(process.execPath, [MAIN, '--port', '0', '--seed', join(dir, 'bad.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    bad.stderr.setEncoding('utf8');
    bad.stderr.on('data', (chunk: string) => (stderr += chunk));
    const [code] = await once(bad, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /unknown ref/);
  });
});

void describe('command-line flags', () => {
  void test('a token may name its portal and scopes', () => {
    assert.deepEqual(parseTokenSpec('pat-na1-x@123:crm.objects.contacts.read,tickets'), ['pat-na1-x', { portalId: 123, scopes: ['crm.objects.contacts.read', 'tickets'] }]);
    assert.deepEqual(parseTokenSpec('pat-na1-y'), ['pat-na1-y', {}]);
  });

  void test('a client keeps the colons of its redirect URIs', () => {
    assert.deepEqual(parseClientSpec('id:secret:http://localhost:3000/cb,https://app.test/cb'), {
      clientId: 'id',
      clientSecret: 'secret',
      redirectUris: ['http://localhost:3000/cb', 'https://app.test/cb'],
    });
    assert.throws(() => parseClientSpec('id-only'), /expected CLIENT_ID:CLIENT_SECRET:REDIRECT_URI/);
  });

  void test('flags map onto options', () => {
    assert.deepEqual(parseCliArgs(['--port', '4010', '--rate-limit', '5', '--token-ttl', '60', '--token', 'a', '--token', 'b@7', '--strict-properties']), {
      port: 4010,
      rateLimitPerSecond: 5,
      accessTokenTtlSeconds: 60,
      accessTokens: { a: {}, b: { portalId: 7 } },
      strictProperties: true,
    });
  });
});
