/**
 * The associations APIs, over {@link AssociationStore}:
 * - v3 per record (api-client 10's `crm.objects.associationsApi`, `crm.contacts.associationsApi`):
 *   `GET|PUT|DELETE /crm/v3/objects/{type}/{id}/associations/{toType}[/{toId}/{associationType}]`
 * - v4 per record: `GET|PUT|DELETE /crm/v4/objects/{type}/{id}/associations/{toType}[/{toId}]`,
 *   `PUT …/associations/default/{toType}/{toId}`
 * - batch: `/crm/v3/associations/{from}/{to}/batch/{read,create,archive}`, `…/types`;
 *   `/crm/v4/associations/{from}/{to}/batch/{read,create,archive,associate/default}`, `…/labels`
 */
import { withAuth } from './api-auth.ts';
import { parseTypeName, pairTypes, describeType } from './association-types.ts';
import { handleAssociationBatch } from './associations.batch.ts';
import { allProperties } from './crm.properties.ts';
import { toWire, type StoredObject } from './crm.store.ts';
import { resolveType } from './custom-objects.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { existing, liveAssociations } from './associations.read.ts';
import { crmError, missingScopes, objectNotFound, resourceNotFound, validationError, type FakeResponse } from './hubspot-errors.ts';
import type { ObjectTypeSpec } from './object-types.ts';
import type { AccessTokenRecord } from './token.registry.ts';

export function handleAssociations(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'crm' || (s[1] !== 'v3' && s[1] !== 'v4')) return undefined;
  if (s[2] === 'associations' && s.length >= 5) return handleAssociationBatch(ctx, req);
  if (s[2] !== 'objects' || s[5] !== 'associations' || s.length < 7) return undefined;
  const v4 = s[1] === 'v4';
  return withAuth(ctx, req, [], (token) => {
    const from = resolveType(ctx, token.portalId, s[3] ?? '');
    if (!from) return validationError(req.correlationId, `Unable to infer object type from: ${s[3]}`);
    const record = existing(ctx, token.portalId, from, s[4] ?? '');
    if (!record) return /^\d+$/.test(s[4] ?? '') ? resourceNotFound(req.correlationId) : objectNotFound(req.correlationId, s[4] ?? '');
    const isDefault = v4 && s[6] === 'default';
    const rest = isDefault ? s.slice(7) : s.slice(6);
    const to = resolveType(ctx, token.portalId, rest[0] ?? '');
    if (!to) return validationError(req.correlationId, `Unable to infer object type from: ${rest[0]}`);
    const scopes = req.method === 'GET' ? from.readScopes : from.writeScopes;
    if (token.scopes !== undefined && !scopes.some((sc) => token.scopes?.includes(sc))) return missingScopes(req.correlationId, [scopes[0] as string]);
    if (isDefault) return req.method === 'PUT' && rest.length === 2 ? v4Default(ctx, req, token, record, to, rest[1] as string) : notSupported(req);
    if (rest.length === 1 && req.method === 'GET') return v4 ? v4List(ctx, req, token, record, to) : v3List(ctx, token, record, to);
    if (v4 && rest.length === 2) return v4Write(ctx, req, token, record, to, rest[1] as string);
    if (!v4 && rest.length === 3) return v3Write(ctx, req, token, record, to, rest[1] as string, rest[2] as string);
    return notSupported(req);
  });
}

