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

  it('charges SharedArrayBuffer slices and transfers without a length, even when the constructor is removed', () => {
    const { usedBytes, run } = contextWithMemory(1024 * 1024);
    run('globalThis.s = new SharedArrayBuffer(100); s.constructor = undefined; globalThis.a = new ArrayBuffer(50, { maxByteLength: 200 });');
    const before = usedBytes();
    run('s.slice(0); a.transfer(); new ArrayBuffer(30).transferToFixedLength();');
    assert.equal(usedBytes() - before, 100 + 200 + 30 + 30);
  });

  it('knows every method of the buffer and typed-array built-ins: each is charged or allocates nothing', () => {
    // A method a new V8 adds fails this test until it is classified (and charged if it allocates).
    const { run } = contextWithMemory(1024);
    const inventory = JSON.parse(
      run(`const TA = Object.getPrototypeOf(Uint8Array.prototype);
        const names = (o) => Reflect.ownKeys(o).filter((k) => typeof k === 'string' && typeof Object.getOwnPropertyDescriptor(o, k).value === 'function' && k !== 'constructor').sort();
        JSON.stringify({ ab: names(ArrayBuffer.prototype), sab: names(SharedArrayBuffer.prototype), ta: names(TA), statics: [...names(ArrayBuffer), ...names(SharedArrayBuffer), ...names(Object.getPrototypeOf(Uint8Array)), ...names(Uint8Array)] })`) as string,
    ) as Record<string, string[]>;
    const charged = ['slice', 'transfer', 'transferToFixedLength', 'map', 'filter', 'toReversed', 'toSorted', 'with'];
    // In place, views of the same buffer, or bounded by a maximum charged at construction.
    const allocatesNothing = ['resize', 'grow', 'at', 'copyWithin', 'entries', 'every', 'fill', 'find', 'findIndex', 'findLast', 'findLastIndex', 'forEach', 'includes', 'indexOf'];
    allocatesNothing.push('join', 'keys', 'lastIndexOf', 'reduce', 'reduceRight', 'reverse', 'set', 'some', 'sort', 'subarray', 'toLocaleString', 'toString', 'values');
    // Statics: `isView` reads; `from` and `of` construct through the (charged) constructor they are called on.
    const statics = ['isView', 'from', 'of'];
    const unknown = [...inventory.ab!, ...inventory.sab!, ...inventory.ta!].filter((name) => !charged.includes(name) && !allocatesNothing.includes(name));
    assert.deepEqual(unknown, []);
    assert.deepEqual(
      inventory.statics!.filter((name) => !statics.includes(name)),
      [],
    );
    const unwrapped =
      run(`[[ArrayBuffer.prototype, ['slice', 'transfer', 'transferToFixedLength']], [SharedArrayBuffer.prototype, ['slice']], [TA, ['slice', 'map', 'filter', 'toReversed', 'toSorted', 'with']]]
        .flatMap(([proto, names]) => names.filter((n) => Function.prototype.toString.call(proto[n]).includes('[native code]'))).join()`);
    assert.equal(unwrapped, '', 'every charged method is replaced');
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
