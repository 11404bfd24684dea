/**
 * The Node built-ins of the sandbox (in-context bundles over the host calls) in real fresh `vm`
 * contexts, checked against Node's own modules as the oracle: same ciphertexts, digests,
 * derived keys, compressed bytes and paths. HTTP goes through `@codestep/egress` to a local
 * server, DNS through `createEgressDns` with an injected resolver.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { createEgressDns, createEgressFetch } from '@codestep/egress';
import { BuiltinHost } from './host/builtin-host.ts';
import { loadSandboxRuntime } from './runtime.build.ts';
import type { SandboxRuntime } from './runtime.types.ts';
import { createRuntimeContext, ScriptCache, type RuntimeContext } from './testing/runtime-context.ts';

let runtime: SandboxRuntime;
let server: http.Server;
let serverUrl: string;
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
const scripts = new ScriptCache();

const DNS_ANSWERS: Record<string, string[]> = { 'public.example.com': ['93.184.215.14'], 'internal.example.com': ['10.0.0.7'], 'metadata.example.com': ['169.254.169.254'] };

function context(options: { maxOutputBytes?: number } = {}): RuntimeContext {
  const policy = { allowHosts: [], mapHosts: { 'api.example.com': serverUrl, 'secure.example.com': serverUrl } };
  const egress = createEgressFetch(policy, {});
  const dns = createEgressDns(policy, {
    lookup: async (name) => {
      const answer = DNS_ANSWERS[name] ?? (name === '127.0.0.1' ? ['127.0.0.1'] : undefined);
      if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return answer.map((address) => ({ address, family: 4 as const }));
    },
    resolve: async (name, rrtype) => {
      if (rrtype === 'MX') return [{ exchange: `mx.${name}`, priority: 10 }];
      if (rrtype === 'TXT') return [['v=spf1 -all']];
      const answer = DNS_ANSWERS[name];
      if (answer === undefined) throw Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return answer;
    },
  });
  const host = new BuiltinHost(options.maxOutputBytes ?? 128 * 1024 * 1024);
  return createRuntimeContext(runtime, { scripts, fetch: async (json) => JSON.stringify(await egress(json)), dns, builtin: (op, payload) => host.call(op, payload) });
}

before(async () => {
  runtime = await loadSandboxRuntime();
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/echo?from=redirect' });
        res.end();
        return;
      }
      if (req.url?.startsWith('/reports-bucket')) {
        res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': 'req-1' });
        res.end(
          req.method === 'PUT'
            ? ''
            : '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>reports-bucket</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>2026/report.csv</Key><Size>42</Size><ETag>"abc"</ETag><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>',
        );
        return;
      }
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync('compressed body'));
        return;
      }
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-multi': 'one' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const hex = (b: Buffer) => b.toString('hex');

/** The sandbox's own `process` (process.part.ts) is not part of the runtime's reference wiring: a stand-in with what libraries read. */
const PROCESS_STANDIN = `globalThis.process = {
  env: {}, version: 'v24.0.0', versions: { node: '24.0.0' }, platform: 'linux', cwd: () => '/action',
  nextTick: (f, ...a) => queueMicrotask(() => f(...a)),
  hrtime: (prev) => { const t = performance.now(); const s = Math.floor(t / 1000), ns = Math.floor((t % 1000) * 1e6); return prev ? [s - prev[0], ns - prev[1]] : [s, ns]; },
};`;