function notSupported(req: FakeRequest): FakeResponse {
  return crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` });
}

function v3List(ctx: FakeContext, token: AccessTokenRecord, record: StoredObject, to: ObjectTypeSpec): FakeResponse {
  const results = liveAssociations(ctx, token.portalId, record, to).flatMap((r) => r.types.map((t) => ({ id: r.toId, type: t.name })));
  return { status: 200, body: { results } };
}

/** Pages of `limit` (default and most 500) records; `paging.next.after` (an offset) only while more remain. */
function v4List(ctx: FakeContext, req: FakeRequest, token: AccessTokenRecord, record: StoredObject, to: ObjectTypeSpec): FakeResponse {
  const limitText = req.query.get('limit');
  const limit = limitText === null ? 500 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) return validationError(req.correlationId, `limit must be a positive integer, got ${limitText}`);
  const after = Number(req.query.get('after') ?? 0) || 0;
  const all = liveAssociations(ctx, token.portalId, record, to);
  const page = all.slice(after, after + Math.min(limit, 500)).map((r) => ({
    toObjectId: Number(r.toId),
    associationTypes: r.types.map((t) => ({ category: t.category, typeId: t.typeId, label: t.label })),
  }));
  const body: Record<string, unknown> = { results: page };
  const next = after + page.length;
  if (next < all.length) body['paging'] = { next: { after: String(next), link: `${ctx.baseUrl}${req.path}?after=${next}` } };
  return { status: 200, body };
}

/** `PUT|DELETE /crm/v3/objects/{type}/{id}/associations/{toType}/{toId}/{associationType}`. */
function v3Write(ctx: FakeContext, req: FakeRequest, token: AccessTokenRecord, record: StoredObject, to: ObjectTypeSpec, toId: string, typeText: string): FakeResponse {
  const target = existing(ctx, token.portalId, to, toId);
  const typeId = parseTypeName(record.spec.singular, to.singular, typeText);
  if (typeId === undefined) return validationError(req.correlationId, `${typeText} is not a valid association type between ${record.spec.name} and ${to.name}`);
  if (req.method === 'DELETE') {
    if (target) ctx.associations.dissociate(token.portalId, { spec: record.spec, id: record.id }, { spec: to, id: toId }, [typeId]);
    return { status: 204 };
  }
  if (req.method !== 'PUT') return notSupported(req);
  if (!target) return validationError(req.correlationId, `No ${to.singular} with id ${toId} exists to associate with.`);
  ctx.associations.associate(token.portalId, { spec: record.spec, id: record.id }, { spec: to, id: toId }, typeId);
  const results = liveAssociations(ctx, token.portalId, record, to).flatMap((r) => r.types.map((t) => ({ id: r.toId, type: t.name })));
  return { status: 200, body: { ...toWire(record, allProperties(record.properties)), associations: { [to.name]: { results } } } };
}

/** `PUT|DELETE /crm/v4/objects/{type}/{id}/associations/{toType}/{toId}` (PUT body: `[{ associationCategory, associationTypeId }]`). */
function v4Write(ctx: FakeContext, req: FakeRequest, token: AccessTokenRecord, record: StoredObject, to: ObjectTypeSpec, toId: string): FakeResponse {
  const ends = { from: { spec: record.spec, id: record.id }, to: { spec: to, id: toId } };
  if (req.method === 'DELETE') {
    ctx.associations.dissociate(token.portalId, ends.from, ends.to);
    return { status: 204 };
  }
  if (req.method !== 'PUT') return notSupported(req);
  const target = existing(ctx, token.portalId, to, toId);
  if (!target) return validationError(req.correlationId, `No ${to.singular} with id ${toId} exists to associate with.`);
  let specs: unknown;
  try {
    specs = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    specs = undefined;
  }
  if (!Array.isArray(specs) || specs.length === 0) return validationError(req.correlationId, 'Invalid input JSON: the body must be an array of { associationCategory, associationTypeId }');
  const typeIds: number[] = [];
  for (const spec of specs as Array<{ associationTypeId?: unknown }>) {
    const typeId = parseTypeName(record.spec.singular, to.singular, String(spec?.associationTypeId ?? ''));
    if (typeId === undefined) return validationError(req.correlationId, `${String(spec?.associationTypeId)} is not a valid association type id between ${record.spec.name} and ${to.name}`);
    typeIds.push(typeId);
  }
  for (const typeId of typeIds) ctx.associations.associate(token.portalId, ends.from, ends.to, typeId);
  const labels = typeIds.map((t) => describeType(record.spec.singular, to.singular, t).label).filter((l): l is string => l !== null);
  return { status: 201, body: { fromObjectTypeId: record.spec.objectTypeId, fromObjectId: Number(record.id), toObjectTypeId: to.objectTypeId, toObjectId: Number(toId), labels } };
}

/** `PUT /crm/v4/objects/{type}/{id}/associations/default/{toType}/{toId}`: the unlabeled (and, first time, primary) type. */
function v4Default(ctx: FakeContext, req: FakeRequest, token: AccessTokenRecord, record: StoredObject, to: ObjectTypeSpec, toId: string): FakeResponse {
  const startedAt = new Date(ctx.options.clock()).toISOString();
  if (!existing(ctx, token.portalId, to, toId)) return validationError(req.correlationId, `No ${to.singular} with id ${toId} exists to associate with.`);
  const added = ctx.associations.associateDefault(token.portalId, { spec: record.spec, id: record.id }, { spec: to, id: toId });
  const category = pairTypes(record.spec.singular, to.singular).category;
  return {
    status: 200,
    body: {
      status: 'COMPLETE',
      results: added.map((typeId) => ({ from: { id: record.id }, to: { id: toId }, associationSpec: { associationCategory: category, associationTypeId: typeId } })),
      startedAt,
      completedAt: new Date(ctx.options.clock()).toISOString(),
    },
  };
}
