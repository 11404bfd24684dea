/**
 * `/crm/v3/objects/{type}[/{id}|/search]`: bearer auth, the secondly limit, scopes, then the
 * basic and search endpoints of HubSpot's CRM v3 objects API, in its wire format.
 */
import { allProperties, formatInstant, normalizeWrite, propertiesView, requestedProperties } from './crm.properties.ts';
import { parseSearchRequest, searchObjects, SearchRequestError } from './crm.search.ts';
import { toWire, type StoredObject } from './crm.store.ts';
import { isJson, type FakeContext, type FakeRequest } from './fake-context.ts';
import { locateJsonError } from './json-error.ts';
import { extrasFromBody, extrasFromQuery, readExtras } from './read-extras.ts';
import {
  contactExists,
  crmError,
  expiredAuthentication,
  invalidAuthentication,
  missingScopes,
  objectNotFound,
  propertyValuesNotValid,
  rateLimitHeaders,
  resourceNotFound,
  secondlyRateLimit,
  validationError,
  type FakeResponse,
} from './hubspot-errors.ts';
import { planInlineAssociations } from './associations.inline.ts';
import { resolveType } from './custom-objects.ts';
import type { ObjectTypeSpec } from './object-types.ts';
import type { AccessTokenRecord } from './token.registry.ts';

const LIST_LIMITS = { defaultLimit: 10, maxLimit: 100 } as const;
const BATCH_LIMIT = 100;

/** `CONTACT`, `COMPANY`, … as HubSpot names types in batch error messages. */
const SINGULAR: Record<string, string> = { contacts: 'CONTACT', companies: 'COMPANY', deals: 'DEAL', tickets: 'TICKET' };

type Access = 'read' | 'write';

interface Route {
  access: Access;
  /** Search answers carry no rate-limit headers at HubSpot. */
  search?: boolean;
  run: (ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord) => FakeResponse;
}

/** Entry point for every path under `/crm/v3/objects/`. */
export function handleCrm(ctx: FakeContext, req: FakeRequest): FakeResponse {
  const auth = ctx.tokens.authenticate(req.headers.authorization);
  if (!auth.ok) {
    return auth.reason === 'expired' ? expiredAuthentication(req.correlationId, auth.expiredAt, ctx.options.clock()) : invalidAuthentication(req.correlationId);
  }
  const token = auth.record;
  req.portalId = token.portalId;

  const decision = ctx.limiter.take(rateKey(token));
  if (!decision.allowed) {
    return secondlyRateLimit(req.correlationId, rateGroupName(token), decision.limit);
  }

  const [typeSegment = '', ...rest] = req.segments.slice(3);
  const route = pickRoute(req.method, rest);
  const headers = ctx.limiter.enabled && !route?.search ? rateLimitHeaders(decision.limit, decision.remaining) : {};
  const response = dispatch(ctx, req, typeSegment, rest, route, token);
  response.headers = { ...headers, ...response.headers };
  return response;
}