void describe('crypto built-in (host calls to Node crypto)', () => {
  void it('encrypts with aes-256-cbc, aes-128-gcm and aes-256-ctr exactly as Node, and decrypts what Node encrypted', async () => {
    const key32 = crypto.randomBytes(32);
    const key16 = crypto.randomBytes(16);
    const iv16 = crypto.randomBytes(16);
    const iv12 = crypto.randomBytes(12);
    const text = 'Ünïcode payload, long enough to span several AES blocks: 0123456789abcdef0123456789';
    const got = (await context().runAsync(`
      const crypto = require('crypto');
      const k32 = Buffer.from('${hex(key32)}', 'hex'), k16 = Buffer.from('${hex(key16)}', 'hex');
      const iv16 = Buffer.from('${hex(iv16)}', 'hex'), iv12 = Buffer.from('${hex(iv12)}', 'hex');
      const cbc = crypto.createCipheriv('aes-256-cbc', k32, iv16);
      const cbcText = cbc.update(${JSON.stringify(text)}, 'utf8', 'base64') + cbc.final('base64');
      const gcm = crypto.createCipheriv('aes-128-gcm', k16, iv12);
      gcm.setAAD(Buffer.from('header'));
      const gcmText = Buffer.concat([gcm.update(${JSON.stringify(text)}), gcm.final()]).toString('hex');
      const tag = gcm.getAuthTag().toString('hex');
      const ctr = crypto.createCipheriv('aes-256-ctr', k32, iv16);
      const ctrText = ctr.update(${JSON.stringify(text)}, 'utf8', 'hex') + ctr.final('hex');
      const d = crypto.createDecipheriv('aes-128-gcm', k16, iv12);
      d.setAAD(Buffer.from('header')); d.setAuthTag(Buffer.from(tag, 'hex'));
      const back = d.update(gcmText, 'hex', 'utf8') + d.final('utf8');
      const bad = crypto.createDecipheriv('aes-128-gcm', k16, iv12);
      bad.setAuthTag(Buffer.alloc(16)); bad.update(gcmText, 'hex');
      let badError; try { bad.final(); } catch (e) { badError = e.message; }
      return { cbcText, gcmText, tag, ctrText, back, badError };
    `)) as Record<string, string>;
    const cbc = crypto.createCipheriv('aes-256-cbc', key32, iv16);
    assert.equal(got.cbcText, cbc.update(text, 'utf8', 'base64') + cbc.final('base64'));
    const gcm = crypto.createCipheriv('aes-128-gcm', key16, iv12);
    gcm.setAAD(Buffer.from('header'));
    assert.equal(got.gcmText, Buffer.concat([gcm.update(text), gcm.final()]).toString('hex'));
    assert.equal(got.tag, gcm.getAuthTag().toString('hex'));
    const ctr = crypto.createCipheriv('aes-256-ctr', key32, iv16);
    assert.equal(got.ctrText, ctr.update(text, 'utf8', 'hex') + ctr.final('hex'));
    assert.equal(got.back, text);
    assert.match(got.badError ?? '', /unable to authenticate/);
  });

  void it('derives keys with pbkdf2, scrypt and hkdf as Node does, sync and callback forms', async () => {
    const got = (await context().runAsync(`
      const crypto = require('crypto');
      const { promisify } = require('util');
      return {
        pbkdf2: crypto.pbkdf2Sync('password', 'salt', 2000, 32, 'sha512').toString('hex'),
        pbkdf2Cb: (await promisify(crypto.pbkdf2)('password', 'salt', 10, 16, 'sha1')).toString('hex'),
        scrypt: crypto.scryptSync('password', 'salt', 32, { N: 1024 }).toString('hex'),
        hkdf: Buffer.from(crypto.hkdfSync('sha256', 'key', 'salt', 'info', 24)).toString('hex'),
      };
    `)) as Record<string, string>;
    assert.equal(got.pbkdf2, hex(crypto.pbkdf2Sync('password', 'salt', 2000, 32, 'sha512')));
    assert.equal(got.pbkdf2Cb, hex(crypto.pbkdf2Sync('password', 'salt', 10, 16, 'sha1')));
    assert.equal(got.scrypt, hex(crypto.scryptSync('password', 'salt', 32, { N: 1024 })));
    assert.equal(got.hkdf, Buffer.from(crypto.hkdfSync('sha256', 'key', 'salt', 'info', 24)).toString('hex'));
  });

  void it('signs RS256 as a service-account JWT signer does, and Node verifies it (and the reverse)', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const nodeSignature = crypto.createSign('RSA-SHA256').update('from node').sign(privateKey, 'base64');
    const got = (await context().runAsync(`
      const crypto = require('crypto');
      const signer = crypto.createSign('RSA-SHA256');
      signer.update('header.'); signer.update('payload');
      return {
        signature: signer.sign(${JSON.stringify(privateKey)}, 'base64'),
        verified: crypto.createVerify('RSA-SHA256').update('from node').verify(${JSON.stringify(publicKey)}, ${JSON.stringify(nodeSignature)}, 'base64'),
        tampered: crypto.verify('sha256', Buffer.from('other'), ${JSON.stringify(publicKey)}, Buffer.from(${JSON.stringify(nodeSignature)}, 'base64')),
      };
    `)) as { signature: string; verified: boolean; tampered: boolean };
    assert.equal(crypto.createVerify('RSA-SHA256').update('header.payload').verify(publicKey, got.signature, 'base64'), true);
    assert.equal(got.verified, true);
    assert.equal(got.tampered, false);
  });

  void it('refuses a PBKDF2 call whose work passes the cap before doing it, with a clear error', async () => {
    const got = await context().runAsync(`
      try { require('crypto').pbkdf2Sync('p', 's', 50000000, 64, 'sha512'); return 'ran'; } catch (e) { return e.code + ': ' + e.message; }
    `);
    assert.match(String(got), /^ERR_OUT_OF_RANGE: pbkdf2 with 50000000 iterations .* more work than the sandbox allows/);
  });
});

