/**
 * HubDB v3 (`/cms/v3/hubdb/tables…`): tables with a draft and a published version. Reads of
 * `/rows` see the published rows, `/rows/draft` the draft; writes (`POST /rows`,
 * `PATCH /rows/{id}/draft`, `DELETE /rows/{id}/draft`) change the draft until
 * `POST /tables/{table}/draft/publish`. Row filters: `col=v`, `col__eq|ne|contains|gt|gte|lt|lte|in=v`,
 * `sort=col|-col`, `limit`, `after`.
 */
import { readObject, withAuth } from './api-auth.ts';
import { compareValues } from './crm.search.ts';
import { formatInstant } from './crm.properties.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { crmError, resourceNotFound, validationError, type FakeResponse } from './hubspot-errors.ts';

export interface HubDbRow {
  id: string;
  values: Record<string, unknown>;
  path: string | null;
  name: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface HubDbTable {
  id: string;
  portalId: number;
  name: string;
  label: string;
  columns: Array<{ id: string; name: string; label: string; type: string }>;
  draft: HubDbRow[];
  published: HubDbRow[];
  publishedAt: number | undefined;
  createdAt: number;
}

export interface HubDbTableInput {
  name: string;
  label?: string;
  columns?: Array<{ name: string; label?: string; type?: string }>;
  rows?: Array<Record<string, unknown>>;
}

export class HubDbStore {
  readonly #tables: HubDbTable[] = [];
  #nextTableId = 5_000_001;
  #nextRowId = 80_000_000_001;

