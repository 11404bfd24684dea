/**
 * `POST /crm/v3/objects/{type}/search`, as a pure function over records. Semantics follow
 * HubSpot's search guide: filter groups are OR-ed, filters inside a group AND-ed; at most 5
 * groups, 6 filters per group and 18 in all; `limit` defaults to 10 and is capped at 200;
 * `after` is an offset; only the first sort applies. Where the guide is vague (token rules of
 * CONTAINS_TOKEN, how unset values sort) README.md says what the fake chose.
 */
import { parseDatetime } from './crm.properties.ts';
import type { StoredObject } from './crm.store.ts';
import type { ObjectTypeSpec } from './object-types.ts';

export const SEARCH_LIMITS = { groups: 5, filtersPerGroup: 6, filters: 18, defaultLimit: 10, maxLimit: 200 } as const;

const OPERATORS = ['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN'] as const;
export type FilterOperator = (typeof OPERATORS)[number];

export interface SearchFilter {
  propertyName: string;
  operator: FilterOperator;
  value?: string;
  highValue?: string;
  values?: string[];
}

export interface SearchRequest {
  filterGroups: SearchFilter[][];
  sort?: { propertyName: string; descending: boolean };
  query?: string;
  properties?: string[];
  limit: number;
  offset: number;
}

/** Thrown for a request HubSpot would answer with 400 VALIDATION_ERROR. */
export class SearchRequestError extends Error {
  override name = 'SearchRequestError';
}

function scalar(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new SearchRequestError(`Invalid input JSON: ${what} must be a string`);
}

