/**
 * The gateway serves the web console: index.html at `/` and at any path outside the API (a reload
 * at any console URL works), hashed assets with their content type, a year's caching and their
 * gzip twin, and nothing outside the console's directory; the API's paths stay the router's.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync, gunzipSync } from 'node:zlib';
import { silentLogger } from '@codestep/core';
import { startGateway, type Gateway } from './gateway.ts';
import type { Tenants } from './tenants.ts';

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request (the path is sent as written, not normalized as fetch would). */
function get(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const tenants = { authenticate: async () => undefined } as unknown as Tenants;

describe('the console served by the gateway', () => {
  let base: string;
  let dir: string;
  let gateway: Gateway;
  const js = 'export const hello = "console";\n'.repeat(40);
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'console-static-'));
    dir = join(base, 'console');
    await mkdir(join(dir, 'assets'), { recursive: true });
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'assets/main-ABC.js'), js);
    await writeFile(join(dir, 'assets/main-ABC.js.gz'), gzipSync(js));
    await writeFile(join(dir, 'assets/styles-X.css'), 'body{}');
    await writeFile(join(base, 'outside-console.txt'), 'secret');
    gateway = await startGateway({ host: '127.0.0.1', port: 0, routes: [], tenants, logger: silentLogger, consoleDir: dir });
  });
  after(async () => {
    await gateway.close();
    await rm(base, { recursive: true, force: true });
  });

  it('answers index.html, never cached, at / and at any console URL (a reload works)', async () => {
    for (const path of ['/', '/workflows', '/workflows/wf-1', '/history?workflowId=x&status=failed', '/enrollments/abc']) {
      const got = await get(gateway.url, path);
      assert.equal(got.status, 200, path);
      assert.equal(got.headers['content-type'], 'text/html; charset=utf-8', path);
      assert.equal(got.headers['cache-control'], 'no-cache', path);
      assert.match(got.body.toString(), /<title>console<\/title>/, path);
    }
  });

  it('serves hashed assets with their type and a year of caching, gzip to clients that accept it', async () => {
    const plain = await get(gateway.url, '/assets/main-ABC.js');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), js);
    const zipped = await get(gateway.url, '/assets/main-ABC.js', { 'accept-encoding': 'gzip, br' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.ok(zipped.body.length < js.length, 'the gzip twin is smaller');
    assert.equal(gunzipSync(zipped.body).toString(), js);
    const css = await get(gateway.url, '/assets/styles-X.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const head = await get(gateway.url, '/assets/styles-X.css', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '6');
  });

  it('answers 404 for a missing asset and for a path out of the directory, not index.html', async () => {
    assert.equal((await get(gateway.url, '/assets/missing-1.js')).status, 404);
    const escaped = await get(gateway.url, '/assets/..%2f..%2foutside-console.txt');
    assert.equal(escaped.status, 404);
    assert.doesNotMatch(escaped.body.toString(), /secret/);
  });

  it("leaves the API's paths to the router", async () => {
    const api = await get(gateway.url, '/v1/nothing-here');
    assert.equal(api.status, 404);
    assert.match(api.headers['content-type'] as string, /application\/json/);
    assert.match(api.body.toString(), /no route for \/v1\/nothing-here/);
    assert.equal((await get(gateway.url, '/healthz')).status, 200);
    assert.equal(JSON.parse((await get(gateway.url, '/openapi.json')).body.toString()).openapi, '3.1.0');
    const post = await get(gateway.url, '/workflows', {}, 'POST');
    assert.equal(post.status, 404, 'only GET and HEAD reach the console');
  });

  it('says how to build the console when its directory has none', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'console-empty-'));
    const bare = await startGateway({ host: '127.0.0.1', port: 0, routes: [], tenants, logger: silentLogger, consoleDir: empty });
    try {
      const got = await get(bare.url, '/');
      assert.equal(got.status, 503);
      assert.match(got.body.toString(), /build\.ts/);
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
