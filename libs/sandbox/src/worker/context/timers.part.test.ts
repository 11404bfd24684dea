import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corePart } from './core.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { fakeHost, plain, runParts, settleTurn } from './part-test-kit.ts';
import { timersPart, type TimersPart } from './timers.part.ts';

function contextTimers(host = fakeHost()): TimersPart & { fired: unknown[] } {
  const { result } = runParts((bridge) => {
    const part = timersPart(corePart(bridge, intrinsicsPart()));
    const fired: unknown[] = [];
    return { globals: part.globals, fire: part.fire, fired };
  }, host.bridge);
  return result as TimersPart & { fired: unknown[] };
}

type Globals = Record<string, (...args: unknown[]) => unknown>;

describe('the timers part', () => {
  it('asks the host for a timer and runs the callback once with its arguments when it fires', () => {
    const host = fakeHost();
    const timers = contextTimers(host);
    const g = timers.globals as Globals;
    const handle = g.setTimeout!((a: unknown, b: unknown) => timers.fired.push([a, b]), 25, 'x', 2);
    assert.deepEqual(host.callsOf('timerSet'), [[1, 25, false]]);
    assert.equal(Number(handle), 1);
    timers.fire(1);
    timers.fire(1);
    assert.deepEqual(plain(timers.fired), [['x', 2]]);
  });

  it('keeps an interval until it is cleared, and tells the host', () => {
    const host = fakeHost();
    const timers = contextTimers(host);
    const g = timers.globals as Globals;
    const handle = g.setInterval!(() => timers.fired.push('tick'), 0);
    timers.fire(1);
    timers.fire(1);
    g.clearInterval!(handle);
    timers.fire(1);
    assert.deepEqual(plain(timers.fired), ['tick', 'tick']);
    assert.deepEqual(host.callsOf('timerSet'), [[1, 1, true]]);
    assert.deepEqual(host.callsOf('timerClear'), [[1]]);
  });

  it('uses -1 for setImmediate and accepts a handle, its number or its close()', () => {
    const host = fakeHost();
    const timers = contextTimers(host);
    const g = timers.globals as Globals;
    g.setImmediate!(() => {});
    const second = g.setTimeout!(() => {}, 5) as { close: () => unknown };
    g.clearTimeout!(1);
    second.close();
    assert.deepEqual(host.callsOf('timerSet'), [
      [1, -1, false],
      [2, 5, false],
    ]);
    assert.deepEqual(host.callsOf('timerClear'), [[1], [2]]);
  });

  it('throws TOO_MANY_TIMERS when the host refuses and refuses code strings', () => {
    const timers = contextTimers(fakeHost({ timerSet: () => false }));
    const g = timers.globals as Globals;
    assert.throws(
      () => g.setTimeout!(() => {}, 1),
      (error: { code?: string }) => error.code === 'TOO_MANY_TIMERS',
    );
    assert.throws(
      () => g.setTimeout!('alert(1)', 1),
      (error: { code?: string }) => error.code === 'ERR_INVALID_ARG_TYPE',
    );
  });

  it('reports an exception thrown by a timer callback as uncaught', () => {
    const host = fakeHost();
    const timers = contextTimers(host);
    (timers.globals as Globals).setTimeout!(() => {
      throw new Error('boom');
    }, 1);
    timers.fire(1);
    const [[kind, payload]] = host.callsOf('settle') as [[string, string]];
    assert.equal(kind, 'uncaught');
    assert.equal((JSON.parse(payload) as { where: string; message: string }).where, 'timer callback');
  });

  it('runs queueMicrotask callbacks as microtasks', async () => {
    const timers = contextTimers();
    (timers.globals as Globals).queueMicrotask!(() => timers.fired.push('micro'));
    assert.deepEqual(plain(timers.fired), []);
    await settleTurn();
    assert.deepEqual(plain(timers.fired), ['micro']);
  });
});
