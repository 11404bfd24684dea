/**
 * Sandbox sockets, host side: the policy (what may be dialled, and which address), the caps,
 * and closing, against real local TCP servers. `beforeConnect` throws for anything but
 * loopback, so no test can dial another address even if the policy failed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { defaultLookup } from './egress-fetch.ts';
import { createSocketEgress } from './egress-socket.ts';
import type { SocketEgressOptions, SocketLimits, SocketRequest } from './egress-socket.types.ts';
import type { EgressLookup } from './egress.types.ts';
import { compileSocketAllowList } from './socket-target.policy.ts';

interface Server {
  port: number;
  accepted: number;
  closed: number;
  server: net.Server;
}

function serve(onSocket: (socket: net.Socket) => void): Promise<Server> {
  const state: Server = { port: 0, accepted: 0, closed: 0, server: net.createServer() };
  state.server.on('connection', (socket) => {
    state.accepted++;
    socket.on('error', () => {});
    socket.on('close', () => state.closed++);
    onSocket(socket);
  });
  return new Promise((resolve) => state.server.listen(0, '127.0.0.1', () => resolve(Object.assign(state, { port: (state.server.address() as net.AddressInfo).port }))));
}

let echo: Server;
let trickle: Server;
let flood: Server;

before(async () => {
  echo = await serve((socket) => socket.pipe(socket));
  trickle = await serve((socket) => {
    const timer = setInterval(() => socket.write('.'), 10);
    socket.on('close', () => clearInterval(timer));
  });
  flood = await serve((socket) => {
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = () => {
      while (socket.write(chunk));
      socket.once('drain', pump);
    };
    pump();
  });
});

after(async () => {
  for (const s of [echo, trickle, flood]) s.server.close();
  await new Promise((r) => setImmediate(r));
});

const dialled: string[] = [];
/** Refuses to dial anything but loopback: the guarantee that no test reaches another address. */
const loopbackOnly: SocketEgressOptions['beforeConnect'] = ({ address }) => {
  dialled.push(address);
  if (address !== '127.0.0.1' && address !== '::1') throw new Error(`test guard: refused to dial ${address}`);
};

interface Outcome {
  events: string[];
  data: string;
  error: { code: string; message: string; systemCode: string | null } | null;
}

/** Opens one socket, writes `send` once connected, and resolves with everything it reported when it closes. */
function exchange(egress: ReturnType<typeof createSocketEgress>, request: SocketRequest, send?: string, after?: (outcome: Outcome) => boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { events: [], data: '', error: null };
    const socket = egress.open(request, {
      connect: () => {
        outcome.events.push('connect');
        if (send !== undefined) socket.write(Buffer.from(send));
      },
      secure: () => outcome.events.push('secure'),
      data: (chunk) => {
        outcome.data += chunk.toString('latin1');
        if (after?.(outcome) === true) socket.end();
      },
      end: () => outcome.events.push('end'),
      error: (code, message, systemCode) => {
        outcome.events.push('error');
        outcome.error = { code, message, systemCode };
      },
      close: () => {
        outcome.events.push('close');
        resolve(outcome);
      },
    });
  });
}

const egressWith = (allowSockets: string[], limits: Partial<SocketLimits> = {}, lookup?: EgressLookup) =>
  createSocketEgress({ allowSockets }, limits, { beforeConnect: loopbackOnly, ...(lookup ? { lookup } : {}) });

