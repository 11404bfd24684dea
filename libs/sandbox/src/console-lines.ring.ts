/**
 * The console lines of a worker's running execution, in memory its host can read at any time.
 *
 * A worker's lines must reach the host even when its code never yields again after logging
 * (`console.log('x'); for (;;) {}`) and the host ends it at its time or memory limit: a timer
 * in the worker never fires then, and a message per line costs a few microseconds on both
 * threads for every line of every execution, when the host needs them only for the few
 * executions it ends itself. So the worker writes each line, as the collector keeps it
 * (redacted and cut), into a `SharedArrayBuffer` the host made for that worker alone, and
 * publishes it with one atomic store of the written length; the host reads what was published
 * when it decides a result itself. Nothing is read back by the worker: a worker that scribbles
 * over its ring only garbles its own execution's logs.
 *
 * Layout: a header of four 32-bit integers (bytes written, lines dropped by the caps, lines
 * that did not fit here, unused), then records aligned on 8 bytes: the time (float64), the
 * message's length in UTF-16 code units (uint32), the level (uint32), then the message.
 */
import { Buffer } from 'node:buffer';
import type { ConsoleLevel, ConsoleLine } from './sandbox.types.ts';

/**
 * Bytes per worker: every line the caps let through (64 Ki characters of UTF-16, plus a
 * 16-byte header per line) with room to spare for the platform's own lines.
 */
export const CONSOLE_RING_BYTES = 256 * 1024;

const HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 16;
const WRITTEN = 0;
const DROPPED = 1;
const OVERFLOWED = 2;
const LEVELS: readonly ConsoleLevel[] = ['log', 'info', 'warn', 'error', 'debug'];
const MAX_COUNT = 0x7fffffff;

const align8 = (bytes: number): number => (bytes + 7) & ~7;

/** The worker's side: one execution's lines at a time. */
export class ConsoleLineRingWriter {
  readonly #header: Int32Array;
  readonly #floats: Float64Array;
  readonly #words: Uint32Array;
  readonly #bytes: Buffer;
  #written = HEADER_BYTES;
  /** A line did not fit: later ones are not written either, so that no line is kept out of order. */
  #full = false;

  constructor(ring: SharedArrayBuffer) {
    this.#header = new Int32Array(ring, 0, HEADER_BYTES / 4);
    this.#floats = new Float64Array(ring);
    this.#words = new Uint32Array(ring);
    this.#bytes = Buffer.from(ring);
  }

  /** Starts a new execution's lines (the host has emptied the ring already, see {@link clearConsoleLineRing}). */
  reset(): void {
    this.#written = HEADER_BYTES;
    this.#full = false;
    clearConsoleLineRing(this.#header.buffer as SharedArrayBuffer);
  }

  write(line: ConsoleLine): void {
    const start = this.#written;
    const end = align8(start + RECORD_HEADER_BYTES + line.message.length * 2);
    if (this.#full || end > this.#bytes.length) {
      this.#full = true;
      Atomics.store(this.#header, OVERFLOWED, Math.min(MAX_COUNT, Atomics.load(this.#header, OVERFLOWED) + 1));
      return;
    }
    this.#floats[start / 8] = line.at;
    this.#words[start / 4 + 2] = line.message.length;
    this.#words[start / 4 + 3] = Math.max(0, LEVELS.indexOf(line.level));
    this.#bytes.write(line.message, start + RECORD_HEADER_BYTES, 'utf16le');
    this.#written = end;
    // Publishes the record: the host reads up to what this store says, never past it.
    Atomics.store(this.#header, WRITTEN, end);
  }

  /** The count of lines the collector's caps dropped so far. */
  dropped(count: number): void {
    Atomics.store(this.#header, DROPPED, Math.min(MAX_COUNT, count));
  }
}

/**
 * Empties the ring. The host does it before it gives the worker an execution (the worker is
 * idle then and writes nothing), so that the lines of the previous execution, which may be
 * another tenant's, are never read as this one's, even if the worker dies before it starts.
 */
export function clearConsoleLineRing(ring: SharedArrayBuffer): void {
  const header = new Int32Array(ring, 0, HEADER_BYTES / 4);
  Atomics.store(header, DROPPED, 0);
  Atomics.store(header, OVERFLOWED, 0);
  Atomics.store(header, WRITTEN, HEADER_BYTES);
}

/** The host's side: what the worker's execution published so far. */
export function readConsoleLineRing(ring: SharedArrayBuffer): { lines: ConsoleLine[]; dropped: number } {
  const header = new Int32Array(ring, 0, HEADER_BYTES / 4);
  const floats = new Float64Array(ring);
  const words = new Uint32Array(ring);
  const bytes = Buffer.from(ring);
  const written = Math.min(Atomics.load(header, WRITTEN), bytes.length);
  const lines: ConsoleLine[] = [];
  for (let start = HEADER_BYTES; start + RECORD_HEADER_BYTES <= written;) {
    const length = words[start / 4 + 2] ?? 0;
    const end = align8(start + RECORD_HEADER_BYTES + length * 2);
    if (end > written) break;
    const level = LEVELS[words[start / 4 + 3] ?? 0] ?? 'log';
    const message = bytes.toString('utf16le', start + RECORD_HEADER_BYTES, start + RECORD_HEADER_BYTES + length * 2);
    lines.push({ level, message, at: floats[start / 8] ?? 0 });
    start = end;
  }
  return { lines, dropped: Atomics.load(header, DROPPED) + Atomics.load(header, OVERFLOWED) };
}
