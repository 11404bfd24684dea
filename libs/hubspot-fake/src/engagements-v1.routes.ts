/**
 * The legacy engagements API still used by custom code: `POST /engagements/v1/engagements`,
 * `GET|PATCH|DELETE /engagements/v1/engagements/{id}`,
 * `PUT /engagements/v1/engagements/{id}/associations/{objectType}/{objectId}` and
 * `GET /engagements/v1/engagements/associated/{objectType}/{objectId}/paged`. Engagements are
 * stored as the v3 activity objects they are at HubSpot (a NOTE is a `notes` record with
 * `hs_note_body`, same id), so v1 writes show in v3 reads and the other way round.
 */
import { readObject, withAuth } from './api-auth.ts';
import { formatInstant, parseDatetime } from './crm.properties.ts';
import type { StoredObject } from './crm.store.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { crmError, validationError, type FakeResponse } from './hubspot-errors.ts';
import { resolveObjectType, type ObjectTypeSpec } from './object-types.ts';

/** Engagement type → v3 object type and metadata key → property. */
const TYPES: Record<string, { objectType: string; metadata: Record<string, string> }> = {
  NOTE: { objectType: 'notes', metadata: { body: 'hs_note_body' } },
  CALL: {
    objectType: 'calls',
    metadata: {
      body: 'hs_call_body',
      title: 'hs_call_title',
      toNumber: 'hs_call_to_number',
      fromNumber: 'hs_call_from_number',
      status: 'hs_call_status',
      durationMilliseconds: 'hs_call_duration',
      recordingUrl: 'hs_call_recording_url',
      disposition: 'hs_call_disposition',
    },
  },
  EMAIL: { objectType: 'emails', metadata: { subject: 'hs_email_subject', text: 'hs_email_text', html: 'hs_email_html' } },
  MEETING: {
    objectType: 'meetings',
    metadata: { body: 'hs_meeting_body', title: 'hs_meeting_title', startTime: 'hs_meeting_start_time', endTime: 'hs_meeting_end_time', internalMeetingNotes: 'hs_internal_meeting_notes' },
  },
  TASK: { objectType: 'tasks', metadata: { body: 'hs_task_body', subject: 'hs_task_subject', status: 'hs_task_status', priority: 'hs_task_priority', taskType: 'hs_task_type' } },
};
const ACTIVITY_TYPES = Object.values(TYPES).map((t) => t.objectType);
const NUMERIC_METADATA = new Set(['durationMilliseconds', 'startTime', 'endTime']);
const EPOCH_METADATA = new Set(['startTime', 'endTime']);
/** v1 association list → v3 object type. */
const ASSOCIATION_KEYS: Record<string, string> = { contactIds: 'contacts', companyIds: 'companies', dealIds: 'deals', ticketIds: 'tickets' };

function v1Error(status: number, correlationId: string, message: string): FakeResponse {
  return { status, body: { status: 'error', message, correlationId, requestId: correlationId } };
}

function typeOf(object: StoredObject): string {
  return Object.entries(TYPES).find(([, t]) => t.objectType === object.spec.name)?.[0] ?? 'NOTE';
}

/** The v1 view of an activity record. */
export function engagementToV1(ctx: FakeContext, object: StoredObject): Record<string, unknown> {
  const type = typeOf(object);
  const metadata: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(TYPES[type]?.metadata ?? {})) {
    const value = object.properties.get(property);
    if (value === undefined) continue;
    metadata[key] = EPOCH_METADATA.has(key) ? (parseDatetime(value) ?? value) : NUMERIC_METADATA.has(key) ? Number(value) : value;
  }
  const headers = object.properties.get('hs_email_headers');
  if (type === 'EMAIL' && headers) Object.assign(metadata, JSON.parse(headers) as Record<string, unknown>);
  const associations: Record<string, number[]> = { contactIds: [], companyIds: [], dealIds: [], ownerIds: [], workflowIds: [], ticketIds: [], contentIds: [], quoteIds: [] };
  for (const [key, typeName] of Object.entries(ASSOCIATION_KEYS)) {
    const spec = resolveObjectType(typeName) as ObjectTypeSpec;
    associations[key] = ctx.associations.list(object.portalId, { spec: object.spec, id: object.id }, spec).map((r) => Number(r.toId));
  }
  const owner = object.properties.get('hubspot_owner_id');
  const timestamp = object.properties.get('hs_timestamp');
  return {
    engagement: {
      id: Number(object.id),
      portalId: object.portalId,
      active: object.archivedAt === undefined,
      createdAt: object.createdAt,
      lastUpdated: object.updatedAt,
      type,
      timestamp: timestamp ? (parseDatetime(timestamp) ?? object.createdAt) : object.createdAt,
      ...(owner ? { ownerId: Number(owner) } : {}),
    },
    associations,
    attachments: [],
    metadata,
  };
}

/** Properties for an engagement body's `engagement` and `metadata`. */
function propertiesOf(type: string, engagement: Record<string, unknown>, metadata: Record<string, unknown>): Map<string, string | null> {
  const values = new Map<string, string | null>();
  for (const [key, property] of Object.entries(TYPES[type]?.metadata ?? {})) {
    const value = metadata[key];
    if (value === undefined || value === null) continue;
    values.set(property, EPOCH_METADATA.has(key) && typeof value === 'number' ? formatInstant(value) : String(value as string | number));
  }
  if (type === 'EMAIL') {
    const headers = Object.fromEntries(['from', 'to', 'cc', 'bcc'].filter((k) => metadata[k] !== undefined).map((k) => [k, metadata[k]]));
    if (Object.keys(headers).length > 0) values.set('hs_email_headers', JSON.stringify(headers));
  }
  if (engagement['timestamp'] !== undefined) values.set('hs_timestamp', formatInstant(Number(engagement['timestamp'])));
  if (engagement['ownerId'] !== undefined && engagement['ownerId'] !== null) values.set('hubspot_owner_id', String(engagement['ownerId'] as number));
  return values;
}