function dispatch(ctx: FakeContext, req: FakeRequest, typeSegment: string, rest: string[], route: Route | undefined, token: AccessTokenRecord): FakeResponse {
  const spec = resolveType(ctx, token.portalId, typeSegment);
  if (!spec) return validationError(req.correlationId, `Unable to infer object type from: ${typeSegment}`);
  if (!route) {
    return rest.length <= 1 ? crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` }) : resourceNotFound(req.correlationId);
  }
  const needed = route.access === 'read' ? spec.readScopes : spec.writeScopes;
  if (token.scopes !== undefined && !needed.some((s) => token.scopes?.includes(s))) {
    return missingScopes(req.correlationId, [needed[0] as string]);
  }
  return route.run(ctx, req, spec, token);
}

function pickRoute(method: string, rest: string[]): Route | undefined {
  if (rest.length === 0) {
    if (method === 'GET') return { access: 'read', run: listObjects };
    if (method === 'POST') return { access: 'write', run: createObject };
    return undefined;
  }
  if (rest.length === 1 && rest[0] === 'search' && method === 'POST') return { access: 'read', search: true, run: searchRoute };
  if (rest.length === 2 && rest[0] === 'batch' && rest[1] === 'read' && method === 'POST') return { access: 'read', run: batchRead };
  if (rest.length === 1) {
    if (method === 'GET') return { access: 'read', run: getObject };
    if (method === 'PATCH') return { access: 'write', run: updateObject };
    if (method === 'DELETE') return { access: 'write', run: archiveObject };
  }
  return undefined;
}

/**
 * Private-app tokens are limited each on its own; tokens of an OAuth app per installation
 * (app + portal), so a refreshed token shares its predecessor's window.
 */
export function rateKey(token: AccessTokenRecord): string {
  return token.clientId !== undefined ? `oauth:${token.appId}:${token.portalId}` : `token:${token.token}`;
}

export function rateGroupName(token: AccessTokenRecord): string {
  return token.clientId !== undefined ? `publicapi:oauth-api-calls-secondly:${token.appId}:${token.portalId}` : `publicapi:private-app-api-calls-secondly:${token.portalId}`;
}

function isKnownFor(ctx: FakeContext, spec: ObjectTypeSpec): ((name: string) => boolean) | undefined {
  if (!ctx.options.strictProperties) return undefined;
  const custom = ctx.options.customProperties.get(spec.name);
  return (name) => spec.knownProperties.includes(name) || (custom?.has(name) ?? false);
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; response: FakeResponse };

/** Parses a JSON body the way HubSpot reports failures: `Invalid input JSON on line L, column C: …`. */
export function readJson(req: FakeRequest): JsonBody {
  if (req.rawBody.length > 0 && !isJson(req.headers)) {
    return { ok: false, response: crmError(415, req.correlationId, { message: 'HTTP 415 Unsupported Media Type' }) };
  }
  const text = req.rawBody.toString('utf8');
  if (text.trim() === '') {
    return {
      ok: false,
      response: validationError(req.correlationId, 'Invalid input JSON on line 1, column 1: No content to map due to end-of-input'),
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const location = locateJsonError(text);
    const message = location
      ? `Invalid input JSON on line ${location.line}, column ${location.column}: ${location.reason}`
      : `Invalid input JSON: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, response: validationError(req.correlationId, message) };
  }
}

function queryFlag(req: FakeRequest, name: string): boolean {
  return req.query.get(name)?.toLowerCase() === 'true';
}

/**
 * The record a path id names: a numeric id, or with `idProperty` a unique property
 * (`email` for contacts; `hs_object_id` everywhere).
 */
function lookup(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, portalId: number, archived: boolean): StoredObject | FakeResponse {
  const id = req.segments[4] ?? '';
  const idProperty = req.query.get('idProperty');
  let found: StoredObject | undefined;
  if (idProperty && idProperty !== 'hs_object_id') {
    if (!(spec.name === 'contacts' && idProperty === 'email')) {
      return validationError(req.correlationId, `Property ${idProperty} is not a unique identifier property for ${spec.name}`);
    }
    found = ctx.store.list(portalId, spec.name, archived).find((o) => o.properties.get('email')?.toLowerCase() === id.toLowerCase());
    return found ?? resourceNotFound(req.correlationId);
  }
  if (!/^\d+$/.test(id)) return objectNotFound(req.correlationId, id);
  found = ctx.store.find(portalId, spec.name, id);
  if (!found || (found.archivedAt !== undefined) !== archived) return resourceNotFound(req.correlationId);
  return found;
}

function isResponse(value: StoredObject | FakeResponse): value is FakeResponse {
  return 'status' in value;
}

function getObject(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord): FakeResponse {
  const found = lookup(ctx, req, spec, token.portalId, queryFlag(req, 'archived'));
  if (isResponse(found)) return found;
  const requested = requestedProperties(req.query.getAll('properties'));
  return { status: 200, body: { ...toWire(found, propertiesView(spec, found.properties, requested, isKnownFor(ctx, spec))), ...readExtras(ctx, found, extrasFromQuery(req)) } };
}

