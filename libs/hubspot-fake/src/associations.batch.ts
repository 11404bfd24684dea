/**
 * Batch associations: `/crm/v3/associations/{from}/{to}/batch/{read,create,archive}` and
 * `/types`; `/crm/v4/associations/{from}/{to}/batch/{read,create,archive,associate/default}` and
 * `/labels`. Up to 100 inputs (v3) or 1,000 (v4 read); ids that have no associations come back
 * in `errors` with a 207, as HubSpot reports them.
 */
import { batchInputs, withAuth } from './api-auth.ts';
import { describeType, pairTypes, parseTypeName, reverseTypeId } from './association-types.ts';
import { existing, liveAssociations } from './associations.read.ts';
import { resolveType } from './custom-objects.ts';
import { idOf, type FakeContext, type FakeRequest } from './fake-context.ts';
import { crmError, validationError, type FakeResponse } from './hubspot-errors.ts';
import type { ObjectTypeSpec } from './object-types.ts';
import type { AccessTokenRecord } from './token.registry.ts';

interface Pair {
  ctx: FakeContext;
  req: FakeRequest;
  token: AccessTokenRecord;
  from: ObjectTypeSpec;
  to: ObjectTypeSpec;
  v4: boolean;
}

export function handleAssociationBatch(ctx: FakeContext, req: FakeRequest): FakeResponse {
  const s = req.segments;
  const v4 = s[1] === 'v4';
  return withAuth(ctx, req, [], (token) => {
    const from = resolveType(ctx, token.portalId, s[3] ?? '');
    const to = resolveType(ctx, token.portalId, s[4] ?? '');
    if (!from || !to) return validationError(req.correlationId, `Unable to infer object type from: ${!from ? s[3] : s[4]}`);
    const pair: Pair = { ctx, req, token, from, to, v4 };
    const action = s.slice(5).join('/');
    if (req.method === 'GET' && (action === 'types' || action === 'labels')) return listTypes(pair);
    if (req.method !== 'POST') return crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` });
    if (action === 'batch/read') return batchRead(pair);
    if (action === 'batch/create') return batchCreate(pair, false);
    if (action === 'batch/associate/default' && v4) return batchCreate(pair, true);
    if (action === 'batch/archive') return batchArchive(pair);
    return crmError(404, req.correlationId, { message: 'resource not found' });
  });
}

function timing(ctx: FakeContext, startedAt: number) {
  return { startedAt: new Date(startedAt).toISOString(), completedAt: new Date(ctx.options.clock()).toISOString() };
}

function listTypes({ from, to, v4 }: Pair): FakeResponse {
  const types = pairTypes(from.singular, to.singular);
  const ids = types.primary === undefined ? [types.unlabeled] : [types.primary, types.unlabeled];
  const described = ids.map((id) => describeType(from.singular, to.singular, id));
  if (v4) return { status: 200, body: { results: described.map((t) => ({ category: t.category, typeId: t.typeId, label: t.label })) } };
  return { status: 200, body: { results: described.map((t) => ({ id: String(t.typeId), name: t.name })) } };
}

function batchRead({ ctx, req, token, from, to, v4 }: Pair): FakeResponse {
  const startedAt = ctx.options.clock();
  const inputs = batchInputs(req, v4 ? 1000 : 100);
  if (!inputs.ok) return inputs.response;
  const results: unknown[] = [];
  const missing: string[] = [];
  for (const input of inputs.value) {
    const id = idOf(input['id']);
    const record = id === undefined ? undefined : existing(ctx, token.portalId, from, id);
    const links = record ? liveAssociations(ctx, token.portalId, record, to) : [];
    if (links.length === 0) {
      missing.push(id ?? String(input['id']));
      continue;
    }
    const toList = v4
      ? links.map((l) => ({ toObjectId: Number(l.toId), associationTypes: l.types.map((t) => ({ category: t.category, typeId: t.typeId, label: t.label })) }))
      : links.flatMap((l) => l.types.map((t) => ({ id: l.toId, type: t.name })));
    results.push({ from: { id }, to: toList });
  }
  const body: Record<string, unknown> = { status: 'COMPLETE', results, ...timing(ctx, startedAt) };
  if (missing.length === 0) return { status: 200, body };
  body['numErrors'] = missing.length;
  body['errors'] = missing.map((id) => ({
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
    message: `No ${to.singular} is associated with ${from.singular} ${id}.`,
    context: { fromObjectId: [id] },
  }));
  return { status: 207, body };
}

/** v3 `{ from: { id }, to: { id }, type }`; v4 `{ from, to, types: [{ associationTypeId }] }`; default: `{ from, to }`. */
function batchCreate({ ctx, req, token, from, to, v4 }: Pair, asDefault: boolean): FakeResponse {
  const startedAt = ctx.options.clock();
  const inputs = batchInputs(req);
  if (!inputs.ok) return inputs.response;
  const planned: Array<{ fromId: string; toId: string; typeIds: number[] }> = [];
  for (const input of inputs.value) {
    const fromId = idOf((input['from'] as { id?: unknown } | undefined)?.id);
    const toId = idOf((input['to'] as { id?: unknown } | undefined)?.id);
    if (!fromId || !toId || !existing(ctx, token.portalId, from, fromId) || !existing(ctx, token.portalId, to, toId)) {
      return validationError(req.correlationId, `Invalid association input: ${from.singular} ${String(fromId)} or ${to.singular} ${String(toId)} does not exist`);
    }
    const rawTypes = asDefault ? [] : v4 ? ((input['types'] as Array<{ associationTypeId?: unknown }> | undefined) ?? []).map((t) => String(t?.associationTypeId)) : [String(input['type'] ?? '')];
    const typeIds = rawTypes.map((t) => parseTypeName(from.singular, to.singular, t));
    if (typeIds.some((t) => t === undefined) || (!asDefault && typeIds.length === 0)) {
      return validationError(req.correlationId, `${rawTypes.join(', ')} is not a valid association type between ${from.name} and ${to.name}`);
    }
    planned.push({ fromId, toId, typeIds: typeIds as number[] });
  }
  const results = planned.map(({ fromId, toId, typeIds }) => {
    const ends = [
      { spec: from, id: fromId },
      { spec: to, id: toId },
    ] as const;
    const added = asDefault ? ctx.associations.associateDefault(token.portalId, ends[0], ends[1]) : typeIds;
    if (!asDefault) for (const typeId of typeIds) ctx.associations.associate(token.portalId, ends[0], ends[1], typeId);
    if (asDefault)
      return added.map((typeId) => ({ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: pairTypes(from.singular, to.singular).category, associationTypeId: typeId } }));
    // v3 answers both directions, as a captured HubSpot response shows (hubspot-api-nodejs #656).
    if (!v4) {
      const forward = describeType(from.singular, to.singular, typeIds[0] as number);
      const back = describeType(to.singular, from.singular, reverseTypeId(forward.typeId));
      return [
        { from: { id: fromId }, to: { id: toId }, type: forward.name },
        { from: { id: toId }, to: { id: fromId }, type: back.name },
      ];
    }
    const labels = typeIds.map((t) => describeType(from.singular, to.singular, t).label).filter((l) => l !== null);
    return [{ fromObjectTypeId: from.objectTypeId, fromObjectId: Number(fromId), toObjectTypeId: to.objectTypeId, toObjectId: Number(toId), labels }];
  });
  return { status: asDefault ? 200 : 201, body: { status: 'COMPLETE', results: results.flat(), ...timing(ctx, startedAt) } };
}

/** v3 `{ from: { id }, to: { id }, type }`; v4 `{ from: { id }, to: [{ id }] }`. Removes and answers 204. */
function batchArchive({ ctx, req, token, from, to, v4 }: Pair): FakeResponse {
  const inputs = batchInputs(req);
  if (!inputs.ok) return inputs.response;
  for (const input of inputs.value) {
    const fromId = idOf((input['from'] as { id?: unknown } | undefined)?.id);
    if (!fromId) return validationError(req.correlationId, 'Invalid input JSON: every input needs from.id');
    const targets = Array.isArray(input['to']) ? (input['to'] as Array<{ id?: unknown }>) : [input['to'] as { id?: unknown }];
    for (const target of targets) {
      const toId = idOf(target?.id);
      if (!toId) return validationError(req.correlationId, 'Invalid input JSON: every input needs to.id');
      const typeId = v4 ? undefined : parseTypeName(from.singular, to.singular, String(input['type'] ?? ''));
      ctx.associations.dissociate(token.portalId, { spec: from, id: fromId }, { spec: to, id: toId }, typeId === undefined ? undefined : [typeId]);
    }
  }
  return { status: 204 };
}