function associate(ctx: FakeContext, object: StoredObject, associations: Record<string, unknown>): string | undefined {
  for (const [key, typeName] of Object.entries(ASSOCIATION_KEYS)) {
    const ids = associations[key];
    if (ids === undefined) continue;
    if (!Array.isArray(ids)) return `associations.${key} must be an array of ids`;
    const spec = resolveObjectType(typeName) as ObjectTypeSpec;
    for (const id of ids) {
      const target = ctx.store.find(object.portalId, spec.name, String(id));
      if (!target || target.archivedAt !== undefined) return `One or more associations are invalid: ${spec.singular} ${String(id)} does not exist`;
      ctx.associations.associateDefault(object.portalId, { spec: object.spec, id: object.id }, { spec, id: String(id) });
    }
  }
  return undefined;
}

export function handleEngagementsV1(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'engagements' || s[1] !== 'v1' || s[2] !== 'engagements') return undefined;
  return withAuth(ctx, req, [], (token) => {
    const rest = s.slice(3);
    if (rest.length === 0 && req.method === 'POST') return create(ctx, req, token.portalId);
    if (rest[0] === 'associated' && rest.length === 4 && rest[3] === 'paged' && req.method === 'GET') return associated(ctx, req, token.portalId, rest[1] as string, rest[2] as string);
    const object = ctx.store.findAnyType(token.portalId, rest[0] ?? '', ACTIVITY_TYPES);
    if (!object || object.archivedAt !== undefined) return v1Error(404, req.correlationId, `Engagement ${rest[0]} does not exist`);
    if (rest.length === 1 && req.method === 'GET') return { status: 200, body: engagementToV1(ctx, object) };
    if (rest.length === 1 && req.method === 'DELETE') {
      ctx.store.archive(object);
      return { status: 204 };
    }
    if (rest.length === 1 && (req.method === 'PATCH' || req.method === 'PUT')) return update(ctx, req, object);
    if (rest.length === 4 && rest[1] === 'associations' && req.method === 'PUT') {
      const key = `${(rest[2] ?? '').toLowerCase()}Ids`;
      const problem = associate(ctx, object, { [key]: [rest[3]] });
      return problem ? v1Error(400, req.correlationId, problem) : { status: 204 };
    }
    return crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` });
  });
}

function create(ctx: FakeContext, req: FakeRequest, portalId: number): FakeResponse {
  const body = readObject(req);
  if (!body.ok) return body.response;
  const engagement = (body.value['engagement'] ?? {}) as Record<string, unknown>;
  const type = String(engagement['type'] ?? '').toUpperCase();
  const spec = TYPES[type] ? resolveObjectType(TYPES[type].objectType) : undefined;
  if (!spec) return v1Error(400, req.correlationId, `engagement.type must be one of ${Object.keys(TYPES).join(', ')}; got ${String(engagement['type'])}`);
  const associations = (body.value['associations'] ?? {}) as Record<string, unknown>;
  for (const [key, typeName] of Object.entries(ASSOCIATION_KEYS)) {
    for (const id of Array.isArray(associations[key]) ? (associations[key] as unknown[]) : []) {
      const target = ctx.store.find(portalId, typeName, String(id));
      if (!target || target.archivedAt !== undefined) return v1Error(400, req.correlationId, `One or more associations are invalid: ${typeName} ${String(id)} does not exist`);
    }
  }
  const values = propertiesOf(type, engagement, (body.value['metadata'] ?? {}) as Record<string, unknown>);
  if (!values.has('hs_timestamp')) values.set('hs_timestamp', formatInstant(ctx.options.clock()));
  const object = ctx.store.create(portalId, spec, values);
  const problem = associate(ctx, object, associations);
  if (problem) return validationError(req.correlationId, problem);
  return { status: 200, body: engagementToV1(ctx, object) };
}

function update(ctx: FakeContext, req: FakeRequest, object: StoredObject): FakeResponse {
  const body = readObject(req);
  if (!body.ok) return body.response;
  const values = propertiesOf(typeOf(object), (body.value['engagement'] ?? {}) as Record<string, unknown>, (body.value['metadata'] ?? {}) as Record<string, unknown>);
  ctx.store.update(object, values);
  return { status: 200, body: engagementToV1(ctx, object) };
}

function associated(ctx: FakeContext, req: FakeRequest, portalId: number, objectType: string, objectId: string): FakeResponse {
  const spec = resolveObjectType(objectType);
  if (!spec) return v1Error(400, req.correlationId, `Unknown object type ${objectType}`);
  const all: StoredObject[] = [];
  for (const typeName of ACTIVITY_TYPES) {
    const activitySpec = resolveObjectType(typeName) as ObjectTypeSpec;
    for (const link of ctx.associations.list(portalId, { spec, id: objectId }, activitySpec)) {
      const found = ctx.store.find(portalId, typeName, link.toId);
      if (found && found.archivedAt === undefined) all.push(found);
    }
  }
  all.sort((a, b) => Number(b.id) - Number(a.id));
  const limit = Math.min(Number(req.query.get('limit') ?? 100) || 100, 100);
  const offset = Number(req.query.get('offset') ?? 0) || 0;
  const page = all.slice(offset, offset + limit);
  return { status: 200, body: { results: page.map((o) => engagementToV1(ctx, o)), hasMore: offset + limit < all.length, offset: offset + page.length } };
}
