/**
 * The router at the HTTP edge, over a real server: input it cannot parse (a request target that
 * is not a path, malformed percent-encoding, JSON nested deeper than anything can serialise) is
 * a 4xx with a catalogue code and a message, never a 500 or a crash, and the server keeps
 * answering.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRouter, type Route } from './router.ts';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

function send(port: number, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { authorization: 'Bearer good' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'] }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('router input parsing', () => {
  let server: Server;
  let port = 0;
  const seen: unknown[] = [];
  const routes: Route[] = [
    { method: 'GET', path: '/v1/things/:id', auth: 'tenant', handle: async (req) => ({ status: 200, body: { id: req.params.id } }) },
    // Like the webhook: serialises what it was sent.
    {
      method: 'POST',
      path: '/v1/things',
      auth: 'none',
      handle: async (req) => {
        seen.push(req.body);
        return { status: 200, body: { length: JSON.stringify(req.body).length } };
      },
    },
  ];

  before(async () => {
    const router = createRouter(routes, { authenticate: async (key) => (key === 'good' ? 'tenant-1' : undefined), maxBodyBytes: 1 << 20 });
    server = createServer((req, res) => void router(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers a path parameter with malformed percent-encoding with 400 naming the parameter', async () => {
    for (const id of ['%', '%E0%A4%A', '%zz', '%ED%A0%80']) {
      const res = await send(port, 'GET', `/v1/things/${id}`);
      assert.equal(res.status, 400, `${id}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error?.code, 'INVALID_ARGUMENT');
      assert.match(res.body.error?.message ?? '', /path parameter "id" is not valid percent-encoding/);
    }
    assert.deepEqual((await send(port, 'GET', '/v1/things/a%20b')).body, { id: 'a b' });
  });

  it('answers a request target that is not a path with 400 and keeps serving', async () => {
    for (const target of ['//[', '//evil.example/v1/things/1']) {
      const res = await send(port, 'GET', target);
      assert.ok(res.status === 400 || res.status === 404, `${target}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(res.body.error?.code === 'INVALID_ARGUMENT' || res.body.error?.code === 'NOT_FOUND');
    }
    assert.equal((await send(port, 'GET', '/v1/things/1')).status, 200);
  });

  it('refuses a body nested deeper than the limit with 400 INVALID_JSON before any handler sees it', async () => {
    seen.length = 0;
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const res = await send(port, 'POST', '/v1/things', deep);
    assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300));
    assert.equal(res.body.error?.code, 'INVALID_JSON');
    assert.match(res.body.error?.message ?? '', /nested 20000 levels deep; at most 128/);
    assert.deepEqual(seen, []);
    const ok = await send(port, 'POST', '/v1/things', '[[["brackets in strings do not count: [[[[{{{{"]]]');
    assert.equal(ok.status, 200);
  });

  it('answers invalid JSON with 400 INVALID_JSON and a message saying what to send', async () => {
    const res = await send(port, 'POST', '/v1/things', '{"a":');
    assert.equal(res.status, 400);
    assert.equal(res.body.error?.code, 'INVALID_JSON');
    assert.match(res.body.error?.message ?? '', /not valid JSON/);
  });
});
