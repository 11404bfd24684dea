/**
 * The legacy contacts API endpoints custom code still calls, over the same contacts as v3:
 * `GET /contacts/v1/contact/vid/{vid}/profile`, `GET /contacts/v1/contact/email/{email}/profile`,
 * `GET /contacts/v1/contact/vids/batch?vid=…`, `POST /contacts/v1/contact`,
 * `POST /contacts/v1/contact/createOrUpdate/email/{email}`, `POST /contacts/v1/contact/vid/{vid}/profile`,
 * `POST /contacts/v1/contact/email/{email}/profile` and `DELETE /contacts/v1/contact/vid/{vid}`.
 * Profiles carry v1's shape (`vid`, `canonical-vid`, `properties.x.value` with `versions`,
 * `identity-profiles`); datetimes are epoch milliseconds, as v1 sends them.
 */
import { readObject, withAuth } from './api-auth.ts';
import { normalizeWrite, parseDatetime } from './crm.properties.ts';
import type { StoredObject } from './crm.store.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { propertyValuesNotValid, type FakeResponse } from './hubspot-errors.ts';
import { DATETIME_PROPERTIES, resolveObjectType, type ObjectTypeSpec } from './object-types.ts';

const CONTACTS = resolveObjectType('contacts') as ObjectTypeSpec;

function notFound(correlationId: string): FakeResponse {
  return { status: 404, body: { status: 'error', message: 'contact does not exist', correlationId, requestId: correlationId } };
}

function v1Value(name: string, value: string): string {
  return DATETIME_PROPERTIES.has(name) ? String(parseDatetime(value) ?? value) : value;
}

export function contactProfile(contact: StoredObject, only?: readonly string[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, value] of [...contact.properties].sort(([a], [b]) => a.localeCompare(b))) {
    if (only && only.length > 0 && !only.includes(name)) continue;
    const versions = [...(contact.history.get(name) ?? [])]
      .reverse()
      .map((v) => ({ value: v1Value(name, v.value), 'source-type': v.sourceType, 'source-id': null, 'source-label': null, timestamp: v.timestamp, selected: false }));
    properties[name] = { value: v1Value(name, value), versions };
  }
  const email = contact.properties.get('email');
  const identities = email ? [{ type: 'EMAIL', value: email, timestamp: contact.createdAt, 'is-primary': true }] : [];
  return {
    vid: Number(contact.id),
    'canonical-vid': Number(contact.id),
    'merged-vids': (contact.properties.get('hs_merged_object_ids') ?? '')
      .split(';')
      .filter((v) => v !== '')
      .map(Number),
    'portal-id': contact.portalId,
    'is-contact': true,
    properties,
    'form-submissions': [],
    'list-memberships': [],
    'identity-profiles': [{ vid: Number(contact.id), 'saved-at-timestamp': contact.createdAt, 'deleted-changed-timestamp': 0, identities }],
    'merge-audits': [],
  };
}

/** `{ properties: [{ property, value }] }` → validated values, or the 400. */
function v1Properties(ctx: FakeContext, req: FakeRequest, portalId: number): Map<string, string | null> | FakeResponse {
  const body = readObject(req);
  if (!body.ok) return body.response;
  const list = body.value['properties'];
  if (!Array.isArray(list)) return { status: 400, body: { status: 'error', message: 'properties must be an array of { property, value }', correlationId: req.correlationId } };
  const asObject: Record<string, unknown> = {};
  for (const item of list as Array<{ property?: unknown; name?: unknown; value?: unknown }>) asObject[String(item?.property ?? item?.name)] = item?.value;
  const written = normalizeWrite(CONTACTS, asObject, { strict: ctx.options.strictProperties, customProperties: ctx.options.customProperties.get('contacts') ?? new Set() });
  if (written.ok) return written.values;
  return 'problems' in written
    ? propertyValuesNotValid(req.correlationId, portalId, written.problems)
    : { status: 400, body: { status: 'error', message: written.invalidInput, correlationId: req.correlationId } };
}

