import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corePart } from './core.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { memoryMethodsPart } from './memory-methods.part.ts';
import { memoryPart } from './memory.part.ts';
import { fakeHost, runParts } from './part-test-kit.ts';

function contextWithMemory(limitBytes: number) {
  const host = fakeHost({}, { externalLimitBytes: limitBytes });
  const { result, fresh } = runParts((bridge) => {
    const core = corePart(bridge, intrinsicsPart());
    const memory = memoryPart(core);
    memoryMethodsPart(core, memory);
    return memory.usedBytes;
  }, host.bridge);
  return { host, usedBytes: result, run: fresh.run };
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code;

describe('the memory part', () => {
  it('charges array buffers and typed arrays against the budget', () => {
    const { usedBytes, run } = contextWithMemory(1024 * 1024);
    run('new ArrayBuffer(1000); new Float64Array(10); new Uint8Array([1, 2, 3]); new SharedArrayBuffer(24);');
    assert.equal(usedBytes(), 1000 + 80 + 3 + 24);
  });

  it('charges the built-in methods that allocate a new buffer (at least the bytes they hold)', () => {
    const { usedBytes, run } = contextWithMemory(1024 * 1024);
    run('globalThis.a = new Uint8Array(100);');
    const before = usedBytes();
    run('a.slice(); a.map((x) => x); a.toReversed();');
    assert.ok(usedBytes() - before >= 300, `charged ${usedBytes() - before}`);
    assert.equal(run("Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'slice').enumerable"), false);
  });

  it('does not charge a view of an existing buffer', () => {
    const { usedBytes, run } = contextWithMemory(1024 * 1024);
    run('const b = new ArrayBuffer(64); new Uint32Array(b); new DataView(b);');
    assert.equal(usedBytes(), 64);
  });

  it('tells the host and throws MEMORY_LIMIT past the budget', () => {
    const { host, run } = contextWithMemory(1000);
    assert.throws(
      () => run('new Uint8Array(600); new Uint8Array(600);'),
      (error) => codeOf(error) === 'MEMORY_LIMIT',
    );
    assert.equal(host.callsOf('memoryExceeded').length, 1);
  });

  it('removes WebAssembly and Atomics.waitAsync, and keeps constructors working', () => {
    const { run } = contextWithMemory(1024);
    assert.equal(run('typeof WebAssembly + typeof Atomics.waitAsync'), 'undefinedundefined');
    assert.equal(run('new Uint8Array(2).constructor === Uint8Array && new FinalizationRegistry(() => {}) instanceof FinalizationRegistry'), true);
  });
});
