/**
 * The write side of `/crm/v3/objects/{type}` beyond single records: `batch/create`,
 * `batch/update`, `batch/upsert`, `batch/archive` (100 inputs each), `merge` and `gdpr-delete`.
 * A batch create or upsert with a bad input writes nothing (HubSpot validates the whole batch);
 * a batch update answers 207 naming ids that do not exist and updates the rest.
 */
import { batchInputs, readObject, withAuth } from './api-auth.ts';
import { planAssociations } from './associations.inline.ts';
import { allProperties, normalizeWrite } from './crm.properties.ts';
import { toWire, type StoredObject } from './crm.store.ts';
import { resolveType } from './custom-objects.ts';
import { idOf, type FakeContext, type FakeRequest } from './fake-context.ts';
import { contactExists, missingScopes, propertyValuesNotValid, resourceNotFound, validationError, type FakeResponse } from './hubspot-errors.ts';
import type { ObjectTypeSpec } from './object-types.ts';
import type { AccessTokenRecord } from './token.registry.ts';

interface Call {
  ctx: FakeContext;
  req: FakeRequest;
  token: AccessTokenRecord;
  spec: ObjectTypeSpec;
}

const WRITES = new Set(['batch/create', 'batch/update', 'batch/upsert', 'batch/archive', 'merge', 'gdpr-delete']);

export function handleCrmBatch(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'crm' || s[1] !== 'v3' || s[2] !== 'objects' || req.method !== 'POST') return undefined;
  const action = s.slice(4).join('/');
  if (!WRITES.has(action)) return undefined;
  return withAuth(ctx, req, [], (token) => {
    const spec = resolveType(ctx, token.portalId, s[3] ?? '');
    if (!spec) return validationError(req.correlationId, `Unable to infer object type from: ${s[3]}`);
    if (token.scopes !== undefined && !spec.writeScopes.some((w) => token.scopes?.includes(w))) {
      return missingScopes(req.correlationId, [spec.writeScopes[0] as string]);
    }
    const call: Call = { ctx, req, token, spec };
    if (action === 'batch/create') return batchCreate(call);
    if (action === 'batch/update') return batchUpdate(call);
    if (action === 'batch/upsert') return batchUpsert(call);
    if (action === 'batch/archive') return batchArchive(call);
    if (action === 'merge') return merge(call);
    return gdprDelete(call);
  });
}

function timing(ctx: FakeContext, startedAt: number) {
  return { startedAt: new Date(startedAt).toISOString(), completedAt: new Date(ctx.options.clock()).toISOString() };
}

/** Validated values of one input, or the 400 for it. */
function values({ ctx, req, token, spec }: Call, properties: unknown): Map<string, string | null> | FakeResponse {
  const written = normalizeWrite(spec, properties, { strict: ctx.options.strictProperties, customProperties: ctx.options.customProperties.get(spec.name) ?? new Set() });
  if (written.ok) return written.values;
  return 'problems' in written ? propertyValuesNotValid(req.correlationId, token.portalId, written.problems) : validationError(req.correlationId, `Invalid input JSON: ${written.invalidInput}`);
}

/** The contact already holding `email` (other than `self`), compared case-insensitively. */
function emailOwner({ ctx, token, spec }: Call, written: ReadonlyMap<string, string | null>, self?: StoredObject): StoredObject | undefined {
  const email = written.get('email');
  if (spec.name !== 'contacts' || !email) return undefined;
  const found = ctx.store.findByProperty(token.portalId, 'contacts', 'email', email);
  return found && found !== self ? found : undefined;
}