function byVid(ctx: FakeContext, portalId: number, vid: string): StoredObject | undefined {
  const found = ctx.store.find(portalId, 'contacts', vid);
  return found && found.archivedAt === undefined ? found : undefined;
}

export function handleContactsV1(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'contacts' || s[1] !== 'v1' || s[2] !== 'contact') return undefined;
  return withAuth(ctx, req, CONTACTS.readScopes.concat(CONTACTS.writeScopes), (token) => {
    const portalId = token.portalId;
    const rest = s.slice(3);
    const route = `${req.method} ${rest.map((p, i) => (i === 1 && (rest[0] === 'vid' || rest[0] === 'email') ? ':key' : i === 2 && rest[0] === 'createOrUpdate' ? ':key' : p)).join('/')}`;
    const key = rest[0] === 'createOrUpdate' ? (rest[2] ?? '') : (rest[1] ?? '');
    const contact = rest[0] === 'email' ? ctx.store.findByProperty(portalId, 'contacts', 'email', key) : byVid(ctx, portalId, key);
    switch (route) {
      case 'GET vid/:key/profile':
      case 'GET email/:key/profile':
        return contact ? { status: 200, body: contactProfile(contact, req.query.getAll('property')) } : notFound(req.correlationId);
      case 'GET vids/batch': {
        const out: Record<string, unknown> = {};
        for (const vid of req.query.getAll('vid')) {
          const found = byVid(ctx, portalId, vid);
          if (found) out[vid] = contactProfile(found, req.query.getAll('property'));
        }
        return { status: 200, body: out };
      }
      case 'POST vid/:key/profile':
      case 'POST email/:key/profile':
        return contact ? write(ctx, req, portalId, contact, 204) : notFound(req.correlationId);
      case 'POST createOrUpdate/email/:key':
        return createOrUpdate(ctx, req, portalId, key);
      case 'POST ':
        return write(ctx, req, portalId, undefined, 200);
      case 'DELETE vid/:key':
        if (!contact) return notFound(req.correlationId);
        ctx.store.archive(contact);
        return { status: 200, body: { vid: Number(contact.id), deleted: true, reason: 'OK' } };
      default:
        return { status: 404, body: { status: 'error', message: 'resource not found', correlationId: req.correlationId } };
    }
  });
}

/** Creates (when `contact` is undefined) or updates; a second contact with the same email is a 409 `CONTACT_EXISTS`. */
function write(ctx: FakeContext, req: FakeRequest, portalId: number, contact: StoredObject | undefined, okStatus: number): FakeResponse {
  const values = v1Properties(ctx, req, portalId);
  if (!(values instanceof Map)) return values;
  const email = values.get('email');
  const holder = email ? ctx.store.findByProperty(portalId, 'contacts', 'email', email) : undefined;
  if (holder && holder !== contact) {
    return {
      status: 409,
      body: {
        status: 'error',
        message: 'Contact already exists',
        correlationId: req.correlationId,
        error: 'CONTACT_EXISTS',
        identityProfile: { vid: Number(holder.id), identity: [{ value: email, type: 'EMAIL', timestamp: holder.createdAt, isPrimary: true }] },
      },
    };
  }
  const saved = contact ? ctx.store.update(contact, values) : ctx.store.create(portalId, CONTACTS, values);
  return okStatus === 204 ? { status: 204 } : { status: okStatus, body: contactProfile(saved) };
}

function createOrUpdate(ctx: FakeContext, req: FakeRequest, portalId: number, email: string): FakeResponse {
  const values = v1Properties(ctx, req, portalId);
  if (!(values instanceof Map)) return values;
  const existing = ctx.store.findByProperty(portalId, 'contacts', 'email', email);
  if (existing) {
    ctx.store.update(existing, values);
    return { status: 200, body: { vid: Number(existing.id), isNew: false } };
  }
  if (!values.has('email')) values.set('email', email);
  const created = ctx.store.create(portalId, CONTACTS, values);
  return { status: 200, body: { vid: Number(created.id), isNew: true } };
}
