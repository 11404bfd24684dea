/**
 * Stopping the gateway's server drains: it stops accepting at once, answers the requests it had
 * started (their connections then close), and cuts only what is still running at the drain
 * timeout. A request it started may have committed; its client must get the answer.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import { startGateway, type Gateway } from './gateway.ts';
import type { Route } from './router.ts';
import type { Tenants } from './tenants.ts';

interface Outcome {
  status?: number;
  connection?: string;
  body?: string;
  error?: string;
}

function send(url: string, path: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { method: 'POST', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: String(res.headers.connection), body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end('{}');
  });
}

/** A gateway whose `POST /slow` answers when `release` is called (or never). */
async function slowGateway(drainTimeoutMs: number): Promise<{ gateway: Gateway; started: Promise<void>; release: () => void }> {
  let release!: () => void;
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const gate = new Promise<void>((r) => (release = r));
  const routes: Route[] = [
    {
      method: 'POST',
      path: '/slow',
      auth: 'none',
      handle: async () => {
        markStarted();
        await gate;
        return { status: 202, body: { committed: true } };
      },
    },
  ];
  const gateway = await startGateway({ host: '127.0.0.1', port: 0, routes, tenants: {} as Tenants, logger: silentLogger, drainTimeoutMs });
  return { gateway, started, release };
}

describe('gateway stop', () => {
  it('stops accepting, answers the request in flight, then closes its connection', async () => {
    const { gateway, started, release } = await slowGateway(10_000);
    const inFlight = send(gateway.url, '/slow');
    await started;
    let closed = false;
    const closing = gateway.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(closed, false, 'close waits for the request in flight');
    assert.equal((await send(gateway.url, '/slow')).error, 'ECONNREFUSED', 'a new connection is refused');
    release();
    const answered = await inFlight;
    assert.deepEqual(answered, { status: 202, connection: 'close', body: JSON.stringify({ committed: true }, null, 2) });
    await closing;
    assert.equal(closed, true);
  });

  it('cuts a request still running at the drain timeout, and closes', async () => {
    const { gateway, started } = await slowGateway(300);
    const inFlight = send(gateway.url, '/slow');
    await started;
    const stoppingAt = Date.now();
    await gateway.close();
    const took = Date.now() - stoppingAt;
    assert.ok(took >= 250 && took < 5_000, `closed after the drain timeout (${took} ms)`);
    assert.ok((await inFlight).error, 'the request still running was cut');
  });
});
