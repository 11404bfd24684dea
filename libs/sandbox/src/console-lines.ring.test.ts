import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clearConsoleLineRing, CONSOLE_RING_BYTES, ConsoleLineRingWriter, readConsoleLineRing } from './console-lines.ring.ts';
import type { ConsoleLine } from './sandbox.types.ts';

describe('the console line ring', () => {
  it('gives the host back each line the worker wrote, with its level, its time and any text', () => {
    const ring = new SharedArrayBuffer(CONSOLE_RING_BYTES);
    const writer = new ConsoleLineRingWriter(ring);
    writer.reset();
    const lines: ConsoleLine[] = [
      { level: 'log', message: 'plain', at: 1_700_000_000_123.5 },
      { level: 'error', message: 'ünïcødé ✓ 😀 and a lone \ud800 surrogate', at: 2 },
      { level: 'debug', message: '', at: 3 },
      { level: 'warn', message: 'odd', at: 4 },
    ];
    for (const line of lines) writer.write(line);
    assert.deepEqual(readConsoleLineRing(ring), { lines, dropped: 0 });
  });

  it('reports the lines the caps dropped', () => {
    const ring = new SharedArrayBuffer(CONSOLE_RING_BYTES);
    const writer = new ConsoleLineRingWriter(ring);
    writer.reset();
    writer.write({ level: 'info', message: 'kept', at: 1 });
    writer.dropped(41);
    assert.deepEqual(readConsoleLineRing(ring), { lines: [{ level: 'info', message: 'kept', at: 1 }], dropped: 41 });
  });

  it('counts the lines that do not fit as dropped, and keeps none after them', () => {
    const ring = new SharedArrayBuffer(256);
    const writer = new ConsoleLineRingWriter(ring);
    writer.reset();
    writer.write({ level: 'log', message: 'first', at: 1 });
    writer.write({ level: 'log', message: 'x'.repeat(200), at: 2 });
    writer.write({ level: 'log', message: 'short', at: 3 });
    assert.deepEqual(readConsoleLineRing(ring), { lines: [{ level: 'log', message: 'first', at: 1 }], dropped: 2 });
  });

  it('forgets the previous execution once the host clears it', () => {
    const ring = new SharedArrayBuffer(CONSOLE_RING_BYTES);
    const writer = new ConsoleLineRingWriter(ring);
    writer.reset();
    writer.write({ level: 'log', message: "another tenant's line", at: 1 });
    writer.dropped(3);
    clearConsoleLineRing(ring);
    assert.deepEqual(readConsoleLineRing(ring), { lines: [], dropped: 0 });
    writer.reset();
    writer.write({ level: 'log', message: 'mine', at: 2 });
    assert.deepEqual(readConsoleLineRing(ring).lines, [{ level: 'log', message: 'mine', at: 2 }]);
  });

  it('holds every line the default caps let through', () => {
    const ring = new SharedArrayBuffer(CONSOLE_RING_BYTES);
    const writer = new ConsoleLineRingWriter(ring);
    writer.reset();
    // 500 lines, 64 Ki characters in all: the most the collector keeps of the code's own lines.
    for (let i = 0; i < 500; i++) writer.write({ level: 'log', message: 'y'.repeat(131), at: i });
    const read = readConsoleLineRing(ring);
    assert.equal(read.lines.length, 500);
    assert.equal(read.dropped, 0);
  });
});
