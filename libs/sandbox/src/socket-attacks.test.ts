/**
 * Hostile code against the sandbox's sockets (`net`/`tls`), in the style of attacks.test.ts:
 * each test runs one technique against real local servers and checks that it got nothing
 * (no connection the policy forbids, no resource past its cap, no socket outliving its
 * execution), that the failure is clear, and that a well-behaved execution runs right after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { ExecutionRequest, ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest } from './testing/sandbox-test-kit.ts';
import { startEchoServer, startFloodServer, startTrickleServer, type SocketServer } from './testing/socket-servers.ts';

let sandbox: SandboxHandle;
let echo: SocketServer;
let forbidden: SocketServer;
let trickle: SocketServer;
let flood: SocketServer;

const LIMITS = { maxConnections: 10, maxOpen: 10, maxBytesIn: 2 * 1024 * 1024, maxBytesOut: 1024 * 1024, connectTimeoutMs: 5000, maxConnectionMs: 3000 };

before(async () => {
  [echo, forbidden, trickle, flood] = await Promise.all([startEchoServer(), startEchoServer(), startTrickleServer(), startFloodServer(64 * 1024 * 1024)]);
  sandbox = await createSandbox({
    poolSize: 1,
    egress: { allowHosts: [], mapHosts: {}, allowSockets: [`127.0.0.1:${echo.port}`, `127.0.0.1:${trickle.port}`, `127.0.0.1:${flood.port}`], socketLimits: LIMITS },
  });
});

after(async () => {
  await sandbox.close();
  await Promise.all([echo, forbidden, trickle, flood].map((s) => s.close()));
});

const attack = (code: string, overrides: Partial<ExecutionRequest> = {}): Promise<ExecutionResult> =>
  sandbox.execute(hubspotRequest(code, { limits: { timeoutMs: 5000, memoryMb: 64 }, ...overrides }));

async function assertHealthy(): Promise<void> {
  const closedBefore = echo.closed;
  const result = await attack(`exports.main = async () => {
    const socket = require('net').connect(${echo.port}, '127.0.0.1');
    socket.write('ok');
    const data = await new Promise((resolve, reject) => { socket.once('data', resolve); socket.once('error', reject); });
    socket.destroy();
    return { outputFields: { echoed: data.toString() } };
  }`);
  assert.equal(result.status, 'succeeded', `well-behaved execution after the attack: ${JSON.stringify(result.error)}`);
  assert.equal(result.outputFields.echoed, 'ok');
  // The server has seen this connection end before the next test counts its connections.
  await echo.waitForClosed(closedBefore + 1);
}

/** In-context: opens a socket and resolves with how it ended (`connected`, or the error code). */
const TRY = `
const attempt = (connect) => new Promise((resolve) => {
  let socket;
  try { socket = connect(); } catch (e) { resolve('throw:' + e.code); return; }
  socket.on('connect', () => { socket.destroy(); resolve('connected'); });
  socket.on('secureConnect', () => { socket.destroy(); resolve('connected'); });
  socket.on('error', (e) => resolve(e.code));
});
`;

