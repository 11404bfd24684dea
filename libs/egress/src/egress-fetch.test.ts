/**
 * The egress path end to end against local `node:http` servers. Every test passes a
 * `beforeConnect` guard that refuses anything but loopback, so a policy bug fails the test
 * instead of sending a packet to a private or public address.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { DRY_RUN_BODY_CHARS, DRY_RUN_MAX_ENTRIES, DryRunLedger } from './dry-run.ledger.ts';
import { createEgressFetch, type EgressOptions } from './egress-fetch.ts';
import type { EgressLimits, EgressLookup, EgressPolicy, EgressResponse } from './egress.types.ts';

interface Seen {
  path: string;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let other: http.Server;
let port = 0;
let otherPort = 0;
const seen: Seen[] = [];
const hanging: http.ServerResponse[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: req.url ?? '', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
    const to = url.searchParams.get('to');
    switch (url.pathname) {
      case '/redirect':
        res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to ?? '/ok' }).end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      case '/big':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(5000));
        return;
      case '/gzip':
        res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync('y'.repeat(5000)));
        return;
      case '/hang':
        hanging.push(res);
        return;
      case '/gzip-hang':
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.write(zlib.gzipSync('z'.repeat(100)).subarray(0, 10));
        hanging.push(res);
        return;
      default:
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
        res.end(JSON.stringify({ path: req.url, method: req.method }));
    }
  });
}

const loopbackOnly: EgressOptions['beforeConnect'] = ({ address }) => {
  if (address !== '127.0.0.1' && address !== '::1') throw new Error(`test guard: refusing to dial ${address}`);
};

function egress(policy: Partial<EgressPolicy> = {}, limits: Partial<EgressLimits> = {}, options: EgressOptions = {}) {
  return createEgressFetch({ allowHosts: [], mapHosts: {}, ...policy }, limits, { beforeConnect: loopbackOnly, ...options });
}

function failure(response: EgressResponse): { code: string; message: string } {
  assert.equal(response.ok, false, `expected a failure, got ${JSON.stringify(response).slice(0, 200)}`);
  return response.ok ? { code: '', message: '' } : response.error;
}

function success(response: EgressResponse) {
  assert.equal(response.ok, true, `expected success, got ${JSON.stringify(response)}`);
  if (!response.ok) throw new Error('unreachable');
  return { ...response, text: Buffer.from(response.bodyBase64, 'base64').toString() };
}

const resolveTo =
  (...addresses: string[]): EgressLookup =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

before(async () => {
  server = http.createServer(handler);
  other = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  otherPort = (other.address() as AddressInfo).port;
});

after(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  other.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => other.close(() => resolve()));
});

void describe('egress blocks non-public destinations through the real request path', () => {
  const blocked = (): string[] => [
    `http://127.0.0.1:${port}/`,
    `http://127.0.0.1.:${port}/`,
    `http://2130706433:${port}/`,
    `http://0x7f000001:${port}/`,
    `http://0x7F.0.0.1:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://017700000001:${port}/`,
    `http://127.1:${port}/`,
    `http://0x7f.1:${port}/`,
    `http://[::1]:${port}/`,
    `http://[0:0:0:0:0:0:0:1]:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`,
    `http://[0:0:0:0:0:ffff:127.0.0.1]:${port}/`,
    `http://[::127.0.0.1]:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://0:${port}/`,
    `http://[::]:${port}/`,
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/latest/meta-data/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
    'http://224.0.0.1/',
    'http://[ff02::1]/',
    'http://255.255.255.255/',
    'http://[64:ff9b::7f00:1]/',
    'http://[64:ff9b::a00:1]/',
    'http://[2002:7f00:1::]/',
    'https://127.0.0.1/',
    `http://localhost:${port}/`,
  ];

  void it('refuses every encoded spelling of loopback, private, link-local, ULA, multicast and mapped addresses', async () => {
    const fetch = egress({}, { maxRequests: 1000 });
    const cases = blocked();
    assert.ok(cases.length >= 30);
    const before = seen.length;
    for (const url of cases) {
      const err = failure(await fetch({ url }));
      assert.equal(err.code, 'EGRESS_BLOCKED', `${url}: ${err.message}`);
      assert.match(err.message, /blocked/);
      assert.match(err.message, /allowHosts/, 'the message tells what to do');
    }
    assert.equal(seen.length, before, 'the local server never saw a request');
    assert.equal(fetch.stats().blocked, cases.length);
  });

  void it('refuses schemes other than http and https', async () => {
    const fetch = egress();
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://example.com/', 'ws://example.com/']) {
      const err = failure(await fetch({ url }));
      assert.equal(err.code, 'EGRESS_BLOCKED');
      assert.match(err.message, /scheme is not allowed/);
    }
  });

  void it('refuses a DNS name that resolves to loopback', async () => {
    const fetch = egress({}, {}, { lookup: resolveTo('127.0.0.1') });
    const err = failure(await fetch({ url: `http://internal.example.com:${port}/` }));
    assert.equal(err.code, 'EGRESS_BLOCKED');
    assert.match(err.message, /internal\.example\.com.*resolves to 127\.0\.0\.1, a loopback address/);
  });

  void it('refuses a DNS name when any one of its addresses is private', async () => {
    const fetch = egress({}, {}, { lookup: resolveTo('93.184.216.34', '10.0.0.7') });
    const err = failure(await fetch({ url: 'http://mixed.example.com/' }));
    assert.equal(err.code, 'EGRESS_BLOCKED');
    assert.match(err.message, /10\.0\.0\.7, a private address/);
  });

  void it('refuses a DNS name that resolves to an IPv4-mapped IPv6 address', async () => {
    const fetch = egress({}, {}, { lookup: resolveTo('::ffff:169.254.169.254') });
    assert.equal(failure(await fetch({ url: 'http://metadata.example.com/' })).code, 'EGRESS_BLOCKED');
  });

  void it('connects to the address it checked and resolves only once (no DNS rebinding)', async () => {
    let lookups = 0;
    const rebinding: EgressLookup = async () => {
      lookups++;
      return lookups === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    };
    const dialled: string[] = [];
    const fetch = egress(
      {},
      {},
      {
        lookup: rebinding,
        beforeConnect: ({ address }) => {
          dialled.push(address);
          throw new Error('stop before leaving the machine');
        },
      },
    );
    const err = failure(await fetch({ url: 'http://rebind.example.com/' }));
    assert.equal(err.code, 'EGRESS_BLOCKED');
    assert.deepEqual(dialled, ['93.184.216.34']);
    assert.equal(lookups, 1);
  });

  void it('refuses a redirect from an allowed host to a private address', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] });
    const err = failure(await fetch({ url: `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}` }));
    assert.equal(err.code, 'EGRESS_BLOCKED');
    assert.match(err.message, /169\.254\.169\.254/);
    const err2 = failure(await fetch({ url: `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${otherPort}/ok`)}` }));
    assert.equal(err2.code, 'EGRESS_BLOCKED', 'another port on an allowed address is another host');
  });
});

void describe('egress allow-list and host mapping', () => {
  void it('reaches an allow-listed loopback server and returns status, headers and body', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] });
    const res = success(await fetch({ url: `http://127.0.0.1:${port}/hello?x=1`, headers: [['x-test', 'yes']] }));
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { path: '/hello?x=1', method: 'GET' });
    assert.deepEqual(
      res.headers.filter(([k]) => k === 'set-cookie'),
      [
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ],
    );
    assert.equal(seen.at(-1)?.headers['x-test'], 'yes');
    assert.equal(seen.at(-1)?.headers.host, `127.0.0.1:${port}`);
  });

  void it('accepts the request as JSON text, as it arrives from the bridge', async () => {
    const fetch = egress({ allowHosts: ['127.0.0.1'] });
    const res = success(
      await fetch(JSON.stringify({ url: `http://127.0.0.1:${port}/json`, method: 'post', headers: [['content-type', 'text/plain']], bodyBase64: Buffer.from('hi').toString('base64') })),
    );
    assert.equal(res.status, 200);
    assert.equal(seen.at(-1)?.method, 'POST');
    assert.equal(seen.at(-1)?.body, 'hi');
  });

  void it('allows a DNS name on the allow-list even though it resolves to loopback', async () => {
    const fetch = egress({ allowHosts: ['hubspot-fake'] }, {}, { lookup: resolveTo('127.0.0.1') });
    const res = success(await fetch({ url: `http://hubspot-fake:${port}/named` }));
    assert.equal(res.status, 200);
    assert.equal(seen.at(-1)?.headers.host, `hubspot-fake:${port}`);
  });

  void it('rewrites a mapped host to its target and keeps the original URL in the response', async () => {
    const fetch = egress({ mapHosts: { 'api.hubapi.com': `http://127.0.0.1:${port}/base` } });
    const res = success(await fetch({ url: 'https://api.hubapi.com/crm/v3/objects/contacts/1?properties=email' }));
    assert.equal(res.url, 'https://api.hubapi.com/crm/v3/objects/contacts/1?properties=email');
    assert.equal(seen.at(-1)?.path, '/base/crm/v3/objects/contacts/1?properties=email');
    assert.equal(seen.at(-1)?.headers.host, `127.0.0.1:${port}`);
  });

  void it('translates a redirect to the mapped backend back to the public name', async () => {
    const fetch = egress({ mapHosts: { 'api.hubapi.com': `http://127.0.0.1:${port}` } });
    const res = success(await fetch({ url: `https://api.hubapi.com/redirect?to=${encodeURIComponent(`http://127.0.0.1:${port}/after`)}` }));
    assert.equal(res.url, 'https://api.hubapi.com/after');
    assert.equal(res.redirected, true);
  });

  void it('rejects a malformed policy at creation', () => {
    assert.throws(() => createEgressFetch({ allowHosts: [], mapHosts: { 'a.com': 'not a url' } }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => createEgressFetch({ allowHosts: [], mapHosts: { 'a.com': 'ftp://x/' } }), { code: 'INVALID_ARGUMENT' });
  });
});

void describe('egress redirects', () => {
  void it('follows a redirect on the same host and reports the final URL', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] });
    const res = success(await fetch({ url: `http://127.0.0.1:${port}/redirect?to=/final` }));
    assert.equal(res.url, `http://127.0.0.1:${port}/final`);
    assert.equal(res.redirected, true);
  });

  void it('turns a POST into a GET without a body on 303', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] });
    success(
      await fetch({ url: `http://127.0.0.1:${port}/redirect?status=303&to=/landed`, method: 'POST', headers: [['content-type', 'text/plain']], bodyBase64: Buffer.from('x').toString('base64') }),
    );
    assert.equal(seen.at(-1)?.path, '/landed');
    assert.equal(seen.at(-1)?.method, 'GET');
    assert.equal(seen.at(-1)?.headers['content-type'], undefined);
  });

  void it('keeps the method and body on 307', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] });
    success(await fetch({ url: `http://127.0.0.1:${port}/redirect?status=307&to=/kept`, method: 'PUT', bodyBase64: Buffer.from('body').toString('base64') }));
    assert.equal(seen.at(-1)?.method, 'PUT');
    assert.equal(seen.at(-1)?.body, 'body');
  });

  void it('drops Authorization when a redirect changes origin', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`, `127.0.0.1:${otherPort}`] });
    success(await fetch({ url: `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${otherPort}/cross`)}`, headers: [['authorization', 'Bearer secret']] }));
    assert.equal(seen.at(-1)?.path, '/cross');
    assert.equal(seen.at(-1)?.headers.authorization, undefined);
  });

  void it('stops after five redirects with EGRESS_LIMIT', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] });
    const before = seen.length;
    const err = failure(await fetch({ url: `http://127.0.0.1:${port}/loop` }));
    assert.equal(err.code, 'EGRESS_LIMIT');
    assert.match(err.message, /Too many redirects/);
    assert.equal(seen.length - before, 6, 'the first request plus five hops');
  });

  void it('returns the redirect itself in manual mode and fails in error mode', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] });
    const res = success(await fetch({ url: `http://127.0.0.1:${port}/redirect?to=/x`, redirect: 'manual' }));
    assert.equal(res.status, 302);
    assert.equal(failure(await fetch({ url: `http://127.0.0.1:${port}/redirect?to=/x`, redirect: 'error' })).code, 'EGRESS_REDIRECT');
  });
});

void describe('egress caps per execution', () => {
  void it('refuses requests beyond the request count', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { maxRequests: 2 });
    success(await fetch({ url: `http://127.0.0.1:${port}/1` }));
    success(await fetch({ url: `http://127.0.0.1:${port}/2` }));
    const err = failure(await fetch({ url: `http://127.0.0.1:${port}/3` }));
    assert.equal(err.code, 'EGRESS_LIMIT');
    assert.match(err.message, /already made 2 HTTP requests \(limit 2\).*127\.0\.0\.1/);
  });

  void it('refuses a request beyond the concurrency cap while another is in flight', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { maxConcurrent: 1, timeoutMs: 60_000 });
    const waiting = hanging.length;
    const first = fetch({ url: `http://127.0.0.1:${port}/hang` });
    const err = failure(await fetch({ url: `http://127.0.0.1:${port}/second` }));
    assert.equal(err.code, 'EGRESS_LIMIT');
    assert.match(err.message, /concurrent/);
    while (hanging.length === waiting) await new Promise((r) => setTimeout(r, 5));
    hanging.pop()?.end('done');
    assert.equal(success(await first).text, 'done');
    success(await fetch({ url: `http://127.0.0.1:${port}/third` }));
  });

  void it('stops reading when the response bytes of the execution exceed the cap', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { maxResponseBytes: 8000 });
    assert.equal(success(await fetch({ url: `http://127.0.0.1:${port}/big` })).text.length, 5000);
    const err = failure(await fetch({ url: `http://127.0.0.1:${port}/big` }));
    assert.equal(err.code, 'EGRESS_LIMIT');
    assert.match(err.message, /too large/);
  });

  void it('decompresses gzip on the host and counts the decompressed bytes', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { maxResponseBytes: 6000 });
    const res = success(await fetch({ url: `http://127.0.0.1:${port}/gzip` }));
    assert.equal(res.text, 'y'.repeat(5000));
    assert.equal(
      res.headers.find(([k]) => k === 'content-encoding'),
      undefined,
    );
    assert.equal(failure(await fetch({ url: `http://127.0.0.1:${port}/gzip` })).code, 'EGRESS_LIMIT');
  });

  void it('times out a request that does not answer', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { timeoutMs: 100 });
    const err = failure(await fetch({ url: `http://127.0.0.1:${port}/hang` }));
    assert.equal(err.code, 'EGRESS_TIMEOUT');
    assert.match(err.message, /127\.0\.0\.1.*timed out after 100 ms/);
  });

  void it('times out a compressed body that stops half-way', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { timeoutMs: 100 });
    assert.equal(failure(await fetch({ url: `http://127.0.0.1:${port}/gzip-hang` })).code, 'EGRESS_TIMEOUT');
  });

  void it('aborts in-flight requests and refuses new ones when the execution ends', async () => {
    const controller = new AbortController();
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, {}, { signal: controller.signal });
    const waiting = hanging.length;
    const pending = fetch({ url: `http://127.0.0.1:${port}/hang` });
    while (hanging.length === waiting) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    assert.equal(failure(await pending).code, 'EGRESS_ABORTED');
    assert.equal(failure(await fetch({ url: `http://127.0.0.1:${port}/` })).code, 'EGRESS_ABORTED');
    assert.equal(fetch.stats().inFlight, 0);
  });

  void it('refuses a body on GET, a request body over the cap, forbidden methods and bad JSON', async () => {
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { maxRequestBodyBytes: 4 });
    const url = `http://127.0.0.1:${port}/`;
    assert.equal(failure(await fetch({ url, bodyBase64: Buffer.from('x').toString('base64') })).code, 'EGRESS_INVALID_REQUEST');
    assert.equal(failure(await fetch({ url, method: 'POST', bodyBase64: Buffer.from('12345').toString('base64') })).code, 'EGRESS_LIMIT');
    assert.equal(failure(await fetch({ url, method: 'TRACE' })).code, 'EGRESS_INVALID_REQUEST');
    assert.equal(failure(await fetch('{not json')).code, 'EGRESS_INVALID_REQUEST');
    assert.equal(failure(await fetch({ url: 'not a url' })).code, 'EGRESS_INVALID_REQUEST');
    assert.equal(failure(await fetch({ url, headers: [['x-bad', 'a\r\nb']] })).code, 'EGRESS_INVALID_REQUEST');
  });

  void it('fails with EGRESS_NETWORK when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const fetch = egress({ allowHosts: ['127.0.0.1'] });
    const err = failure(await fetch({ url: `http://127.0.0.1:${deadPort}/` }));
    assert.equal(err.code, 'EGRESS_NETWORK');
    assert.match(err.message, /ECONNREFUSED/);
  });
});

void describe('a dry run sends what reads and holds back what writes', () => {
  void it('GET and HEAD reach the server; POST, PUT, PATCH and DELETE do not, and are answered and recorded with credentials redacted', async () => {
    const ledger = new DryRunLedger((text) => text.replaceAll('s3cr3t-value', '[REDACTED]'));
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, {}, { dryRun: ledger });
    const before = seen.length;
    const read = success(await fetch({ url: `http://127.0.0.1:${port}/read?q=1`, headers: [['authorization', 'Bearer tok']] }));
    assert.equal(read.status, 200);
    assert.equal(JSON.parse(read.text).path, '/read?q=1');
    success(await fetch({ url: `http://127.0.0.1:${port}/head`, method: 'HEAD' }));
    assert.deepEqual(
      seen.slice(before).map((s) => `${s.method} ${s.path}`),
      ['GET /read?q=1', 'HEAD /head'],
    );
    const body = JSON.stringify({ properties: { email: 'a@b.c', note: 'uses s3cr3t-value' } });
    const written = success(
      await fetch({
        url: `http://127.0.0.1:${port}/crm/v3/objects/contacts?hapikey=abc123&limit=1`,
        method: 'post',
        headers: [
          ['Authorization', 'Bearer pat-123'],
          ['content-type', 'application/json'],
          ['X-Api-Key', 'k-1'],
          ['x-note', 'has s3cr3t-value inside'],
        ],
        bodyBase64: Buffer.from(body).toString('base64'),
      }),
    );
    for (const method of ['PUT', 'PATCH', 'DELETE']) success(await fetch({ url: `http://127.0.0.1:${port}/w`, method }));
    assert.equal(seen.length, before + 2, 'no write reached the server');
    assert.equal(written.status, 201);
    assert.deepEqual(
      written.headers.find(([k]) => k === 'x-codestep-dry-run'),
      ['x-codestep-dry-run', 'true'],
    );
    const answer = JSON.parse(written.text) as Record<string, unknown>;
    assert.equal(answer.dryRun, true);
    assert.equal(answer.id, 'dry-run-1');
    assert.equal(answer.method, 'POST');
    assert.deepEqual(
      ledger.entries.map((e) => e.method),
      ['POST', 'PUT', 'PATCH', 'DELETE'],
    );
    const post = ledger.entries[0]!;
    assert.equal(post.url, `http://127.0.0.1:${port}/crm/v3/objects/contacts?hapikey=%5BREDACTED%5D&limit=1`);
    assert.deepEqual(post.headers, [
      ['authorization', '[REDACTED]'],
      ['content-type', 'application/json'],
      ['x-api-key', '[REDACTED]'],
      ['x-note', 'has [REDACTED] inside'],
    ]);
    assert.equal(post.body, body.replace('s3cr3t-value', '[REDACTED]'));
    assert.equal(post.bodyBytes, Buffer.byteLength(body));
    assert.equal(post.status, 201);
    assert.deepEqual(
      ledger.entries.map((e) => e.status),
      [201, 200, 200, 204],
    );
    assert.equal(ledger.entries[3]!.body, '');
  });

  void it("sends HubSpot's searches and batch reads over POST, and holds back its other POSTs", async () => {
    const ledger = new DryRunLedger();
    const fetch = egress({ mapHosts: { 'api.hubapi.com': `http://127.0.0.1:${port}` } }, {}, { dryRun: ledger });
    const before = seen.length;
    for (const path of [
      '/crm/v3/objects/contacts/search',
      '/crm/v3/objects/deals/batch/read',
      '/crm/v4/associations/contacts/companies/batch/read',
      '/crm/v3/objects/contacts',
      '/crm/v3/objects/contacts/batch/create',
    ])
      success(await fetch({ url: `https://api.hubapi.com${path}`, method: 'POST', bodyBase64: Buffer.from('{}').toString('base64') }));
    assert.deepEqual(
      seen.slice(before).map((s) => s.path),
      ['/crm/v3/objects/contacts/search', '/crm/v3/objects/deals/batch/read', '/crm/v4/associations/contacts/companies/batch/read'],
    );
    assert.deepEqual(
      ledger.entries.map((e) => e.url),
      ['https://api.hubapi.com/crm/v3/objects/contacts', 'https://api.hubapi.com/crm/v3/objects/contacts/batch/create'],
    );
  });

  void it('a held-back write is still checked by the policy: a blocked address is refused, not recorded', async () => {
    const ledger = new DryRunLedger();
    const fetch = egress({}, {}, { dryRun: ledger });
    assert.equal(failure(await fetch({ url: `http://127.0.0.1:${port}/w`, method: 'POST' })).code, 'EGRESS_BLOCKED');
    assert.equal(ledger.entries.length, 0);
  });

  void it('keeps at most DRY_RUN_MAX_ENTRIES entries and cuts long bodies, still holding back every write', async () => {
    const ledger = new DryRunLedger();
    const fetch = egress({ allowHosts: [`127.0.0.1:${port}`] }, { maxRequests: DRY_RUN_MAX_ENTRIES + 5 }, { dryRun: ledger });
    const before = seen.length;
    const big = 'b'.repeat(DRY_RUN_BODY_CHARS + 10);
    for (let i = 0; i < DRY_RUN_MAX_ENTRIES + 3; i++) success(await fetch({ url: `http://127.0.0.1:${port}/w`, method: 'POST', bodyBase64: Buffer.from(big).toString('base64') }));
    assert.equal(seen.length, before);
    assert.equal(ledger.entries.length, DRY_RUN_MAX_ENTRIES);
    assert.equal(ledger.dropped, 3);
    assert.equal(ledger.entries[0]!.body.length, DRY_RUN_BODY_CHARS);
    assert.equal(ledger.entries[0]!.bodyBytes, big.length);
  });
});
