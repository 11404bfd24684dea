/**
 * Pages of an execution's console lines for the history reads. Whatever was stored (a document
 * written before the sandbox capped the platform's own lines held 150,000 of them), a read
 * answers with a bounded page, so no enrollment or execution is ever too large for a gRPC
 * message (8 MiB): the views say how many lines there are and where the page starts, and
 * `GetExecution` pages through the rest.
 */
import type { LogLineView } from '@codestep/history';

/** The bounds of the pages; bytes are UTF-8, as on the wire. */
export const CONSOLE_PAGE_LIMITS = {
  /** A stored line longer than this is cut when read (the sandbox cuts at 4 KiB already). */
  maxLineChars: 8 * 1024,
  /** Most lines of one `GetExecution` page (and its default). */
  pageLines: 1000,
  /** Most bytes of lines of one `GetExecution` page. */
  pageBytes: 1024 * 1024,
  /** Most lines of one execution in `GetEnrollment`: above a capped execution's 500 + 10 + 1. */
  enrollmentLinesPerExecution: 600,
  /** Most bytes of lines of one execution in `GetEnrollment`. */
  enrollmentBytesPerExecution: 256 * 1024,
  /** Most bytes of lines of all executions of one `GetEnrollment` together. */
  enrollmentBytes: 1024 * 1024,
} as const;

/** What a line costs on the wire beyond its message: level, time, field tags. */
const LINE_OVERHEAD_BYTES = 24;
const MAX_LEVEL_CHARS = 16;

export interface ConsoleLinesPage {
  lines: LogLineView[];
  /** Index of the page's first line among the stored ones. */
  offset: number;
  /** Lines stored for the execution. */
  total: number;
  /** Bytes the page's lines take. */
  bytes: number;
}

function readLine(line: LogLineView): LogLineView {
  const level = String(line.level).slice(0, MAX_LEVEL_CHARS);
  const message = String(line.message);
  if (message.length <= CONSOLE_PAGE_LIMITS.maxLineChars) return { level, message, at: line.at };
  return { level, message: `${message.slice(0, CONSOLE_PAGE_LIMITS.maxLineChars)}… [line truncated: ${message.length} characters]`, at: line.at };
}

/**
 * The lines of `stored` from `offset`, at most `maxLines` of them and `maxBytes` together. A
 * page with room for any line holds at least one (each is at most ~24 KiB), so paging always
 * makes progress.
 */
export function consoleLinesPage(stored: readonly LogLineView[] | undefined, offset: number, maxLines: number, maxBytes: number): ConsoleLinesPage {
  const all = stored ?? [];
  const start = Math.min(Math.max(0, Math.floor(offset) || 0), all.length);
  const lines: LogLineView[] = [];
  let bytes = 0;
  for (let i = start; i < all.length && lines.length < maxLines; i++) {
    const line = readLine(all[i]!);
    const size = Buffer.byteLength(line.message) + Buffer.byteLength(line.level) + LINE_OVERHEAD_BYTES;
    if (bytes + size > maxBytes) break;
    bytes += size;
    lines.push(line);
  }
  return { lines, offset: start, total: all.length, bytes };
}

/** The page size a `GetExecution` asks for: `limit` within 1..pageLines, 0 meaning the largest. */
export function pageLinesFor(limit: number): number {
  const n = Math.floor(Number(limit)) || 0;
  return n <= 0 ? CONSOLE_PAGE_LIMITS.pageLines : Math.min(n, CONSOLE_PAGE_LIMITS.pageLines);
}