function batchCreate(call: Call): FakeResponse {
  const { ctx, req, token, spec } = call;
  const startedAt = ctx.options.clock();
  const inputs = batchInputs(req);
  if (!inputs.ok) return inputs.response;
  const planned: Array<{ values: Map<string, string | null>; apply: (o: StoredObject) => void }> = [];
  const emails = new Set<string>();
  for (const input of inputs.value) {
    const written = values(call, input['properties']);
    if (!(written instanceof Map)) return written;
    const owner = emailOwner(call, written);
    if (owner) return contactExists(req.correlationId, owner.id);
    const email = written.get('email')?.toLowerCase();
    if (email && spec.name === 'contacts' && emails.has(email)) return validationError(req.correlationId, `Duplicate email in batch: ${email}`);
    if (email) emails.add(email);
    const plan = planAssociations(ctx, req.correlationId, token.portalId, spec, input['associations']);
    if (!plan.ok) return plan.response;
    planned.push({ values: written, apply: plan.apply });
  }
  const results = planned.map((p) => {
    const created = ctx.store.create(token.portalId, spec, p.values);
    p.apply(created);
    return toWire(created, allProperties(created.properties));
  });
  return { status: 201, body: { status: 'COMPLETE', results, ...timing(ctx, startedAt) } };
}

