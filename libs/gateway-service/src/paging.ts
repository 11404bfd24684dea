/**
 * Cursor paging of list endpoints: `?limit=` (how many, within bounds) and `?cursor=` (the
 * previous page's `nextCursor`, opaque to callers); each page answers `nextCursor`, null on the
 * last one. A cursor names the last item of a page by its sort key, so items added or removed
 * meanwhile never make a page repeat or skip the ones that were there.
 */
import { ValidationError } from '@codestep/core';
import { queryInteger } from './request-input.parser.ts';

/**
 * `?limit=` of the list endpoints that page in the gateway. The default is the largest page, so
 * a client written before paging sees what it saw (and a `nextCursor` when there is more).
 */
export const PAGE_LIMIT = { min: 1, max: 1000, default: 1000 } as const;

/** An opaque cursor for the sort key of a page's last item. */
export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The sort key a `?cursor=` names; undefined when absent.
 * @throws ValidationError when it is not a cursor this API handed out.
 */
export function decodeCursor(query: URLSearchParams): Array<string | number> | undefined {
  const raw = query.get('cursor');
  if (raw === null || raw === '') return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length === 0 || !key.every((k) => typeof k === 'string' || typeof k === 'number')) {
    throw new ValidationError(`query parameter "cursor" is not a cursor of this list: send the nextCursor of the previous page as it was, or none for the first page`, { field: 'cursor' });
  }
  return key as Array<string | number>;
}

function compareKeys(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page of `items` in the order of `sortKey` (ascending; the key must be unique, an id last),
 * from the request's `?cursor=` and `?limit=`.
 * @throws ValidationError for a bad `limit` or `cursor`.
 */
export function pageOf<T>(
  items: readonly T[],
  sortKey: (item: T) => ReadonlyArray<string | number>,
  query: URLSearchParams,
  bounds: { min: number; max: number; default: number } = PAGE_LIMIT,
): Page<T> {
  const limit = queryInteger(query, 'limit', bounds);
  const after = decodeCursor(query);
  const sorted = items.map((item) => ({ item, key: sortKey(item) })).sort((a, b) => compareKeys(a.key, b.key));
  const rest = after ? sorted.filter((s) => compareKeys(s.key, after) > 0) : sorted;
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map((p) => p.item), nextCursor: rest.length > limit && last ? encodeCursor(last.key) : null };
}