  create(portalId: number, input: HubDbTableInput, now: number, publish: boolean): HubDbTable {
    const table: HubDbTable = {
      id: String(this.#nextTableId++),
      portalId,
      name: input.name,
      label: input.label ?? input.name,
      columns: (input.columns ?? []).map((c, i) => ({ id: String(i + 1), name: c.name, label: c.label ?? c.name, type: (c.type ?? 'TEXT').toUpperCase() })),
      draft: [],
      published: [],
      publishedAt: undefined,
      createdAt: now,
    };
    for (const values of input.rows ?? []) table.draft.push(this.row(values, now));
    this.#tables.push(table);
    if (publish) this.publish(table, now);
    return table;
  }

  row(values: Record<string, unknown>, now: number, id?: string): HubDbRow {
    return { id: id ?? String(this.#nextRowId++), values: { ...values }, path: null, name: null, createdAt: now, updatedAt: now };
  }

  publish(table: HubDbTable, now: number): void {
    table.published = table.draft.map((r) => ({ ...r, values: { ...r.values } }));
    table.publishedAt = now;
  }

  find(portalId: number, idOrName: string): HubDbTable | undefined {
    return this.#tables.find((t) => t.portalId === portalId && (t.id === idOrName || t.name === idOrName));
  }

  list(portalId: number): HubDbTable[] {
    return this.#tables.filter((t) => t.portalId === portalId);
  }

  clear(): void {
    this.#tables.length = 0;
  }
}

function tableToWire(t: HubDbTable): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    label: t.label,
    columns: t.columns,
    rowCount: (t.publishedAt === undefined ? t.draft : t.published).length,
    published: t.publishedAt !== undefined,
    ...(t.publishedAt !== undefined ? { publishedAt: formatInstant(t.publishedAt) } : {}),
    createdAt: formatInstant(t.createdAt),
    updatedAt: formatInstant(t.publishedAt ?? t.createdAt),
  };
}

export function rowToWire(r: HubDbRow): Record<string, unknown> {
  return { id: r.id, createdAt: formatInstant(r.createdAt), updatedAt: formatInstant(r.updatedAt), values: r.values, path: r.path, name: r.name, childTableId: '0' };
}

const RESERVED = new Set(['limit', 'after', 'sort', 'offset', 'properties', 'portalId', 'archived']);

function matches(row: HubDbRow, key: string, expected: string): boolean {
  const [column = '', op = 'eq'] = key.split('__');
  const raw = row.values[column];
  const actual = raw === undefined || raw === null ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw as string | number | boolean);
  switch (op) {
    case 'eq':
      return compareValues(actual, expected) === 0;
    case 'ne':
      return compareValues(actual, expected) !== 0;
    case 'contains':
      return actual.toLowerCase().includes(expected.toLowerCase());
    case 'gt':
      return compareValues(actual, expected) > 0;
    case 'gte':
      return compareValues(actual, expected) >= 0;
    case 'lt':
      return compareValues(actual, expected) < 0;
    case 'lte':
      return compareValues(actual, expected) <= 0;
    case 'in':
      return expected.split(',').some((v) => compareValues(actual, v) === 0);
    default:
      return false;
  }
}

function listRows(req: FakeRequest, rows: HubDbRow[]): FakeResponse {
  let hits = rows.filter((r) => [...req.query].every(([k, v]) => RESERVED.has(k) || matches(r, k, v)));
  const sort = req.query.get('sort');
  if (sort) {
    const column = sort.replace(/^-/, '');
    const sign = sort.startsWith('-') ? -1 : 1;
    hits = [...hits].sort((a, b) => sign * compareValues(String(a.values[column] ?? ''), String(b.values[column] ?? '')));
  }
  const limit = Math.min(Number(req.query.get('limit') ?? 1000) || 1000, 1000);
  const after = Number(req.query.get('after') ?? 0) || 0;
  const page = hits.slice(after, after + limit);
  const body: Record<string, unknown> = { total: hits.length, results: page.map(rowToWire), type: 'RANDOM_ACCESS' };
  if (after + limit < hits.length) body['paging'] = { next: { after: String(after + limit) } };
  return { status: 200, body };
}

export function handleHubDb(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'cms' || s[1] !== 'v3' || s[2] !== 'hubdb' || s[3] !== 'tables') return undefined;
  return withAuth(ctx, req, ['hubdb'], (token) => {
    const now = ctx.options.clock();
    if (s.length === 4) {
      if (req.method === 'GET') return { status: 200, body: { total: ctx.hubdb.list(token.portalId).length, results: ctx.hubdb.list(token.portalId).map(tableToWire) } };
      if (req.method !== 'POST') return crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` });
      const body = readObject(req);
      if (!body.ok) return body.response;
      if (typeof body.value['name'] !== 'string') return validationError(req.correlationId, 'Invalid input JSON: a table needs a name');
      return { status: 201, body: tableToWire(ctx.hubdb.create(token.portalId, body.value as unknown as HubDbTableInput, now, false)) };
    }
    const table = ctx.hubdb.find(token.portalId, s[4] ?? '');
    if (!table) return crmError(404, req.correlationId, { message: `Table ${s[4]} does not exist`, category: 'OBJECT_NOT_FOUND' });
    return tableRoute(ctx, req, table, s.slice(5), now);
  });
}

function tableRoute(ctx: FakeContext, req: FakeRequest, table: HubDbTable, rest: string[], now: number): FakeResponse {
  const path = `${req.method} ${rest.join('/')}`;
  if (path === 'GET ') return { status: 200, body: tableToWire(table) };
  if (path === 'POST draft/publish') {
    ctx.hubdb.publish(table, now);
    return { status: 200, body: tableToWire(table) };
  }
  if (path === 'GET rows') return listRows(req, table.published);
  if (path === 'GET rows/draft') return listRows(req, table.draft);
  if (path === 'POST rows' || path === 'POST rows/draft') {
    const body = readObject(req);
    if (!body.ok) return body.response;
    const row = ctx.hubdb.row((body.value['values'] as Record<string, unknown> | undefined) ?? {}, now);
    row.path = typeof body.value['path'] === 'string' ? body.value['path'] : null;
    row.name = typeof body.value['name'] === 'string' ? body.value['name'] : null;
    table.draft.push(row);
    return { status: 201, body: rowToWire(row) };
  }
  const draftRow = table.draft.find((r) => r.id === rest[1]);
  const publishedRow = table.published.find((r) => r.id === rest[1]);
  if (rest[0] !== 'rows' || rest.length < 2) return resourceNotFound(req.correlationId);
  if (path === `GET rows/${rest[1]}`) return publishedRow ? { status: 200, body: rowToWire(publishedRow) } : resourceNotFound(req.correlationId);
  if (!draftRow) return resourceNotFound(req.correlationId);
  if (path === `GET rows/${rest[1]}/draft`) return { status: 200, body: rowToWire(draftRow) };
  if (path === `PATCH rows/${rest[1]}/draft` || path === `PUT rows/${rest[1]}/draft`) {
    const body = readObject(req);
    if (!body.ok) return body.response;
    const values = (body.value['values'] as Record<string, unknown> | undefined) ?? {};
    draftRow.values = req.method === 'PUT' ? { ...values } : { ...draftRow.values, ...values };
    draftRow.updatedAt = now;
    return { status: 200, body: rowToWire(draftRow) };
  }
  if (path === `DELETE rows/${rest[1]}/draft`) {
    table.draft.splice(table.draft.indexOf(draftRow), 1);
    return { status: 204 };
  }
  return crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` });
}