function batchUpdate(call: Call): FakeResponse {
  const { ctx, req, token, spec } = call;
  const startedAt = ctx.options.clock();
  const inputs = batchInputs(req);
  if (!inputs.ok) return inputs.response;
  const planned: Array<{ record: StoredObject; values: Map<string, string | null> }> = [];
  const missing: string[] = [];
  for (const input of inputs.value) {
    const id = idOf(input['id']);
    if (!id) return validationError(req.correlationId, 'Invalid input JSON: every input needs an id');
    const byEmail = input['idProperty'] === 'email' && spec.name === 'contacts';
    const record = byEmail ? ctx.store.findByProperty(token.portalId, spec.name, 'email', id) : ctx.store.find(token.portalId, spec.name, id);
    const written = values(call, input['properties']);
    if (!(written instanceof Map)) return written;
    if (!record || record.archivedAt !== undefined) {
      missing.push(id);
      continue;
    }
    const owner = emailOwner(call, written, record);
    if (owner) return contactExists(req.correlationId, owner.id);
    planned.push({ record, values: written });
  }
  const results = planned.map((p) => toWire(ctx.store.update(p.record, p.values), allProperties(p.record.properties)));
  const body: Record<string, unknown> = { status: 'COMPLETE', results, ...timing(ctx, startedAt) };
  if (missing.length === 0) return { status: 200, body };
  body['numErrors'] = 1;
  body['errors'] = [
    {
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: `Could not get some ${spec.singular.toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids: missing },
    },
  ];
  return { status: 207, body };
}

/** `{ idProperty, id, properties }`: updates the record whose `idProperty` equals `id`, else creates it with that value. */
function batchUpsert(call: Call): FakeResponse {
  const { ctx, req, token, spec } = call;
  const startedAt = ctx.options.clock();
  const inputs = batchInputs(req);
  if (!inputs.ok) return inputs.response;
  const planned: Array<{ record: StoredObject | undefined; values: Map<string, string | null> }> = [];
  for (const input of inputs.value) {
    const id = idOf(input['id']);
    const idProperty = typeof input['idProperty'] === 'string' ? input['idProperty'] : 'hs_object_id';
    if (!id) return validationError(req.correlationId, 'Invalid input JSON: every input needs an id');
    if (idProperty !== 'hs_object_id' && !(spec.name === 'contacts' && idProperty === 'email')) {
      return validationError(req.correlationId, `Property ${idProperty} is not a unique identifier property for ${spec.name}`);
    }
    const written = values(call, input['properties']);
    if (!(written instanceof Map)) return written;
    const record = idProperty === 'email' ? ctx.store.findByProperty(token.portalId, spec.name, 'email', id) : ctx.store.find(token.portalId, spec.name, id);
    if (!record && idProperty === 'email') written.set('email', id);
    planned.push({ record: record?.archivedAt === undefined ? record : undefined, values: written });
  }
  const results = planned.map((p) => {
    const record = p.record ? ctx.store.update(p.record, p.values) : ctx.store.create(token.portalId, spec, p.values);
    return { ...toWire(record, allProperties(record.properties)), new: p.record === undefined };
  });
  return { status: 200, body: { status: 'COMPLETE', results, ...timing(ctx, startedAt) } };
}

function batchArchive({ ctx, req, token, spec }: Call): FakeResponse {
  const inputs = batchInputs(req);
  if (!inputs.ok) return inputs.response;
  for (const input of inputs.value) {
    const id = idOf(input['id']);
    const record = id ? ctx.store.find(token.portalId, spec.name, id) : undefined;
    if (record && record.archivedAt === undefined) ctx.store.archive(record);
  }
  return { status: 204 };
}

/**
 * `{ primaryObjectId, objectIdToMerge }`: the primary keeps its values and takes the other's
 * where it has none, gains its associations and lists it in `hs_merged_object_ids`; the other is archived.
 */
function merge({ ctx, req, token, spec }: Call): FakeResponse {
  const body = readObject(req);
  if (!body.ok) return body.response;
  const primaryId = idOf(body.value['primaryObjectId']);
  const otherId = idOf(body.value['objectIdToMerge']);
  if (!primaryId || !otherId) return validationError(req.correlationId, 'Invalid input JSON: primaryObjectId and objectIdToMerge are required');
  if (primaryId === otherId) return validationError(req.correlationId, 'Cannot merge an object with itself');
  const primary = ctx.store.find(token.portalId, spec.name, primaryId);
  const other = ctx.store.find(token.portalId, spec.name, otherId);
  if (!primary || primary.archivedAt !== undefined || !other || other.archivedAt !== undefined) return resourceNotFound(req.correlationId);
  const fill = new Map<string, string | null>();
  for (const [name, value] of other.properties) {
    if (!primary.properties.has(name) && name !== 'hs_object_id' && name !== spec.lastModifiedProperty) fill.set(name, value);
  }
  const merged = [primary.properties.get('hs_merged_object_ids'), otherId].filter((v) => v).join(';');
  fill.set('hs_merged_object_ids', merged);
  for (const link of ctx.associations.allOf(token.portalId, { spec, id: otherId })) {
    const toSpec = resolveType(ctx, token.portalId, link.toType);
    if (!toSpec || (toSpec.name === spec.name && link.toId === primaryId)) continue;
    for (const typeId of link.typeIds) ctx.associations.associate(token.portalId, { spec, id: primaryId }, { spec: toSpec, id: link.toId }, typeId);
    ctx.associations.dissociate(token.portalId, { spec, id: otherId }, { spec: toSpec, id: link.toId });
  }
  ctx.store.update(primary, fill);
  ctx.store.archive(other);
  return { status: 200, body: toWire(primary, allProperties(primary.properties)) };
}

/** `{ objectId, idProperty? }`: deletes for good, associations included; 204. */
function gdprDelete({ ctx, req, token, spec }: Call): FakeResponse {
  const body = readObject(req);
  if (!body.ok) return body.response;
  const id = idOf(body.value['objectId']);
  if (!id) return validationError(req.correlationId, 'Invalid input JSON: objectId is required');
  const byEmail = body.value['idProperty'] === 'email' && spec.name === 'contacts';
  const record = byEmail ? ctx.store.findByProperty(token.portalId, spec.name, 'email', id) : ctx.store.find(token.portalId, spec.name, id);
  if (!record) return resourceNotFound(req.correlationId);
  for (const link of ctx.associations.allOf(token.portalId, { spec, id: record.id })) {
    const toSpec = resolveType(ctx, token.portalId, link.toType);
    if (toSpec) ctx.associations.dissociate(token.portalId, { spec, id: record.id }, { spec: toSpec, id: link.toId });
  }
  ctx.store.remove(record);
  return { status: 204 };
}
