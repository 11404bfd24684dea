import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgePart, type BridgePart } from './bridge.part.ts';
import { corePart } from './core.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { memoryPart } from './memory.part.ts';
import { fakeHost, runParts, type FakeHost } from './part-test-kit.ts';
import { requirePart } from './require.part.ts';

function contextBridge(host: FakeHost): BridgePart {
  return runParts((bridge) => {
    const core = corePart(bridge, intrinsicsPart());
    return bridgePart(core, requirePart(core), memoryPart(core));
  }, host.bridge).result;
}

describe('the bridge part: sockets', () => {
  it('passes socket operations to the host as primitives and answers only true as accepted', () => {
    const host = fakeHost({ socket: (_id, op) => op === 'open' });
    const { prelude } = contextBridge(host);
    assert.equal(prelude.socket('open', 1, '{"host":"db","port":6379}'), true);
    assert.equal(prelude.socket('write', 1, 'aGk='), false);
    // Whatever the caller passes, only primitives cross: a non-number id becomes -1, a non-string arg ''.
    assert.equal(prelude.socket({ toString: () => 'end' }, { id: 1 }, { evil: true }), false);
    assert.deepEqual(host.callsOf('socket'), [
      [1, 'open', '{"host":"db","port":6379}'],
      [1, 'write', 'aGk='],
      [-1, 'end', ''],
    ]);
  });

  it('delivers socket events to the one handler set first; a throwing handler is reported as uncaught', () => {
    const host = fakeHost();
    const part = contextBridge(host);
    const seen: Array<[number, string]> = [];
    part.prelude.onSocketEvent((id: number, payload: string) => {
      if (payload === 'data\nboom') throw new Error('listener failed');
      seen.push([id, payload]);
    });
    part.prelude.onSocketEvent(() => seen.push([0, 'second handler']));
    part.socketEvent(3, 'connect\n{}');
    part.socketEvent(3, 'data\nboom');
    assert.deepEqual(seen, [[3, 'connect\n{}']]);
    const settled = host.callsOf('settle');
    assert.equal(settled.length, 1);
    assert.equal(settled[0]?.[0], 'uncaught');
    const described = JSON.parse(String(settled[0]?.[1])) as { message: string; where: string };
    assert.deepEqual([described.message, described.where], ['listener failed', 'socket event']);
  });

  it('drops socket events when no handler was set (no net module in this context)', () => {
    const host = fakeHost();
    const part = contextBridge(host);
    part.socketEvent(1, 'data\naGk=');
    assert.deepEqual(host.callsOf('settle'), []);
  });
});
