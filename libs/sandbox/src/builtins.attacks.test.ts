/**
 * Attacks on the surface the Node built-ins added (fs, zlib, dns, http, crypto host calls), run
 * through the real sandbox (host process, workers, fresh contexts), in the style of
 * `attacks.test.ts`: each either gets nothing or a clear error, and the sandbox stays healthy.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { ExecutionRequest, ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest, startLocalServer, type LocalServer } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;
let server: LocalServer;

const attack = (code: string, overrides: Partial<ExecutionRequest> = {}): Promise<ExecutionResult> =>
  sandbox.execute(hubspotRequest(code, { limits: { timeoutMs: 5000, memoryMb: 64 }, ...overrides }));

async function assertHealthy(): Promise<void> {
  const result = await sandbox.execute(
    hubspotRequest(
      `const fs = require('fs'); exports.main = async () => ({ outputFields: { tmp: fs.readdirSync('/tmp').join(), z: require('zlib').gunzipSync(require('zlib').gzipSync('ok')).toString() } })`,
    ),
  );
  assert.equal(result.status, 'succeeded', `well-behaved execution after the attack: ${JSON.stringify(result.error)}`);
  assert.deepEqual(result.outputFields, { tmp: '', z: 'ok' }, 'a fresh, empty /tmp and working built-ins after the attack');
}

before(async () => {
  server = await startLocalServer(() => ({ body: { secret: 'internal data' } }));
  sandbox = await createSandbox({ poolSize: 2, egress: { allowHosts: [], mapHosts: { 'public.example.com': server.url } } });
});

after(async () => {
  await sandbox.close();
  await server.close();
});

describe('fs: only an in-memory /tmp', () => {
  it('every way out of /tmp fails with EACCES naming the rule; nothing of the host file system is read', async () => {
    const result = await attack(`exports.main = async () => {
      const fs = require('fs');
      const paths = ['/etc/passwd', '/tmp/../etc/passwd', '/tmp/./../../proc/self/environ', '../../etc/hosts', '/proc/self/maps', Buffer.from('/etc/shadow'), new URL('file:///etc/passwd'), '/tmpx/file', '/'];
      const got = paths.map((p) => { try { return 'read:' + fs.readFileSync(p).length; } catch (e) { return e.code; } });
      const listing = (() => { try { return fs.readdirSync('/').join(); } catch (e) { return e.code; } })();
      const asynchronous = await require('fs/promises').readFile('/etc/passwd').then(() => 'read', (e) => e.code);
      const rule = (() => { try { fs.writeFileSync('/var/tmp/x', 'x'); } catch (e) { return e.message; } })();
      return { outputFields: { got: [...new Set(got)].join(), listing, asynchronous, rule } };
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields.got, 'EACCES');
    assert.equal(result.outputFields.listing, 'EACCES');
    assert.equal(result.outputFields.asynchronous, 'EACCES');
    assert.match(String(result.outputFields.rule), /EACCES: permission denied, open '\/var\/tmp\/x' \(actions may only use files under \/tmp/);
    await assertHealthy();
  });

  it('/tmp past its cap fails with ENOSPC, files held past the execution memory end it with MEMORY_LIMIT, and the next execution starts empty', async () => {
    const cap = await attack(
      `exports.main = async () => {
      const fs = require('fs');
      let written = 0;
      try { for (let i = 0; i < 100; i++) { fs.writeFileSync('/tmp/f' + i, Buffer.alloc(1024 * 1024, 1)); written++; } } catch (e) { return { outputFields: { code: e.code, written } }; }
      return { outputFields: { code: 'none', written } };
    }`,
      { limits: { timeoutMs: 5000, memoryMb: 128 } },
    );
    assert.equal(cap.status, 'succeeded', JSON.stringify(cap.error));
    assert.equal(cap.outputFields.code, 'ENOSPC');
    assert.equal(cap.outputFields.written, 32);
    const memory = await attack(
      `exports.main = async () => {
      const fs = require('fs');
      for (let i = 0; i < 100; i++) fs.writeFileSync('/tmp/f' + i, Buffer.alloc(1024 * 1024, 1));
      return { outputFields: {} };
    }`,
      { limits: { timeoutMs: 5000, memoryMb: 16 } },
    );
    assert.equal(memory.status, 'failed');
    assert.equal(memory.error?.code, 'MEMORY_LIMIT', JSON.stringify(memory.error));
    await assertHealthy();
  });
});

describe('zlib: output capped by the execution memory', () => {
  it('a gzip bomb (64 MiB of zeros in ~64 KB) fails with ERR_BUFFER_TOO_LARGE in sync, callback and stream forms', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64');
    const result = await attack(
      `exports.main = async () => {
      const zlib = require('zlib');
      const bomb = Buffer.from(${JSON.stringify(bomb)}, 'base64');
      const out = {};
      try { zlib.gunzipSync(bomb); out.sync = 'inflated'; } catch (e) { out.sync = e.code; }
      out.callback = await new Promise((resolve) => zlib.gunzip(bomb, (e) => resolve(e ? e.code : 'inflated')));
      out.stream = await new Promise((resolve) => { const g = zlib.createGunzip(); g.on('error', (e) => resolve(e.code)); g.on('data', () => {}); g.on('end', () => resolve('inflated')); g.end(bomb); });
      out.asked = (() => { try { zlib.inflateSync(zlib.deflateSync(Buffer.alloc(1000)), { maxOutputLength: 10 }); return 'inflated'; } catch (e) { return e.code; } })();
      return { outputFields: out };
    }`,
      { limits: { timeoutMs: 5000, memoryMb: 16 } },
    );
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { sync: 'ERR_BUFFER_TOO_LARGE', callback: 'ERR_BUFFER_TOO_LARGE', stream: 'ERR_BUFFER_TOO_LARGE', asked: 'ERR_BUFFER_TOO_LARGE' });
    await assertHealthy();
  });
});

describe('dns and http: the egress policy holds for the built-ins', () => {
  it('dns refuses loopback, private and metadata answers and reverse lookups of private addresses, and caps queries', async () => {
    const result = await attack(`exports.main = async () => {
      const dns = require('dns').promises;
      const code = (p) => p.then((v) => 'answered:' + JSON.stringify(v), (e) => e.code);
      const refused = [await code(dns.lookup('localhost')), await code(dns.lookup('127.0.0.1')), await code(dns.lookup('169.254.169.254')), await code(dns.lookup('10.0.0.1')), await code(dns.lookup('[::1]')), await code(dns.reverse('10.1.2.3'))];
      const flood = await Promise.all(Array.from({ length: 120 }, () => code(dns.lookup('localhost'))));
      return { outputFields: { refused: [...new Set(refused)].join(), limited: flood.filter((c) => c === 'EGRESS_LIMIT').length > 0 } };
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(result.outputFields.refused, 'EGRESS_BLOCKED');
    assert.equal(result.outputFields.limited, true);
    await assertHealthy();
  });

  it('http and https requests to metadata, loopback and private addresses are refused; the local server is never reached', async () => {
    const before = server.requests.length;
    const result = await attack(`exports.main = async () => {
      const get = (mod, url) => new Promise((resolve) => mod.get(url, (res) => { res.resume(); resolve('status:' + res.statusCode); }).on('error', (e) => resolve(e.code)));
      const http = require('http'), https = require('https');
      const port = ${JSON.stringify(new URL(server.url).port)};
      const got = [
        await get(http, 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'),
        await get(http, { host: 'metadata.google.internal', path: '/computeMetadata/v1/' }),
        await get(http, 'http://127.0.0.1:' + port + '/'),
        await get(https, { hostname: '::ffff:127.0.0.1', port, path: '/' }),
        await get(http, 'http://[::1]:' + port + '/'),
        await get(http, { hostname: '10.0.0.1', agent: new http.Agent({ keepAlive: true }) }),
      ];
      return { outputFields: { got: [...new Set(got)].join() } };
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.match(String(result.outputFields.got), /^(EGRESS_BLOCKED|EGRESS_NETWORK)(,(EGRESS_BLOCKED|EGRESS_NETWORK))?$/);
    assert.equal(server.requests.length, before, 'no request reached the loopback server');
    await assertHealthy();
  });
});

describe('crypto host calls: bounded work, bounded state, nothing but primitives', () => {
  it('huge KDF parameters are refused before any work; scrypt memory is capped; cipher handles are capped', async () => {
    const result = await attack(`exports.main = async () => {
      const crypto = require('crypto');
      const code = (f) => { try { f(); return 'ran'; } catch (e) { return e.code || e.message; } };
      const started = Date.now();
      const out = {
        pbkdf2: code(() => crypto.pbkdf2Sync('p', 's', 1e9, 64, 'sha512')),
        keylen: code(() => crypto.pbkdf2Sync('p', 's', 1, 1e9, 'sha1')),
        scrypt: code(() => crypto.scryptSync('p', 's', 64, { N: 2 ** 20, r: 8, p: 1 })),
        badKey: code(() => crypto.createCipheriv('aes-256-gcm', Buffer.alloc(3), Buffer.alloc(12))),
        objects: code(() => crypto.createCipheriv({ toString() { throw new Error('called'); } }, Buffer.alloc(16), Buffer.alloc(16))),
        handles: code(() => { for (let i = 0; i < 300; i++) crypto.createCipheriv('aes-128-cbc', Buffer.alloc(16), Buffer.alloc(16)); }),
      };
      out.quick = Date.now() - started < 2000;
      return { outputFields: out };
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(result.outputFields.pbkdf2, 'ERR_OUT_OF_RANGE');
    assert.equal(result.outputFields.keylen, 'ERR_OUT_OF_RANGE');
    assert.match(String(result.outputFields.scrypt), /memory|ERR_CRYPTO_INVALID_SCRYPT_PARAMS/i);
    assert.equal(result.outputFields.handles, 'ERR_OUT_OF_RANGE');
    assert.match(String(result.outputFields.badKey), /ERR_CRYPTO_INVALID_KEYLEN|Invalid key length/);
    assert.equal(result.outputFields.objects, 'ERR_INVALID_ARG_TYPE');
    await assertHealthy();
  });

  it('a cipher fed more than the execution memory ends it with MEMORY_LIMIT, not the host', async () => {
    const result = await attack(
      `exports.main = async () => {
      const c = require('crypto').createCipheriv('aes-256-ctr', Buffer.alloc(32), Buffer.alloc(16));
      const parts = [];
      for (let i = 0; i < 64; i++) parts.push(c.update(Buffer.alloc(1024 * 1024)));
      return { outputFields: { n: parts.length } };
    }`,
      { limits: { timeoutMs: 5000, memoryMb: 16 } },
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'MEMORY_LIMIT', JSON.stringify(result.error));
    await assertHealthy();
  });
});
