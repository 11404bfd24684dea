/**
 * Tenants, their API keys and their limit settings as a projection of the tenants topic. Every
 * tenant event carries a per-tenant `sequence`, the version of the documents it writes: applying
 * an event twice, or after a later one, changes nothing, so the gateway can apply its own events
 * directly after appending them (read-your-writes) and again when its consumer reads them, and
 * a rebuild from the log gives identical documents.
 */
import type { LimitPolicy } from '@codestep/contracts';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import type { DocumentStore, ProjectedRecord, Projection, VersionedWrite } from '@codestep/store';
import { TENANT_LIMIT_FIELDS, type TenantLimitSettings } from '@codestep/workflows';

/** The collections of the projection. */
export const TENANT_COLLECTIONS = { tenants: 'tenants', apiKeys: 'api_keys' } as const;

/** A tenant, keyed by its id. */
export interface TenantDoc {
  tenantId: string;
  name: string;
  createdAt: number;
  /** What the tenant set; absent fields take the operator's values. */
  limits?: TenantLimitSettings;
  updatedAt?: number;
}

/** An API key, keyed by the hex SHA-256 of the key. */
export interface KeyDoc {
  tenantId: string;
  createdAt: number;
  /** Its public id (`key_…`). */
  keyId: string;
  name: string;
  /** Its first characters (empty for a key created before keys had ids). */
  prefix: string;
  /** When it was revoked: it is refused from then on. */
  revokedAt?: number;
}

/** The name of a key created without one (the first key of a tenant, and keys older than names). */
export const DEFAULT_KEY_NAME = 'default';

/** The id of a key created before keys had ids: derived from its hash, so a rebuild gives the same one. */
export const legacyKeyId = (keyHash: string) => `key_${keyHash.slice(0, 24)}`;

/** A tenant's settings as events carry them: 0 for a field the tenant did not set. */
export function toLimitPolicy(settings: TenantLimitSettings = {}): LimitPolicy {
  return { defaultTimeoutMs: settings.defaultTimeoutMs ?? 0, defaultMemoryMb: settings.defaultMemoryMb ?? 0, maxTimeoutMs: settings.maxTimeoutMs ?? 0, maxMemoryMb: settings.maxMemoryMb ?? 0 };
}

/** The settings an event carries, without the fields left at 0; undefined when none is set. */
export function fromLimitPolicy(policy: LimitPolicy | undefined): TenantLimitSettings | undefined {
  const out: TenantLimitSettings = {};
  for (const f of TENANT_LIMIT_FIELDS) if (policy && policy[f] > 0) out[f] = policy[f];
  return Object.keys(out).length ? out : undefined;
}

export async function ensureTenantCollections(store: DocumentStore): Promise<void> {
  await store.ensureCollection(TENANT_COLLECTIONS.tenants, []);
  await store.ensureCollection(TENANT_COLLECTIONS.apiKeys, [{ fields: ['tenantId'] }]);
}

type Pending = Map<string, VersionedWrite<TenantDoc>>;

async function tenantBefore(store: DocumentStore, pending: Pending, tenantId: string): Promise<{ version: number; doc: TenantDoc } | undefined> {
  return pending.get(tenantId) ?? (await store.get<TenantDoc>(TENANT_COLLECTIONS.tenants, tenantId)) ?? undefined;
}

/**
 * Applies tenant events (any order across tenants, log order per tenant is not required):
 * each write lands only if its sequence is above the stored version. Other events are ignored.
 */
export async function applyTenantEvents(store: DocumentStore, events: Envelope[]): Promise<void> {
  const tenants: Pending = new Map();
  const keys: Array<VersionedWrite<KeyDoc>> = [];
  for (const env of events) {
    const { event, tenantId, occurredAt } = env;
    if (event.$case === 'tenantCreated') {
      const limits = fromLimitPolicy(event.value.limits);
      const version = event.value.sequence;
      const before = await tenantBefore(store, tenants, tenantId);
      if (!before || before.version < version) tenants.set(tenantId, { id: tenantId, version, doc: { tenantId, name: event.value.name, createdAt: occurredAt, ...(limits ? { limits } : {}) } });
    } else if (event.$case === 'tenantLimitsSet') {
      const before = await tenantBefore(store, tenants, tenantId);
      // A tenant not created yet (only possible out of log order) gets its settings when its creation is applied.
      if (!before || before.version >= event.value.sequence) continue;
      const { name, createdAt } = before.doc;
      const limits = fromLimitPolicy(event.value.limits);
      tenants.set(tenantId, { id: tenantId, version: event.value.sequence, doc: { tenantId, name, createdAt, ...(limits ? { limits } : {}), updatedAt: occurredAt } });
    } else if (event.$case === 'apiKeyCreated') {
      const { keyHash, keyId, name, prefix, sequence } = event.value;
      keys.push({ id: keyHash, version: sequence, doc: { tenantId, createdAt: occurredAt, keyId: keyId || legacyKeyId(keyHash), name: name || DEFAULT_KEY_NAME, prefix } });
    } else if (event.$case === 'apiKeyRevoked') {
      const { keyHash, keyId, name, prefix, createdAt, sequence } = event.value;
      keys.push({ id: keyHash, version: sequence, doc: { tenantId, createdAt, keyId: keyId || legacyKeyId(keyHash), name: name || DEFAULT_KEY_NAME, prefix, revokedAt: occurredAt } });
    }
  }
  await store.writeVersioned(TENANT_COLLECTIONS.tenants, [...tenants.values()]);
  // Two events of one key in a batch (created, then revoked): the later one only, as a store write would end.
  const latest = new Map<string, VersionedWrite<KeyDoc>>();
  for (const k of keys) if ((latest.get(k.id)?.version ?? -1) < k.version) latest.set(k.id, k);
  await store.writeVersioned(TENANT_COLLECTIONS.apiKeys, [...latest.values()]);
}

/** Decodes records and applies the tenant events among them; returns the decoded envelopes. */
export async function applyTenantRecords(store: DocumentStore, batch: Array<Pick<ProjectedRecord, 'value'>>): Promise<Envelope[]> {
  const events: Envelope[] = [];
  for (const r of batch) {
    const env = fromRecord(r.value);
    if (env) events.push(env);
  }
  await applyTenantEvents(store, events);
  return events;
}

/** The tenants, API keys and limit settings, for the gateway's consumer and for `codestep replay`. */
export const tenantsProjection: Projection = {
  name: 'tenants',
  service: 'gateway',
  topics: [Topics.tenants],
  collections: Object.values(TENANT_COLLECTIONS),
  ensure: ensureTenantCollections,
  apply: async (store, batch) => {
    await applyTenantRecords(store, batch);
  },
};
