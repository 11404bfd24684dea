import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consolePart } from './console.part.ts';
import { corePart } from './core.part.ts';
import { inspectPart } from './inspect.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { fakeHost, runParts } from './part-test-kit.ts';

type Console = Record<'log' | 'info' | 'warn' | 'error' | 'debug' | 'count' | 'time' | 'timeEnd', (...args: unknown[]) => unknown>;

function contextConsole(host = fakeHost()): { console: Console; run: (source: string) => unknown } {
  const { result, fresh } = runParts((bridge) => {
    const core = corePart(bridge, intrinsicsPart());
    return consolePart(core, inspectPart(core)).console;
  }, host.bridge);
  return { console: result as Console, run: fresh.run };
}

describe('the console part', () => {
  it('logs one formatted line per call, at the level of the method', () => {
    const host = fakeHost();
    const { console, run } = contextConsole(host);
    console.log('%s has %d items', 'cart', 3, { a: [1, 'x'] });
    console.warn('careful');
    console.error(run("new Map([['k', 1]])"));
    console.debug(null, undefined, -0, 10n);
    assert.deepEqual(host.callsOf('log'), [
      ['log', "cart has 3 items { a: [ 1, 'x' ] }"],
      ['warn', 'careful'],
      ['error', "Map(1) { 'k' => 1 }"],
      ['debug', 'null undefined -0 10n'],
    ]);
  });

  it('prints circular structures and deep objects without following them', () => {
    const host = fakeHost();
    const { console } = contextConsole(host);
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    console.log(loop, { a: { b: { c: { d: 1 } } } });
    assert.deepEqual(host.callsOf('log'), [['log', "{ name: 'loop', self: [Circular] } { a: { b: { c: [Object] } } }"]]);
  });

  it('cuts a line at 16 KiB', () => {
    const host = fakeHost();
    const { console } = contextConsole(host);
    console.log('x'.repeat(40_000), 'tail');
    const [[, text]] = host.callsOf('log') as [[string, string]];
    assert.equal(text.length, 16 * 1024);
  });

  it('counts per label and times with the host clock', () => {
    let now = 1_000;
    const host = fakeHost({ now: () => now });
    const { console } = contextConsole(host);
    console.count();
    console.count('a');
    console.count();
    console.time('t');
    now += 12.5;
    console.timeEnd('t');
    assert.deepEqual(host.callsOf('log'), [
      ['info', 'default: 1'],
      ['info', 'a: 1'],
      ['info', 'default: 2'],
      ['info', 't: 12.500ms'],
    ]);
  });

  it('swallows a host log function that throws', () => {
    const host = fakeHost({
      log: () => {
        throw new RangeError('host stack overflow');
      },
    });
    const { console } = contextConsole(host);
    assert.doesNotThrow(() => console.log('still fine'));
    assert.equal(host.callsOf('log').length, 1);
  });
});