function listObjects(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord): FakeResponse {
  const limitParam = req.query.get('limit');
  const limit = limitParam === null ? LIST_LIMITS.defaultLimit : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1) return validationError(req.correlationId, `limit must be a positive integer, got ${limitParam}`);
  const afterParam = req.query.get('after');
  const after = afterParam === null || afterParam === '' ? 0 : Number(afterParam);
  if (!Number.isInteger(after) || after < 0) return validationError(req.correlationId, `after is not a valid paging cursor: ${afterParam}`);
  const pageSize = Math.min(limit, LIST_LIMITS.maxLimit);
  const candidates = ctx.store.list(token.portalId, spec.name, queryFlag(req, 'archived')).filter((o) => Number(o.id) >= after);
  const page = candidates.slice(0, pageSize);
  const requested = requestedProperties(req.query.getAll('properties'));
  const isKnown = isKnownFor(ctx, spec);
  const extras = extrasFromQuery(req);
  const body: Record<string, unknown> = { results: page.map((o) => ({ ...toWire(o, propertiesView(spec, o.properties, requested, isKnown)), ...readExtras(ctx, o, extras) })) };
  const next = candidates[pageSize];
  if (next) {
    const link = new URL(req.path, ctx.baseUrl);
    for (const [key, value] of req.query) if (key !== 'after') link.searchParams.append(key, value);
    link.searchParams.set('after', next.id);
    body['paging'] = { next: { after: next.id, link: link.toString() } };
  }
  return { status: 200, body };
}

/** Shared by create and update: a JSON object whose `properties` are valid for the type. */
function readWrite(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, portalId: number) {
  const json = readJson(req);
  if (!json.ok) return json.response;
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return validationError(req.correlationId, 'Invalid input JSON: expected an object with properties');
  }
  const written = normalizeWrite(spec, (json.value as { properties?: unknown }).properties, {
    strict: ctx.options.strictProperties,
    customProperties: ctx.options.customProperties.get(spec.name) ?? new Set(),
  });
  if (!written.ok) {
    return 'problems' in written ? propertyValuesNotValid(req.correlationId, portalId, written.problems) : validationError(req.correlationId, `Invalid input JSON: ${written.invalidInput}`);
  }
  return written.values;
}

/** HubSpot refuses a second contact with the same email (compared case-insensitively). */
function emailConflict(ctx: FakeContext, req: FakeRequest, portalId: number, values: ReadonlyMap<string, string | null>, self?: StoredObject): FakeResponse | undefined {
  const email = values.get('email');
  if (!email) return undefined;
  const existing = ctx.store.findByProperty(portalId, 'contacts', 'email', email);
  return existing && existing !== self ? contactExists(req.correlationId, existing.id) : undefined;
}

function createObject(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord): FakeResponse {
  const values = readWrite(ctx, req, spec, token.portalId);
  if (!(values instanceof Map)) return values;
  if (spec.name === 'contacts') {
    const conflict = emailConflict(ctx, req, token.portalId, values);
    if (conflict) return conflict;
  }
  const inline = planInlineAssociations(ctx, req, token.portalId, spec);
  if (!inline.ok) return inline.response;
  const created = ctx.store.create(token.portalId, spec, values);
  inline.apply(created);
  return {
    status: 201,
    body: toWire(created, allProperties(created.properties)),
    headers: { Location: `${ctx.baseUrl}/crm/v3/objects/${spec.name}/${created.id}` },
  };
}

function updateObject(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord): FakeResponse {
  const found = lookup(ctx, req, spec, token.portalId, false);
  if (isResponse(found)) return found;
  const values = readWrite(ctx, req, spec, token.portalId);
  if (!(values instanceof Map)) return values;
  if (spec.name === 'contacts') {
    const conflict = emailConflict(ctx, req, token.portalId, values, found);
    if (conflict) return conflict;
  }
  const updated = ctx.store.update(found, values);
  return { status: 200, body: toWire(updated, allProperties(updated.properties)) };
}