void describe('zlib built-in (host calls to Node zlib)', () => {
  void it('produces exactly Node bytes for gzip, deflate, deflateRaw and brotli, and inflates what Node compressed', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    const nodeGzip = zlib.gzipSync(text).toString('base64');
    const got = (await context().runAsync(`
      const zlib = require('zlib');
      const { promisify } = require('util');
      const text = ${JSON.stringify(text)};
      return {
        gzip: zlib.gzipSync(text).toString('base64'),
        deflate: zlib.deflateSync(text, { level: 9 }).toString('base64'),
        raw: zlib.deflateRawSync(Buffer.from(text)).toString('base64'),
        br: zlib.brotliCompressSync(text).toString('base64'),
        gunzip: zlib.gunzipSync(Buffer.from(${JSON.stringify(nodeGzip)}, 'base64')).toString(),
        unzip: (await promisify(zlib.unzip)(Buffer.from(${JSON.stringify(nodeGzip)}, 'base64'))).toString().length,
        crc: zlib.crc32('hello'),
        level: zlib.constants.Z_BEST_COMPRESSION,
      };
    `)) as Record<string, string | number>;
    assert.equal(got.gzip, zlib.gzipSync(text).toString('base64'));
    assert.equal(got.deflate, zlib.deflateSync(text, { level: 9 }).toString('base64'));
    assert.equal(got.raw, zlib.deflateRawSync(Buffer.from(text)).toString('base64'));
    assert.equal(got.br, zlib.brotliCompressSync(text).toString('base64'));
    assert.equal(got.gunzip, text);
    assert.equal(got.unzip, text.length);
    assert.equal(got.crc, zlib.crc32('hello'));
    assert.equal(got.level, zlib.constants.Z_BEST_COMPRESSION);
  });

  void it('stream forms pipe through Node streams: createGzip then createGunzip gives the input back', async () => {
    const got = await context().runAsync(`
      const zlib = require('zlib');
      const { Readable, Writable, pipeline } = require('stream');
      const chunks = [];
      await new Promise((resolve, reject) => pipeline(
        Readable.from(['a', 'b'.repeat(1000), 'c']),
        zlib.createGzip(),
        zlib.createGunzip(),
        new Writable({ write(chunk, enc, done) { chunks.push(chunk); done(); } }),
        (e) => (e ? reject(e) : resolve()),
      ));
      return Buffer.concat(chunks).toString();
    `);
    assert.equal(got, `a${'b'.repeat(1000)}c`);
  });

  void it('a compression bomb stops at the output ceiling with ERR_BUFFER_TOO_LARGE, and bad data fails as in Node', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64');
    const got = (await context({ maxOutputBytes: 8 * 1024 * 1024 }).runAsync(`
      const zlib = require('zlib');
      const out = {};
      try { zlib.gunzipSync(Buffer.from(${JSON.stringify(bomb)}, 'base64')); out.bomb = 'inflated'; } catch (e) { out.bomb = e.code + ' ' + e.name; }
      try { zlib.inflateSync(Buffer.from('not deflate')); } catch (e) { out.bad = e.code; }
      return out;
    `)) as Record<string, string>;
    assert.equal(got.bomb, 'ERR_BUFFER_TOO_LARGE RangeError');
    assert.equal(got.bad, 'Z_DATA_ERROR');
  });
});

