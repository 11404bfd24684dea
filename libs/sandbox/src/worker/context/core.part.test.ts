import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corePart } from './core.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { fakeHost, runParts } from './part-test-kit.ts';

describe('the core part', () => {
  it('returns only primitives from the host and swallows what a host function throws', () => {
    const host = fakeHost({
      randomBytes: () => ({ leaked: true }) as unknown as string,
      now: () => {
        throw new RangeError('host stack overflow');
      },
    });
    const { result: core } = runParts((bridge) => corePart(bridge, intrinsicsPart()), host.bridge);
    assert.equal(core.call('randomBytes', 4), undefined);
    assert.equal(core.call('now'), undefined);
    assert.equal(core.call('timerSet', 1, 5, false), true);
  });

  it('calls no host function once the execution has ended', () => {
    const host = fakeHost();
    const { result: core } = runParts((bridge) => corePart(bridge, intrinsicsPart()), host.bridge);
    core.end();
    core.call('log', 'log', 'late');
    core.settle('complete', {});
    assert.equal(core.isEnded(), true);
    assert.deepEqual(host.calls, []);
  });

  it('recognises its platform errors by identity, not by shape', () => {
    const { result: core, fresh } = runParts((bridge) => corePart(bridge, intrinsicsPart()), fakeHost().bridge);
    const platform = core.platformError(core.ErrorCtor, 'MEMORY_LIMIT', 'too much');
    const forged = fresh.run("Object.assign(new Error('too much'), { code: 'MEMORY_LIMIT' })");
    assert.equal(core.describeThrown(platform).code, 'MEMORY_LIMIT');
    assert.equal(core.describeThrown(forged).code, '');
    assert.equal(core.describeThrown(Symbol('s')).message, 'Symbol(s)');
  });
});