describe('socket egress policy', () => {
  it('an allow-listed host:port connects to the address it names and carries bytes both ways', async () => {
    const egress = egressWith([`127.0.0.1:${echo.port}`]);
    const outcome = await exchange(egress, { host: '127.0.0.1', port: echo.port }, 'ping', (o) => o.data === 'ping');
    assert.deepEqual(outcome.events, ['connect', 'end', 'close']);
    assert.equal(outcome.data, 'ping');
    assert.deepEqual({ ...egress.stats(), open: 0 }, { opened: 1, open: 0, bytesIn: 4, bytesOut: 4, blocked: 0 });
  });

  it('loopback, private and metadata addresses are refused without the allow-list, before any connection', async () => {
    const egress = egressWith([`127.0.0.1:${echo.port + 1}`], { maxConnections: 100 }, async (host) => (host === 'internal.test' ? [{ address: '127.0.0.1', family: 4 }] : defaultLookup(host)));
    const before = dialled.length;
    const targets = [
      '127.0.0.1',
      'localhost',
      '127.1',
      '2130706433',
      '0.0.0.0',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
      'internal.test',
      '169.254.169.254',
      'fd00:ec2::254',
      '10.0.0.1',
      '192.168.1.1',
      '100.64.0.1',
    ];
    for (const host of targets) {
      const outcome = await exchange(egress, { host, port: echo.port });
      assert.equal(outcome.error?.code, 'EGRESS_BLOCKED', `${host}: ${JSON.stringify(outcome)}`);
      assert.match(outcome.error?.message ?? '', /allowSockets/);
      assert.deepEqual(outcome.events, ['error', 'close']);
    }
    assert.equal(dialled.length, before, 'nothing was dialled');
    assert.equal(echo.accepted, 1, 'only the first test reached the server');
  });

  it('in a dry run no socket is opened, even to an allow-listed host:port', async () => {
    const egress = createSocketEgress({ allowSockets: [`127.0.0.1:${echo.port}`] }, {}, { beforeConnect: loopbackOnly, dryRun: true });
    const before = dialled.length;
    const outcome = await exchange(egress, { host: '127.0.0.1', port: echo.port }, 'ping');
    assert.equal(outcome.error?.code, 'EGRESS_BLOCKED');
    assert.match(outcome.error?.message ?? '', /dry run/);
    assert.deepEqual(outcome.events, ['error', 'close']);
    assert.equal(dialled.length, before, 'nothing was dialled');
  });

  it('allow-listing a host:port allows only that port; a name allowed through its address is dialled at the checked address', async () => {
    const lookup: EgressLookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const egress = egressWith([`db.test:${echo.port}`, `127.0.0.1:${trickle.port}`], {}, lookup);
    const otherPort = await exchange(egress, { host: 'db.test', port: trickle.port + 10_000 > 65535 ? 1 : trickle.port + 10_000 });
    assert.equal(otherPort.error?.code, 'EGRESS_BLOCKED');
    const byName = await exchange(egress, { host: 'db.test', port: echo.port }, 'x', () => true);
    assert.equal(byName.data, 'x');
    const byAddress = await exchange(egress, { host: 'cache.test', port: trickle.port }, undefined, () => true);
    assert.equal(byAddress.data.length > 0, true);
  });

  it('DNS is resolved once and the checked address is the one dialled (no rebinding); a name with any private address is refused', async () => {
    let lookups = 0;
    const rebinding: EgressLookup = async () => (lookups++ === 0 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const egress = egressWith([], {}, rebinding);
    const before = dialled.length;
    const outcome = await exchange(egress, { host: 'rebind.test', port: echo.port });
    assert.equal(lookups, 1);
    assert.deepEqual(dialled.slice(before), ['93.184.216.34'], 'the public answer that was checked, never the second one');
    assert.equal(outcome.error?.code, 'EGRESS_BLOCKED');
    assert.match(outcome.error?.message ?? '', /test guard/);
    const mixed = egressWith([], {}, async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    const mixedOutcome = await exchange(mixed, { host: 'mixed.test', port: echo.port });
    assert.equal(mixedOutcome.error?.code, 'EGRESS_BLOCKED');
    assert.match(mixedOutcome.error?.message ?? '', /resolves to 127\.0\.0\.1/);
  });

  it('bad allow-list entries and bad targets are refused with a clear message', async () => {
    assert.throws(() => compileSocketAllowList(['127.0.0.1']), /"127\.0\.0\.1" is not host:port/);
    assert.throws(() => compileSocketAllowList(['db:99999']), /is not host:port/);
    assert.deepEqual(compileSocketAllowList(['[::1]:27017', 'DB.Internal:3306', '127.1:6379']), [
      { host: '::1', port: 27017 },
      { host: 'db.internal', port: 3306 },
      { host: '127.0.0.1', port: 6379 },
    ]);
    const egress = egressWith([]);
    assert.equal((await exchange(egress, { host: 'a b', port: 1 })).error?.code, 'EGRESS_INVALID_REQUEST');
    assert.equal((await exchange(egress, { host: 'example.com', port: 70_000 })).error?.code, 'EGRESS_INVALID_REQUEST');
  });
});

describe('socket egress caps and closing', () => {
  it('connections over the count cap and over the open cap fail with EGRESS_LIMIT', async () => {
    const egress = egressWith([`127.0.0.1:${echo.port}`], { maxConnections: 3, maxOpen: 2 });
    const events = { connect: () => {}, secure: () => {}, data: () => {}, end: () => {}, error: () => {}, close: () => {} };
    egress.open({ host: '127.0.0.1', port: echo.port }, events);
    egress.open({ host: '127.0.0.1', port: echo.port }, events);
    const third = await exchange(egress, { host: '127.0.0.1', port: echo.port });
    assert.equal(third.error?.code, 'EGRESS_LIMIT');
    assert.match(third.error?.message ?? '', /open/);
    egress.closeAll();
    const again = egressWith([`127.0.0.1:${echo.port}`], { maxConnections: 2 });
    await exchange(again, { host: '127.0.0.1', port: echo.port }, 'a', () => true);
    await exchange(again, { host: '127.0.0.1', port: echo.port }, 'a', () => true);
    const over = await exchange(again, { host: '127.0.0.1', port: echo.port });
    assert.equal(over.error?.code, 'EGRESS_LIMIT');
    assert.match(over.error?.message ?? '', /already opened 2 sockets/);
  });

  it('bytes received over the cap end the socket with EGRESS_LIMIT; so do bytes sent', async () => {
    const egress = egressWith([`127.0.0.1:${flood.port}`, `127.0.0.1:${echo.port}`], { maxBytesIn: 1_000_000, maxBytesOut: 10 });
    const received = await exchange(egress, { host: '127.0.0.1', port: flood.port });
    assert.equal(received.error?.code, 'EGRESS_LIMIT');
    assert.ok(received.data.length <= 1_000_000, `${received.data.length} bytes delivered`);
    const sent = await exchange(egress, { host: '127.0.0.1', port: echo.port }, 'more than ten bytes');
    assert.equal(sent.error?.code, 'EGRESS_LIMIT');
    assert.match(sent.error?.message ?? '', /may send 10 bytes/);
  });

  it('a trickling server cannot hold a connection past maxConnectionMs; the server sees the close', async () => {
    const closedBefore = trickle.closed;
    const egress = egressWith([`127.0.0.1:${trickle.port}`], { maxConnectionMs: 500 });
    const outcome = await exchange(egress, { host: '127.0.0.1', port: trickle.port });
    assert.equal(outcome.error?.code, 'EGRESS_TIMEOUT');
    assert.ok(outcome.data.length > 0, 'bytes were trickling in');
    while (trickle.closed <= closedBefore) await new Promise((r) => setTimeout(r, 10));
  });

  it('closeAll destroys every socket (the server sees each close) and refuses new ones', async () => {
    const closedBefore = echo.closed;
    const egress = egressWith([`127.0.0.1:${echo.port}`]);
    const connected: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      connected.push(
        new Promise((resolve) => {
          egress.open({ host: '127.0.0.1', port: echo.port }, { connect: () => resolve(), secure: () => {}, data: () => {}, end: () => {}, error: () => {}, close: () => {} });
        }),
      );
    }
    await Promise.all(connected);
    egress.closeAll();
    while (echo.closed < closedBefore + 3) await new Promise((r) => setTimeout(r, 10));
    const late = await exchange(egress, { host: '127.0.0.1', port: echo.port });
    assert.equal(late.error?.code, 'EGRESS_ABORTED');
  });
});