void describe('http and https built-ins (over the egress fetch)', () => {
  void it('https.get and http.request as real actions write them: status, headers, body, POST body, auth, redirects left to the caller', async () => {
    seen.length = 0;
    const got = (await context().runAsync(`
      const https = require('https');
      const http = require('http');
      const read = (res) => new Promise((resolve) => { let b = ''; res.setEncoding('utf8'); res.on('data', (c) => (b += c)); res.on('end', () => resolve(b)); });
      const get = await new Promise((resolve, reject) => https.get('https://secure.example.com/echo?x=1', { agent: new https.Agent({ keepAlive: true }) }, async (res) => resolve({ status: res.statusCode, cookies: res.headers['set-cookie'], type: res.headers['content-type'], body: JSON.parse(await read(res)) })).on('error', reject));
      const post = await new Promise((resolve, reject) => {
        const req = http.request({ hostname: 'api.example.com', path: '/items', method: 'POST', auth: 'user:pw', headers: { 'Content-Type': 'application/json' } }, async (res) => resolve({ status: res.statusCode, body: JSON.parse(await read(res)) }));
        req.on('error', reject);
        req.write(JSON.stringify({ a: 1 }));
        req.end();
      });
      const redirect = await new Promise((resolve, reject) => http.get('http://api.example.com/redirect', (res) => { res.resume(); resolve({ status: res.statusCode, location: res.headers.location }); }).on('error', reject));
      const gz = await new Promise((resolve, reject) => http.get('http://api.example.com/gzip', async (res) => resolve(await read(res))).on('error', reject));
      return { get, post, redirect, gz, codes: http.STATUS_CODES[404], methods: http.METHODS.includes('PATCH') };
    `)) as Record<string, unknown>;
    assert.deepEqual(got.get, { status: 200, cookies: ['a=1', 'b=2'], type: 'application/json', body: { method: 'GET', url: '/echo?x=1', body: '', auth: null } });
    assert.deepEqual(got.post, { status: 200, body: { method: 'POST', url: '/items', body: '{"a":1}', auth: `Basic ${Buffer.from('user:pw').toString('base64')}` } });
    assert.deepEqual(got.redirect, { status: 302, location: '/echo?from=redirect' });
    assert.equal(got.gz, 'compressed body');
    assert.equal(got.codes, 'Not Found');
    assert.equal(got.methods, true);
    assert.equal(seen.find((r) => r.url === '/items')?.headers['content-type'], 'application/json');
  });

  void it('a request egress refuses emits error with the egress code, as a socket error would', async () => {
    const got = await context().runAsync(`
      return await new Promise((resolve) => require('http').get('http://169.254.169.254/latest/meta-data/', () => resolve('answered')).on('error', (e) => resolve(e.code + ': ' + e.message)));
    `);
    assert.match(String(got), /^EGRESS_BLOCKED: .*169\.254\.169\.254/);
  });

  void it('the request seed library (2.88, as the runtime ships it) works unchanged over it: GET JSON, POST form, errors', async () => {
    const ctx = context();
    ctx.run(PROCESS_STANDIN);
    seen.length = 0;
    const got = (await ctx.runAsync(`
      const request = require('request');
      const call = (options) => new Promise((resolve) => request(options, (error, response, body) => resolve(error ? { error: error.code } : { status: response.statusCode, body })));
      return {
        json: await call({ url: 'https://secure.example.com/things?q=1', json: true }),
        form: await call({ url: 'http://api.example.com/form', method: 'POST', form: { name: 'Ada Lovelace', n: 2 } }),
        missing: await call({ url: 'http://api.example.com/missing', json: true }),
        refused: await call({ url: 'http://10.1.2.3/' }),
      };
    `)) as Record<string, { status?: number; body?: unknown; error?: string }>;
    assert.deepEqual(got.json, { status: 200, body: { method: 'GET', url: '/things?q=1', body: '', auth: null } });
    assert.equal(got.form?.status, 200);
    assert.equal((JSON.parse(String(got.form?.body)) as { body: string }).body, 'name=Ada%20Lovelace&n=2');
    assert.equal(got.missing?.status, 404);
    assert.deepEqual(got.refused, { error: 'EGRESS_BLOCKED' });
    assert.equal(seen.find((r) => r.url === '/form')?.headers['content-type'], 'application/x-www-form-urlencoded');
  });
});