function archiveObject(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord): FakeResponse {
  const found = lookup(ctx, req, spec, token.portalId, false);
  if (isResponse(found)) return found;
  ctx.store.archive(found);
  return { status: 204 };
}

function searchRoute(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord): FakeResponse {
  const json = readJson(req);
  if (!json.ok) return json.response;
  try {
    const request = parseSearchRequest(json.value);
    const associated = (o: StoredObject, toType: string) => {
      const toSpec = resolveType(ctx, token.portalId, toType);
      return toSpec ? ctx.associations.list(token.portalId, { spec, id: o.id }, toSpec).map((r) => r.toId) : [];
    };
    const page = searchObjects(spec, ctx.store.list(token.portalId, spec.name), request, associated);
    const isKnown = isKnownFor(ctx, spec);
    const body: Record<string, unknown> = {
      total: page.total,
      results: page.results.map((o) => toWire(o, propertiesView(spec, o.properties, request.properties, isKnown))),
    };
    if (page.nextAfter !== undefined) body['paging'] = { next: { after: page.nextAfter } };
    return { status: 200, body };
  } catch (error) {
    if (error instanceof SearchRequestError) return validationError(req.correlationId, error.message);
    throw error;
  }
}

/**
 * `POST …/batch/read`: up to 100 ids (or `idProperty` values). 200 when all exist; otherwise
 * 207 with the found ones and one OBJECT_NOT_FOUND error listing the missing ids.
 */
function batchRead(ctx: FakeContext, req: FakeRequest, spec: ObjectTypeSpec, token: AccessTokenRecord): FakeResponse {
  const startedAt = ctx.options.clock();
  const json = readJson(req);
  if (!json.ok) return json.response;
  const body = json.value as { inputs?: unknown; properties?: unknown; idProperty?: unknown; propertiesWithHistory?: unknown } | null;
  if (typeof body !== 'object' || body === null || !Array.isArray(body.inputs)) {
    return validationError(req.correlationId, 'Invalid input JSON: inputs must be an array of { id }');
  }
  if (body.inputs.length > BATCH_LIMIT) {
    return validationError(req.correlationId, `Batch input size ${body.inputs.length} exceeds the limit of ${BATCH_LIMIT}`);
  }
  const ids: string[] = [];
  for (const input of body.inputs as unknown[]) {
    const id = (input as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' && typeof id !== 'number') return validationError(req.correlationId, 'Invalid input JSON: every input needs an id');
    if (!ids.includes(String(id))) ids.push(String(id));
  }
  const idProperty = typeof body.idProperty === 'string' && body.idProperty !== 'hs_object_id' ? body.idProperty : undefined;
  if (idProperty !== undefined && !(spec.name === 'contacts' && idProperty === 'email')) {
    return validationError(req.correlationId, `Property ${idProperty} is not a unique identifier property for ${spec.name}`);
  }
  const requested = Array.isArray(body.properties) ? body.properties.map(String) : undefined;
  const isKnown = isKnownFor(ctx, spec);
  const results: Array<Record<string, unknown>> = [];
  const missing: string[] = [];
  for (const id of ids) {
    const found = idProperty ? ctx.store.findByProperty(token.portalId, spec.name, idProperty, id) : ctx.store.list(token.portalId, spec.name).find((o) => o.id === id);
    if (found) results.push({ ...toWire(found, propertiesView(spec, found.properties, requested, isKnown)), ...readExtras(ctx, found, extrasFromBody(body)) });
    else missing.push(id);
  }
  const timing = { startedAt: formatInstant(startedAt), completedAt: formatInstant(ctx.options.clock()) };
  if (missing.length === 0) return { status: 200, body: { status: 'COMPLETE', results, ...timing } };
  return {
    status: 207,
    body: {
      status: 'COMPLETE',
      results,
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${SINGULAR[spec.name] ?? spec.name} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
        },
      ],
      ...timing,
    },
  };
}
