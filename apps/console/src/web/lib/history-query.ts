/**
 * The history list's requests: its filters (workflow, status, object id, a time range typed in
 * the browser's local time) as GET /v1/enrollments' query, and paging newest first by start time.
 * A page after the first asks for what started at or before the last row shown (startedBefore is
 * exclusive, so one millisecond later) and drops the rows of that same millisecond it already
 * showed: the order within a millisecond is the store's and stable, so nothing is skipped or shown
 * twice however many enrollments start in the same millisecond. Each page is a bounded read of
 * the index, so the 2,000th page costs what the first does.
 */
export interface HistoryFilters {
  workflowId: string;
  status: string;
  objectId: string;
  /** `datetime-local` values (the browser's time zone), '' for no bound. */
  since: string;
  until: string;
}

/** Where the next page starts: the start time of the last row shown, and the rows of that millisecond shown so far. */
export interface PageCursor {
  startedAtMs: number;
  seen: string[];
}

export interface ListedEnrollment {
  id: string;
  startedAt: string | null;
}

/** The API's cap on `limit`. */
const MAX_LIMIT = 5000;

/** A `datetime-local` value as an ISO 8601 time (UTC); undefined when blank or not a time. */
export function localToIso(local: string): string | undefined {
  if (!local.trim()) return undefined;
  const ms = new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** A time as a `datetime-local` value in the browser's time zone (minutes). */
export function isoToLocal(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The query of one page: the filters, and for a later page the cursor (never past the filter's own upper bound). */
export function listQuery(filters: HistoryFilters, pageSize: number, cursor?: PageCursor): URLSearchParams {
  const q = new URLSearchParams();
  if (filters.workflowId) q.set('workflowId', filters.workflowId);
  if (filters.status) q.set('status', filters.status);
  if (filters.objectId.trim()) q.set('objectId', filters.objectId.trim());
  const since = localToIso(filters.since);
  if (since) q.set('startedAfter', since);
  let until = localToIso(filters.until);
  if (cursor) {
    const bound = new Date(cursor.startedAtMs + 1).toISOString();
    if (!until || Date.parse(bound) < Date.parse(until)) until = bound;
  }
  if (until) q.set('startedBefore', until);
  q.set('limit', String(Math.min(MAX_LIMIT, pageSize + (cursor?.seen.length ?? 0))));
  return q;
}

/** The rows of an answer that are new (not of the cursor's millisecond already shown), and the cursor after them. */
export function takePage<T extends ListedEnrollment>(rows: T[], pageSize: number, cursor?: PageCursor): { rows: T[]; next: PageCursor | undefined } {
  const seen = new Set(cursor?.seen ?? []);
  const fresh = rows.filter((r) => !seen.has(r.id));
  const asked = pageSize + (cursor?.seen.length ?? 0);
  const last = fresh[fresh.length - 1];
  // Fewer rows than asked: the list has ended.
  if (rows.length < Math.min(asked, MAX_LIMIT) || !last?.startedAt) return { rows: fresh, next: undefined };
  const lastMs = Date.parse(last.startedAt);
  const sameMs = fresh.filter((r) => r.startedAt && Date.parse(r.startedAt) === lastMs).map((r) => r.id);
  return { rows: fresh, next: { startedAtMs: lastMs, seen: cursor && cursor.startedAtMs === lastMs ? [...cursor.seen, ...sameMs] : sameMs } };
}

/** A start time this many hours back, as a `datetime-local` value (the quick ranges "last hour", "last 24 hours"…). */
export function hoursAgo(hours: number, now = Date.now()): string {
  return isoToLocal(now - hours * 3600_000);
}