void describe('aws-sdk v2 over the http built-in', () => {
  void it('S3 putObject and listObjectsV2 against a local server (the aws-sdk seed library as the runtime ships it): SigV4-signed requests, XML parsed', async () => {
    const ctx = context();
    ctx.run(PROCESS_STANDIN);
    seen.length = 0;
    const got = (await ctx.runAsync(`
      // aws-sdk's process-credentials provider requires child_process at load: the load-only built-in.
      const S3 = require('aws-sdk').S3;
      const s3 = new S3({ endpoint: 'http://api.example.com', s3ForcePathStyle: true, region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sslEnabled: false });
      await s3.putObject({ Bucket: 'reports-bucket', Key: 'hello.txt', Body: 'hello from the sandbox' }).promise();
      const listed = await s3.listObjectsV2({ Bucket: 'reports-bucket' }).promise();
      return { keys: listed.Contents.map((c) => c.Key + ':' + c.Size), count: listed.KeyCount };
    `)) as { keys: string[]; count: number };
    assert.deepEqual(got, { keys: ['2026/report.csv:42'], count: 1 });
    const put = seen.find((r) => r.method === 'PUT');
    assert.equal(put?.url, '/reports-bucket/hello.txt');
    assert.equal(put?.body, 'hello from the sandbox');
    assert.match(String(put?.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request/);
  });
});

void describe('dns built-in (under the egress policy)', () => {
  void it('lookup and resolve answer public names and refuse private or metadata answers; MX and TXT pass', async () => {
    const got = (await context().runAsync(`
      const dns = require('dns');
      const attempt = (p) => p.then((v) => v, (e) => e.code);
      return {
        lookup: await attempt(dns.promises.lookup('public.example.com')),
        all: await attempt(dns.promises.lookup('public.example.com', { all: true })),
        cb: await new Promise((resolve) => dns.lookup('public.example.com', (e, address, family) => resolve([e, address, family]))),
        internal: await attempt(dns.promises.lookup('internal.example.com')),
        metadata: await attempt(require('dns/promises').resolve4('metadata.example.com')),
        missing: await attempt(dns.promises.lookup('nope.example.com')),
        mx: await attempt(dns.promises.resolveMx('example.com')),
        txt: await new Promise((resolve) => dns.resolveTxt('example.com', (e, records) => resolve(records))),
        mapped: await attempt(dns.promises.lookup('api.example.com')),
      };
    `)) as Record<string, unknown>;
    assert.deepEqual(got.lookup, { address: '93.184.215.14', family: 4 });
    assert.deepEqual(got.all, [{ address: '93.184.215.14', family: 4 }]);
    assert.deepEqual(got.cb, [null, '93.184.215.14', 4]);
    assert.equal(got.internal, 'EGRESS_BLOCKED');
    assert.equal(got.metadata, 'EGRESS_BLOCKED');
    assert.equal(got.missing, 'ENOTFOUND');
    assert.deepEqual(got.mx, [{ exchange: 'mx.example.com', priority: 10 }]);
    assert.deepEqual(got.txt, [['v=spf1 -all']]);
    assert.deepEqual(got.mapped, { address: '127.0.0.1', family: 4 }, 'a mapped name answers with its backend (exempt, as for HTTP)');
  });
});

void describe('fs built-in (in-memory /tmp)', () => {
  void it('writes, reads, appends, lists, stats, renames and removes under /tmp, sync, callback and promise forms', async () => {
    const got = (await context().runAsync(`
      const fs = require('fs');
      const fsp = require('fs/promises');
      fs.mkdirSync('/tmp/a/b', { recursive: true });
      fs.writeFileSync('/tmp/a/b/x.json', JSON.stringify({ n: 1 }));
      fs.appendFileSync('/tmp/a/b/x.json', '\\n');
      await fsp.writeFile('/tmp/a/y.txt', Buffer.from('bytes'));
      const cb = await new Promise((resolve) => fs.readFile('/tmp/a/y.txt', 'utf8', (e, text) => resolve(text)));
      fs.renameSync('/tmp/a/y.txt', '/tmp/a/z.txt');
      const list = fs.readdirSync('/tmp/a');
      const types = fs.readdirSync('/tmp/a', { withFileTypes: true }).map((d) => d.name + ':' + d.isDirectory());
      const size = fs.statSync('/tmp/a/b/x.json').size;
      const stream = await new Promise((resolve) => { let s = ''; fs.createReadStream('/tmp/a/z.txt', 'utf8').on('data', (c) => (s += c)).on('end', () => resolve(s)); });
      await new Promise((resolve) => { const w = fs.createWriteStream('/tmp/w.txt'); w.write('one,'); w.end('two', resolve); });
      fs.unlinkSync('/tmp/a/z.txt');
      const gone = fs.existsSync('/tmp/a/z.txt');
      fs.rmSync('/tmp/a', { recursive: true });
      const relative = (fs.writeFileSync('rel.txt', 'r'), fs.readFileSync('/tmp/rel.txt', 'utf8'));
      return { text: fs.readFileSync('/tmp/w.txt', 'utf8'), cb, list, types, size, stream, gone, after: fs.readdirSync('/tmp'), relative };
    `)) as Record<string, unknown>;
    assert.deepEqual(got, { text: 'one,two', cb: 'bytes', list: ['b', 'z.txt'], types: ['b:true', 'z.txt:false'], size: 8, stream: 'bytes', gone: false, after: ['rel.txt', 'w.txt'], relative: 'r' });
  });

  void it('refuses paths outside /tmp with EACCES naming the rule, and writes past the cap with ENOSPC', async () => {
    const got = (await context().runAsync(`
      const fs = require('fs');
      const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code + ': ' + e.message; } };
      return {
        etc: attempt(() => fs.readFileSync('/etc/passwd')),
        escape: attempt(() => fs.writeFileSync('/tmp/../etc/x', 'x')),
        url: attempt(() => fs.readFileSync(new URL('file:///proc/self/environ'))),
        big: attempt(() => { for (let i = 0; i < 40; i++) fs.writeFileSync('/tmp/f' + i, Buffer.alloc(1024 * 1024)); }),
        promise: await require('fs/promises').readFile('/root/.ssh/id_rsa').then(() => 'ok', (e) => e.code),
      };
    `)) as Record<string, string>;
    assert.match(got.etc ?? '', /^EACCES: .*'\/etc\/passwd' \(actions may only use files under \/tmp/);
    assert.match(got.escape ?? '', /^EACCES/);
    assert.match(got.url ?? '', /^EACCES/);
    assert.match(got.big ?? '', /^ENOSPC: .*32 MiB/);
    assert.equal(got.promise, 'EACCES');
  });
});

void describe('stream, string_decoder, path, os, assert, timers', () => {
  void it('behave as Node: pipeline with Transform, StringDecoder on split UTF-8, posix paths, fixed os values, AssertionError, timers/promises', async () => {
    const cases = ['/a/b/../c', 'a//b/', '/x/y.tar.gz', '', '.', '../..', '/foo/bar/', 'file.txt'];
    const euro = Buffer.from('€');
    const got = (await context().runAsync(`
      const { Transform, Readable, pipeline } = require('stream');
      const { pipeline: pipelineP } = require('stream/promises');
      const upper = new Transform({ transform(chunk, enc, done) { done(null, String(chunk).toUpperCase()); } });
      let out = '';
      await pipelineP(Readable.from(['ab', 'cd']), upper, async function* (source) { for await (const c of source) out += c; });
      const { StringDecoder } = require('string_decoder');
      const d = new StringDecoder('utf8');
      const decoded = d.write(Buffer.from([${euro[0]}])) + '|' + d.write(Buffer.from([${euro[1]}, ${euro[2]}])) + d.end();
      const path = require('path');
      const cases = ${JSON.stringify(cases)};
      const paths = cases.map((c) => [path.normalize(c), path.dirname(c), path.basename(c), path.extname(c), path.join('/base', c), path.relative('/a/b', path.resolve('/a', c))]);
      const os = require('os');
      const assert = require('assert');
      let assertion; try { assert.deepStrictEqual({ a: 1 }, { a: 2 }); } catch (e) { assertion = [e.name, e.code, e instanceof assert.AssertionError]; }
      let strictEqual; try { require('assert/strict').equal(1, '1'); } catch (e) { strictEqual = e.code; }
      const started = Date.now();
      const value = await require('timers/promises').setTimeout(20, 'later');
      return { out, decoded, paths, os: [os.platform(), os.hostname(), os.tmpdir(), os.EOL, os.cpus().length], assertion, strictEqual, value, waited: Date.now() - started >= 15 };
    `)) as Record<string, unknown>;
    const d = new StringDecoder('utf8');
    assert.equal(got.out, 'ABCD');
    assert.equal(got.decoded, `${d.write(euro.subarray(0, 1))}|${d.write(euro.subarray(1))}${d.end()}`);
    const p = path.posix;
    assert.deepEqual(
      got.paths,
      cases.map((c) => [p.normalize(c), p.dirname(c), p.basename(c), p.extname(c), p.join('/base', c), p.relative('/a/b', p.resolve('/a', c))]),
    );
    assert.deepEqual(got.os, ['linux', 'sandbox', '/tmp', '\n', 1]);
    assert.deepEqual(got.assertion, ['AssertionError', 'ERR_ASSERTION', true]);
    assert.equal(got.strictEqual, 'ERR_ASSERTION');
    assert.equal(got.value, 'later');
    assert.equal(got.waited, true);
  });
});
