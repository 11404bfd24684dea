/**
 * Collects one execution's console output with caps per line, in lines and in total
 * characters. Secrets are redacted before a line is cut, so a secret can never be half-shown
 * at a cut. Once a cap is hit, one marker line says how much was dropped. The platform's own
 * lines count in the same totals, with a small reserve past the caps ({@link SYSTEM_LOG_RESERVE}):
 * whatever the code does, nothing the platform writes for it is unbounded.
 *
 * A listener sees each line kept, and the count of lines dropped, as it happens: the worker
 * hands them to the host at once, so that an execution the host has to stop (time or memory
 * limit) before it yields again still shows what it logged.
 */
import type { ConsoleLevel, ConsoleLine } from './sandbox.types.ts';
import { DEFAULT_LOG_LIMITS, SYSTEM_LOG_RESERVE, type LogLimits } from './limits.ts';
import type { Redactor } from './redaction.ts';

const LEVELS: ReadonlySet<string> = new Set(['log', 'info', 'warn', 'error', 'debug']);
/** Text longer than this is cut before redaction: the line cap is far smaller anyway. */
const MAX_SCANNED_CHARS = 64 * 1024;

/** Told of each line as the collector keeps it, and of the count of lines dropped so far. */
export interface ConsoleLineListener {
  line(line: ConsoleLine): void;
  dropped(count: number): void;
}

/** The line that ends a capped execution's logs, saying how many lines were dropped. */
export function truncationMarker(dropped: number, at: number, limits: LogLimits = DEFAULT_LOG_LIMITS): ConsoleLine {
  return {
    level: 'warn',
    message: `[logs truncated: ${dropped} more line(s) dropped; limits are ${limits.maxLines} lines and ${limits.maxTotalChars} characters per execution]`,
    at,
  };
}

export class ConsoleLineCollector {
  readonly #limits: LogLimits;
  readonly #redact: Redactor;
  readonly #clock: () => number;
  readonly #listener: ConsoleLineListener | undefined;
  readonly #lines: ConsoleLine[] = [];
  #chars = 0;
  #dropped = 0;

  constructor(redact: Redactor, limits: LogLimits = DEFAULT_LOG_LIMITS, clock: () => number = Date.now, listener?: ConsoleLineListener) {
    this.#redact = redact;
    this.#limits = limits;
    this.#clock = clock;
    this.#listener = listener;
  }

  /** Adds a line from the code (level and text as they came over the bridge, untrusted). */
  add(level: string, message: string): void {
    if (this.#dropped > 0 || this.#lines.length >= this.#limits.maxLines) {
      this.#drop();
      return;
    }
    const safeLevel: ConsoleLevel = LEVELS.has(level) ? (level as ConsoleLevel) : 'log';
    this.#push(safeLevel, String(message), this.#limits.maxTotalChars);
  }

  /**
   * A line from the platform itself (a stack, warnings about the result): redacted and cut like
   * the code's, counted in the same totals, and kept while the totals are within the caps plus
   * {@link SYSTEM_LOG_RESERVE}; past that it is dropped and counted in the marker.
   */
  addSystem(level: ConsoleLevel, message: string): void {
    if (this.#lines.length >= this.#limits.maxLines + SYSTEM_LOG_RESERVE.lines) {
      this.#drop();
      return;
    }
    this.#push(level, message, this.#limits.maxTotalChars + SYSTEM_LOG_RESERVE.chars);
  }

  #push(level: ConsoleLevel, message: string, maxTotalChars: number): void {
    let text = message;
    const originalLength = text.length;
    if (text.length > MAX_SCANNED_CHARS) text = text.slice(0, MAX_SCANNED_CHARS);
    text = this.#redact(text);
    if (text.length > this.#limits.maxLineChars) {
      text = `${text.slice(0, this.#limits.maxLineChars)}… [line truncated: ${originalLength} characters]`;
    }
    if (this.#chars + text.length > maxTotalChars) {
      this.#drop();
      return;
    }
    this.#chars += text.length;
    this.#keep({ level, message: text, at: this.#clock() });
  }

  #keep(line: ConsoleLine): void {
    this.#lines.push(line);
    this.#listener?.line(line);
  }

  #drop(): void {
    this.#dropped++;
    this.#listener?.dropped(this.#dropped);
  }

  get truncated(): boolean {
    return this.#dropped > 0;
  }

  /** The lines so far, with a final marker when lines were dropped. */
  snapshot(): ConsoleLine[] {
    if (this.#dropped === 0) return [...this.#lines];
    return [...this.#lines, truncationMarker(this.#dropped, this.#clock(), this.#limits)];
  }
}