describe('socket attacks', () => {
  it("nothing reachable from net, tls, a live socket, its data and a refused socket's error belongs to the host", async () => {
    const result = await attack(`
      const __OP = Object.prototype, __gp = Reflect.getPrototypeOf;
      function foreign(value) {
        if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
        let p = value;
        for (let i = 0; i < 64; i++) { let next; try { next = __gp(p); } catch { return false; } if (next === null) break; p = next; }
        return p !== value && p !== __OP;
      }
      const net = require('net'), tls = require('tls');
      exports.main = async () => {
        const live = net.connect(${echo.port}, '127.0.0.1');
        live.write('x');
        const data = await new Promise((resolve) => live.once('data', resolve));
        const refused = net.connect(1, '10.0.0.1');
        const error = await new Promise((resolve) => refused.once('error', resolve));
        const roots = [net, tls, live, data, refused, error, live.address(), new tls.TLSSocket()];
        const seen = new Set(); const queue = [...roots]; const found = [];
        while (queue.length && seen.size < 60000) {
          const v = queue.shift();
          if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
          seen.add(v);
          if (foreign(v)) { found.push(Object.prototype.toString.call(v)); continue; }
          let keys = [];
          try { keys = Reflect.ownKeys(v); } catch {}
          for (const k of keys) {
            let d; try { d = Reflect.getOwnPropertyDescriptor(v, k); } catch { continue; }
            if (!d) continue;
            if ('value' in d) queue.push(d.value); else { queue.push(d.get, d.set); try { queue.push(v[k]); } catch {} }
          }
          try { queue.push(Reflect.getPrototypeOf(v)); } catch {}
        }
        live.destroy();
        return { outputFields: { escaped: found.length > 0, seen: seen.size, got: found.slice(0, 5).join(), code: error.code } };
      };`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(result.outputFields.escaped, false, String(result.outputFields.got));
    assert.equal(result.outputFields.code, 'EGRESS_BLOCKED');
    assert.ok(Number(result.outputFields.seen) > 500, String(result.outputFields.seen));
    await assertHealthy();
  });

  it('sockets to loopback, private and metadata addresses without the allow-list are refused, and nothing reaches them', async () => {
    const port = forbidden.port;
    const targets = ['127.0.0.1', 'localhost', '127.1', '2130706433', '0.0.0.0', '::1', '::ffff:127.0.0.1', '169.254.169.254', 'fd00:ec2::254', '10.0.0.1', '192.168.1.1', '172.16.0.1', '100.64.0.1'];
    // Refused connections count against the connection cap (10) too: two executions.
    const got: string[] = [];
    for (const [batch, extra] of [
      [targets.slice(0, 8), false],
      [targets.slice(8), true],
    ] as const) {
      const result = await attack(
        `${TRY}
        const net = require('net'), tls = require('tls');
        exports.main = async () => {
          const got = [];
          for (const host of ${JSON.stringify(batch)}) got.push(host + '=' + await attempt(() => net.connect(host === '169.254.169.254' || host === 'fd00:ec2::254' ? 80 : ${port}, host)));
          if (${String(extra)}) {
            got.push('tls=' + await attempt(() => tls.connect({ host: '127.0.0.1', port: ${port}, rejectUnauthorized: false })));
            // An allow-listed host on another port is not allowed either.
            got.push('otherPort=' + await attempt(() => net.connect({ host: '127.0.0.1', port: ${port} })));
          }
          return { outputFields: { got: got.join() } };
        };`,
        { limits: { timeoutMs: 10_000, memoryMb: 64 } },
      );
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
      got.push(...String(result.outputFields.got).split(','));
    }
    assert.equal(got.length, targets.length + 2);
    for (const entry of got) assert.match(entry, /=EGRESS_BLOCKED$/, got.join());
    assert.equal(forbidden.accepted, 0, 'the forbidden server was never reached');
    await assertHealthy();
  });

  it('slow-loris: a server that trickles bytes cannot hold a socket past the connection time cap', async () => {
    const closedBefore = trickle.closed;
    const result = await attack(`exports.main = async () => {
      const socket = require('net').connect(${trickle.port}, '127.0.0.1');
      let bytes = 0;
      socket.on('data', (d) => { bytes += d.length; });
      const error = await new Promise((resolve) => socket.on('error', resolve));
      return { outputFields: { code: error.code, trickled: bytes > 0 } };
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { code: 'EGRESS_TIMEOUT', trickled: true });
    await trickle.waitForClosed(closedBefore + 1);
    await assertHealthy();
  });

  it('a connection flood stops at the per-execution connection cap', async () => {
    const acceptedBefore = echo.accepted;
    const closedBefore = echo.closed;
    const result = await attack(`${TRY}
      const net = require('net');
      exports.main = async () => {
        const outcomes = await Promise.all(Array.from({ length: 200 }, () => attempt(() => net.connect(${echo.port}, '127.0.0.1'))));
        const counts = {};
        for (const o of outcomes) counts[o] = (counts[o] || 0) + 1;
        return { outputFields: { counts: JSON.stringify(counts) } };
      };`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    const counts = JSON.parse(String(result.outputFields.counts)) as Record<string, number>;
    assert.equal(counts.connected, LIMITS.maxConnections, JSON.stringify(counts));
    assert.equal(counts.EGRESS_LIMIT, 200 - LIMITS.maxConnections, JSON.stringify(counts));
    await echo.waitForClosed(closedBefore + LIMITS.maxConnections);
    assert.equal(echo.accepted - acceptedBefore, LIMITS.maxConnections);
    await assertHealthy();
  });

  it('a socket left open when the action returns is closed by the sandbox; the server sees the close', async () => {
    const closedBefore = echo.closed;
    const result = await attack(`exports.main = async () => {
      const sockets = [1, 2, 3].map(() => require('net').connect(${echo.port}, '127.0.0.1'));
      await Promise.all(sockets.map((s) => new Promise((resolve) => s.once('connect', resolve))));
      return { outputFields: { left: 'open' } };
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    await echo.waitForClosed(closedBefore + 3);
    await assertHealthy();
  });

  it('a socket held by an execution that times out is closed with its worker; the server sees the close', async () => {
    const closedBefore = echo.closed;
    const acceptedBefore = echo.accepted;
    const result = await attack(
      `exports.main = async () => {
        const socket = require('net').connect(${echo.port}, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        for (;;) {}
      }`,
      { limits: { timeoutMs: 1000, memoryMb: 64 } },
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'TIMEOUT');
    assert.equal(echo.accepted, acceptedBefore + 1);
    await echo.waitForClosed(closedBefore + 1);
    await assertHealthy();
  });

  it('bytes received over the cap end the socket with EGRESS_LIMIT', async () => {
    const result = await attack(`exports.main = async () => {
      const socket = require('net').connect(${flood.port}, '127.0.0.1');
      let bytes = 0;
      socket.on('data', (d) => { bytes += d.length; });
      const error = await new Promise((resolve) => socket.on('error', resolve));
      return { outputFields: { code: error.code, withinCap: bytes <= ${LIMITS.maxBytesIn}, message: error.message } };
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(result.outputFields.code, 'EGRESS_LIMIT');
    assert.equal(result.outputFields.withinCap, true);
    assert.match(String(result.outputFields.message), /may receive 2097152 bytes/);
    await assertHealthy();
  });

  it('bytes received count against the execution memory: holding them past the limit fails with MEMORY_LIMIT; the socket closes with the worker', async () => {
    const closedBefore = flood.closed;
    const roomy = await createSandbox({
      poolSize: 1,
      egress: { allowHosts: [], mapHosts: {}, allowSockets: [`127.0.0.1:${flood.port}`], socketLimits: { maxBytesIn: 256 * 1024 * 1024 } },
    });
    try {
      const result = await roomy.execute(
        hubspotRequest(
          `exports.main = async () => {
            const socket = require('net').connect(${flood.port}, '127.0.0.1');
            const kept = [];
            socket.on('data', (d) => kept.push(d));
            await new Promise((resolve, reject) => { socket.on('end', resolve); socket.on('error', reject); });
            return { outputFields: { kept: kept.length } };
          }`,
          { limits: { timeoutMs: 20_000, memoryMb: 32 } },
        ),
      );
      assert.equal(result.status, 'failed', JSON.stringify(result.outputFields));
      assert.equal(result.error?.code, 'MEMORY_LIMIT', JSON.stringify(result.error));
      await flood.waitForClosed(closedBefore + 1);
    } finally {
      await roomy.close();
    }
  });
});