function parseFilter(raw: unknown): SearchFilter {
  if (typeof raw !== 'object' || raw === null) throw new SearchRequestError('Invalid input JSON: a filter must be an object');
  const f = raw as Record<string, unknown>;
  const propertyName = scalar(f['propertyName'], 'propertyName');
  if (!propertyName) throw new SearchRequestError('Invalid input JSON: filter propertyName is required');
  const operator = (scalar(f['operator'], 'operator') ?? 'EQ').toUpperCase();
  if (!(OPERATORS as readonly string[]).includes(operator)) {
    throw new SearchRequestError(`Invalid input JSON: unknown filter operator ${operator}`);
  }
  const filter: SearchFilter = { propertyName, operator: operator as FilterOperator };
  const value = scalar(f['value'], 'value');
  const highValue = scalar(f['highValue'], 'highValue');
  if (value !== undefined) filter.value = value;
  if (highValue !== undefined) filter.highValue = highValue;
  if (Array.isArray(f['values'])) filter.values = f['values'].map((v) => scalar(v, 'values') ?? '');
  const needsValue = !['HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'IN', 'NOT_IN'].includes(filter.operator);
  if (needsValue && filter.value === undefined) {
    throw new SearchRequestError(`Invalid input JSON: filter on ${propertyName} with ${filter.operator} needs a value`);
  }
  if (filter.operator === 'BETWEEN' && filter.highValue === undefined) {
    throw new SearchRequestError(`Invalid input JSON: BETWEEN filter on ${propertyName} needs a highValue`);
  }
  if ((filter.operator === 'IN' || filter.operator === 'NOT_IN') && !filter.values) {
    throw new SearchRequestError(`Invalid input JSON: ${filter.operator} filter on ${propertyName} needs values`);
  }
  return filter;
}

function parseSort(raw: unknown): SearchRequest['sort'] {
  if (typeof raw === 'string') {
    const text = raw.trim();
    // The api-client types sorts as strings; integrators send a bare name, `-name`, or the object as JSON.
    if (text.startsWith('{')) {
      try {
        return parseSort(JSON.parse(text));
      } catch {
        throw new SearchRequestError(`Invalid input JSON: cannot read sort ${text}`);
      }
    }
    return text.startsWith('-') ? { propertyName: text.slice(1), descending: true } : { propertyName: text, descending: false };
  }
  if (typeof raw === 'object' && raw !== null) {
    const s = raw as Record<string, unknown>;
    const propertyName = scalar(s['propertyName'], 'sort propertyName');
    if (!propertyName) throw new SearchRequestError('Invalid input JSON: sort propertyName is required');
    const direction = (scalar(s['direction'], 'sort direction') ?? 'ASCENDING').toUpperCase();
    return { propertyName, descending: direction === 'DESCENDING' };
  }
  throw new SearchRequestError('Invalid input JSON: a sort must be a string or an object');
}

function integer(raw: unknown, what: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new SearchRequestError(`Invalid input JSON: ${what} must be a non-negative integer`);
  return n;
}

/** Validates a search body; throws {@link SearchRequestError} with HubSpot's kind of message. */
export function parseSearchRequest(body: unknown): SearchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SearchRequestError('Invalid input JSON: the search request must be an object');
  }
  const b = body as Record<string, unknown>;
  const rawGroups = b['filterGroups'] ?? [];
  if (!Array.isArray(rawGroups)) throw new SearchRequestError('Invalid input JSON: filterGroups must be an array');
  if (rawGroups.length > SEARCH_LIMITS.groups) {
    throw new SearchRequestError(`Too many filter groups (${rawGroups.length}); the limit is ${SEARCH_LIMITS.groups}.`);
  }
  const filterGroups = rawGroups.map((group: unknown) => {
    const filters = (group as { filters?: unknown } | null)?.filters ?? [];
    if (!Array.isArray(filters)) throw new SearchRequestError('Invalid input JSON: filters must be an array');
    if (filters.length > SEARCH_LIMITS.filtersPerGroup) {
      throw new SearchRequestError(`Too many filters in a group (${filters.length}); the limit is ${SEARCH_LIMITS.filtersPerGroup}.`);
    }
    return filters.map(parseFilter);
  });
  const total = filterGroups.reduce((n, g) => n + g.length, 0);
  if (total > SEARCH_LIMITS.filters) {
    throw new SearchRequestError(`Too many filters (${total}); the limit is ${SEARCH_LIMITS.filters}.`);
  }
  const request: SearchRequest = {
    filterGroups: filterGroups.filter((g) => g.length > 0),
    limit: Math.min(integer(b['limit'], 'limit') ?? SEARCH_LIMITS.defaultLimit, SEARCH_LIMITS.maxLimit),
    offset: integer(b['after'], 'after') ?? 0,
  };
  const sorts = b['sorts'];
  if (Array.isArray(sorts) && sorts.length > 0) request.sort = parseSort(sorts[0]);
  const query = scalar(b['query'], 'query');
  if (query !== undefined && query.trim() !== '') request.query = query.trim();
  const properties = b['properties'];
  if (Array.isArray(properties)) request.properties = properties.map((p) => scalar(p, 'properties') ?? '');
  else if (typeof properties === 'string') request.properties = properties.split(',');
  return request;
}

/** Orders two values: numerically when both are numbers, by time when both are datetimes, else as text, case-insensitively. */
export function compareValues(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const ta = parseDatetime(a);
  const tb = parseDatetime(b);
  if (ta !== undefined && tb !== undefined) return ta - tb;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== '');
}

/**
 * CONTAINS_TOKEN: the value's tokens appear in a row among the stored value's tokens
 * (`example.com` matches `ann@example.com`); a `*` wildcard matches any run of characters
 * against the whole value or any one token (`*@example.com`, `ann*`).
 */
export function containsToken(stored: string, wanted: string): boolean {
  const text = stored.toLowerCase();
  const needle = wanted.toLowerCase().trim();
  if (needle === '') return false;
  if (needle.includes('*')) {
    const pattern = new RegExp(
      `^${needle
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'u',
    );
    return pattern.test(text) || tokens(text).some((t) => pattern.test(t));
  }
  if (text === needle) return true;
  const hay = tokens(text);
  const want = tokens(needle);
  if (want.length === 0) return false;
  for (let i = 0; i + want.length <= hay.length; i++) {
    if (want.every((w, j) => hay[i + j] === w)) return true;
  }
  return false;
}

function matches(object: StoredObject, filter: SearchFilter): boolean {
  const stored = object.properties.get(filter.propertyName);
  const value = filter.value ?? '';
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return stored !== undefined;
    case 'NOT_HAS_PROPERTY':
      return stored === undefined;
    case 'NEQ':
      return stored === undefined || compareValues(stored, value) !== 0;
    case 'NOT_IN':
      return stored === undefined || !(filter.values ?? []).some((v) => compareValues(stored, v) === 0);
    case 'NOT_CONTAINS_TOKEN':
      return stored === undefined || !containsToken(stored, value);
    default:
      break;
  }
  if (stored === undefined) return false;
  switch (filter.operator) {
    case 'EQ':
      return compareValues(stored, value) === 0;
    case 'LT':
      return compareValues(stored, value) < 0;
    case 'LTE':
      return compareValues(stored, value) <= 0;
    case 'GT':
      return compareValues(stored, value) > 0;
    case 'GTE':
      return compareValues(stored, value) >= 0;
    case 'BETWEEN':
      return compareValues(stored, value) >= 0 && compareValues(stored, filter.highValue ?? '') <= 0;
    case 'IN':
      return (filter.values ?? []).some((v) => compareValues(stored, v) === 0);
    case 'CONTAINS_TOKEN':
      return containsToken(stored, value);
  }
}

/** Ids of the records of `toType` (`contact`, `companies`, `2-3456`) associated with a record. */
export type AssociatedIds = (object: StoredObject, toType: string) => string[];

/** A filter on `associations.{type}`: the value is an associated record's id. */
function matchesAssociation(ids: readonly string[], filter: SearchFilter): boolean {
  switch (filter.operator) {
    case 'EQ':
      return ids.includes(filter.value ?? '');
    case 'NEQ':
      return !ids.includes(filter.value ?? '');
    case 'IN':
      return (filter.values ?? []).some((v) => ids.includes(v));
    case 'NOT_IN':
      return !(filter.values ?? []).some((v) => ids.includes(v));
    case 'HAS_PROPERTY':
      return ids.length > 0;
    case 'NOT_HAS_PROPERTY':
      return ids.length === 0;
    default:
      return false;
  }
}

export interface SearchPage {
  total: number;
  results: StoredObject[];
  /** The `paging.next.after` value, present only when more results remain. */
  nextAfter?: string;
}

/** Runs a parsed search over live records (in id order). */
export function searchObjects(spec: ObjectTypeSpec, objects: readonly StoredObject[], request: SearchRequest, associated?: AssociatedIds): SearchPage {
  const test = (o: StoredObject, f: SearchFilter) => (f.propertyName.startsWith('associations.') && associated ? matchesAssociation(associated(o, f.propertyName.slice(13)), f) : matches(o, f));
  let hits = objects.filter((o) => request.filterGroups.length === 0 || request.filterGroups.some((group) => group.every((f) => test(o, f))));
  if (request.query !== undefined) {
    const q = request.query.toLowerCase();
    hits = hits.filter((o) => spec.queryProperties.some((p) => o.properties.get(p)?.toLowerCase().includes(q)));
  }
  const sort = request.sort;
  if (sort) {
    hits = [...hits].sort((x, y) => {
      const a = x.properties.get(sort.propertyName);
      const b = y.properties.get(sort.propertyName);
      // Unset values sort as the lowest; ties keep id order.
      const order = a === undefined ? (b === undefined ? 0 : -1) : b === undefined ? 1 : compareValues(a, b);
      const directed = sort.descending ? -order : order;
      return directed !== 0 ? directed : Number(x.id) - Number(y.id);
    });
  }
  const results = hits.slice(request.offset, request.offset + request.limit);
  const page: SearchPage = { total: hits.length, results };
  if (request.offset + request.limit < hits.length) page.nextAfter = String(request.offset + request.limit);
  return page;
}
