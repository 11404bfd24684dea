/**
 * Tenants, their API keys and their settings (execution limits). Keys are random, shown once,
 * and only their SHA-256 hashes are kept; a tenant has several, named, each revocable. Every change is an event on the tenants topic; the
 * collections are its projection (`./tenants.projection.ts`), applied directly after each append
 * (read-your-writes) and by the gateway's consumer, which also applies what a process appended
 * and did not live to apply.
 *
 * These collections stay on the plain store, not a tenant-scoped one: tenants are the root of
 * tenancy, and an API key is looked up by its hash before anyone knows whose it is.
 *
 * A key is checked against the store on every request, never a per-process cache: the store is
 * what every gateway replica shares, and a revocation is written to it before the revoking
 * request is answered, so a revoked key is refused at once everywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, CodestepError, NotFoundError, newId, type Clock } from '@codestep/core';
import type { EventLog, Subscription } from '@codestep/event-log';
import { Topics, envelope, toRecord, type Envelope, type EventBody } from '@codestep/events';
import type { DocumentStore, StoredDoc } from '@codestep/store';
import type { TenantLimitSettings } from '@codestep/workflows';
import { DEFAULT_KEY_NAME, TENANT_COLLECTIONS, applyTenantEvents, applyTenantRecords, ensureTenantCollections, legacyKeyId, toLimitPolicy, type KeyDoc, type TenantDoc } from './tenants.projection.ts';

/**
 * The last sequence number handed out per tenant. Coordination, not a projection (like a lease):
 * it only makes sure two writers never give two events of one tenant the same sequence.
 */
const SEQUENCES = 'tenant_sequences';

/**
 * A tenant's entry in {@link SEQUENCES}. `workingKeys` holds the hashes of its working keys,
 * changed by each key creation and revocation in the same compare-and-set that reserves the
 * event's sequence: so "not the last working key" is checked and acted on atomically, and two
 * revocations at once cannot both leave the tenant without one (a check on the projection
 * alone, then an append, could). Absent until the tenant's first key change; then taken from
 * the projection.
 */
interface SequenceDoc {
  last: number;
  workingKeys?: string[];
}

/**
 * When each key was last used, by key hash: `{ tenantId, lastUsedAt }`. An observation kept
 * coarsely in the store, not an event nor the keys projection: see {@link USAGE_EVERY_MS}.
 */
const KEY_USAGE = 'api_key_usage';

/**
 * A gateway records a key's use at most once per this many ms (it remembers what it wrote), so
 * `lastUsedAt` costs one store write per key per minute per gateway, not one per request; it is
 * at most this stale, and two gateways may write within it in either order.
 */
export const USAGE_EVERY_MS = 60_000;

/** The most keys a gateway remembers writing the use of; past it, it forgets them all (and writes again). */
const USAGE_MEMORY = 10_000;

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** How many characters of a key are kept to tell it apart: `csk_` and 8 of its 32 random ones. */
const PREFIX_CHARS = 12;

const newKey = () => `csk_${randomBytes(24).toString('base64url')}`;

/** An API key as its tenant sees it: never its value. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  /** Its first characters, to tell keys apart (empty for keys older than prefixes). */
  prefix: string;
  createdAt: number;
  /** When it was revoked (refused from then on); undefined while it works. */
  revokedAt?: number;
  /** When a request last used it, within {@link USAGE_EVERY_MS}; undefined if never since uses were recorded. */
  lastUsedAt?: number;
}

/** A stored key with the fields older keys lack filled in as a rebuild would fill them. */
function keyInfo(hashHex: string, doc: KeyDoc): ApiKeyInfo {
  return { id: doc.keyId || legacyKeyId(hashHex), name: doc.name || DEFAULT_KEY_NAME, prefix: doc.prefix ?? '', createdAt: doc.createdAt, ...(doc.revokedAt ? { revokedAt: doc.revokedAt } : {}) };
}

export interface Tenants {
  /** Creates the collections and the tenants topic if missing. */
  ensureCollections(): Promise<void>;
  /**
   * Applies the tenants topic from its beginning (what was appended while this process was
   * down), and records as events the tenants written before tenants were events.
   */
  catchUp(): Promise<void>;
  /** Follows the tenants topic: applies what other processes append. */
  follow(onError: (error: unknown) => void): Promise<Subscription>;
  /** The tenant whose key this is; undefined for an unknown or revoked key. Reads the shared store every time. */
  authenticate(key: string): Promise<string | undefined>;
  /** Creates a tenant with one API key (named "default"); returns the key (the only time it is visible). */
  create(name: string, tenantId?: string, limits?: TenantLimitSettings): Promise<{ tenantId: string; apiKey: string }>;
  count(): Promise<number>;
  /** The tenant's limit settings (empty: the operator's values). */
  getLimits(tenantId: string): Promise<TenantLimitSettings>;
  /** Replaces the tenant's limit settings (already checked against the operator's bounds). @throws NotFoundError */
  setLimits(tenantId: string, limits: TenantLimitSettings): Promise<void>;
  /** Creates another API key of the tenant; returns it with its value (the only time it is visible). @throws ConflictError when a working key has that name */
  createKey(tenantId: string, name: string): Promise<{ key: ApiKeyInfo; apiKey: string }>;
  /** The tenant's keys, working and revoked, oldest first. */
  listKeys(tenantId: string): Promise<ApiKeyInfo[]>;
  /**
   * Revokes one of the tenant's keys; revoking a revoked key answers it as it is.
   * @throws NotFoundError when the tenant has no key with that id
   * @throws CodestepError FAILED_PRECONDITION for the tenant's last working key
   */
  revokeKey(tenantId: string, keyId: string): Promise<ApiKeyInfo>;
}

export interface TenantsOptions {
  /**
   * How long a tenant's settings are reused before they are read again, ms. A change made
   * through this process is seen at once; through another process, when this one's consumer
   * applies it, and at the latest within this long.
   * @default 5000
   */
  settingsCacheMs?: number;
  /** Consumer group of {@link Tenants.follow}. @default 'codestep-gateway' */
  group?: string;
}

export interface TenantsDeps extends TenantsOptions {
  store: DocumentStore;
  eventLog: EventLog;
  clock: Clock;
}

/** How a tenant's changes are written: as events on the tenants topic, with sequences of their own, applied at once. */
interface TenantEventWriter {
  /**
   * Reserves `count` sequence numbers; with `keys`, also replaces the tenant's working key
   * hashes by what it returns from the stored ones (see {@link SequenceDoc}), in the same
   * compare-and-set (retried on a conflict: `keys` may run several times, and what it throws is thrown).
   */
  reserve(tenantId: string, count: number, keys?: (stored: string[] | undefined) => string[]): Promise<number>;
  /** An event of the tenant (its own aggregate), now or at `occurredAt`. */
  event(tenantId: string, body: EventBody, occurredAt?: number): Envelope;
  record(events: Envelope[]): Promise<void>;
  adopt(tenant: TenantDoc, updatedAt: number | undefined): Promise<void>;
}

function tenantEventWriter(store: DocumentStore, eventLog: EventLog, clock: Clock): TenantEventWriter {
  /** Hands out `count` consecutive sequence numbers of the tenant, above every one it has used. */
  async function reserve(tenantId: string, count: number, keys?: (stored: string[] | undefined) => string[]): Promise<number> {
    for (;;) {
      const [reserved, tenant] = await Promise.all([store.get<SequenceDoc>(SEQUENCES, tenantId), store.get<TenantDoc>(TENANT_COLLECTIONS.tenants, tenantId)]);
      const last = Math.max(reserved?.doc.last ?? 0, tenant?.version ?? 0);
      const workingKeys = keys ? keys(reserved?.doc.workingKeys) : reserved?.doc.workingKeys;
      const next: SequenceDoc = { last: last + count, ...(workingKeys ? { workingKeys } : {}) };
      if (await store.compareAndSet(SEQUENCES, tenantId, reserved?.version ?? 0, next)) return last + 1;
    }
  }

  const event = (tenantId: string, body: EventBody, occurredAt = clock()): Envelope => envelope({ eventId: newId('evt'), tenantId, aggregateId: tenantId, occurredAt }, body);

  /** Appends, then applies at once; if this process dies in between, the consumer applies them. */
  async function record(events: Envelope[]): Promise<void> {
    await eventLog.append(events.map((e) => toRecord(e)));
    await applyTenantEvents(store, events);
  }

  /** Records a tenant written before tenants were events, so that a rebuild keeps it. */
  async function adopt(tenant: TenantDoc, updatedAt: number | undefined): Promise<void> {
    const keys = await store.find<KeyDoc>(TENANT_COLLECTIONS.apiKeys, { where: { tenantId: tenant.tenantId } });
    let seq = await reserve(tenant.tenantId, 2 + keys.length);
    const limits = toLimitPolicy(tenant.limits);
    const events = [event(tenant.tenantId, { $case: 'tenantCreated', value: { name: tenant.name, limits, sequence: seq++ } }, tenant.createdAt)];
    if (updatedAt !== undefined) events.push(event(tenant.tenantId, { $case: 'tenantLimitsSet', value: { limits, sequence: seq++ } }, updatedAt));
    for (const k of keys) {
      const { id, name, prefix } = keyInfo(k.id, k.doc);
      events.push(event(tenant.tenantId, { $case: 'apiKeyCreated', value: { keyHash: k.id, sequence: seq++, keyId: id, name, prefix } }, k.doc.createdAt));
    }
    await record(events);
  }

  return { reserve, event, record, adopt };
}

/** A tenant's further keys: created and revoked as events, listed from the projection. */
function tenantKeys(store: DocumentStore, { reserve, event, record }: TenantEventWriter): Pick<Tenants, 'createKey' | 'listKeys' | 'revokeKey'> {
  /** The hashes of the tenant's working keys as the projection has them. */
  const workingIn = (docs: Array<StoredDoc<KeyDoc>>) => docs.filter((d) => !d.doc.revokedAt).map((d) => d.id);

  async function listKeys(tenantId: string): Promise<ApiKeyInfo[]> {
    const docs = await store.find<KeyDoc>(TENANT_COLLECTIONS.apiKeys, { where: { tenantId } });
    const used = await store.getMany<{ tenantId: string; lastUsedAt: number }>(
      KEY_USAGE,
      docs.map((d) => d.id),
    );
    const lastUsedAt = (h: string) => {
      const u = used.get(h)?.doc;
      return u && u.tenantId === tenantId ? { lastUsedAt: u.lastUsedAt } : {};
    };
    return docs.map((d) => ({ ...keyInfo(d.id, d.doc), ...lastUsedAt(d.id) })).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  return {
    listKeys,
    async createKey(tenantId, name) {
      const docs = await store.find<KeyDoc>(TENANT_COLLECTIONS.apiKeys, { where: { tenantId } });
      if (docs.some((d) => !d.doc.revokedAt && keyInfo(d.id, d.doc).name === name)) {
        throw new ConflictError(`a working API key is named "${name}" already: choose another name, or revoke that one first`);
      }
      const apiKey = newKey();
      const keyId = newId('key');
      const prefix = apiKey.slice(0, PREFIX_CHARS);
      const keyHash = hash(apiKey);
      const sequence = await reserve(tenantId, 1, (stored) => [...(stored ?? workingIn(docs)), keyHash]);
      const created = event(tenantId, { $case: 'apiKeyCreated', value: { keyHash, sequence, keyId, name, prefix } });
      await record([created]);
      return { key: { id: keyId, name, prefix, createdAt: created.occurredAt }, apiKey };
    },
    async revokeKey(tenantId, keyId) {
      const keys = await store.find<KeyDoc>(TENANT_COLLECTIONS.apiKeys, { where: { tenantId } });
      const found = keys.find((k) => keyInfo(k.id, k.doc).id === keyId);
      if (!found) throw new NotFoundError(`API key ${keyId} not found: GET /v1/api-keys lists this tenant's keys`);
      const key = keyInfo(found.id, found.doc);
      if (key.revokedAt) return key;
      const projected = new Set(workingIn(keys));
      const sequence = await reserve(tenantId, 1, (stored) => {
        const working = stored ?? [...projected];
        // Another working key must remain: one the stored set holds and the projection shows (a
        // key whose creation did not reach the log is not one).
        if (!working.some((h) => h !== found.id && projected.has(h))) {
          throw new CodestepError('FAILED_PRECONDITION', `API key ${keyId} ("${key.name}") is this tenant's last working key: create another (POST /v1/api-keys) before revoking it`);
        }
        return working.filter((h) => h !== found.id);
      });
      const revoked = event(tenantId, { $case: 'apiKeyRevoked', value: { keyHash: found.id, keyId: key.id, name: key.name, prefix: key.prefix, createdAt: key.createdAt, sequence } });
      await record([revoked]);
      return { ...key, revokedAt: revoked.occurredAt };
    },
  };
}

/** The tenants over the plain store and the tenants topic; see {@link Tenants}. */
export function createTenants(deps: TenantsDeps): Tenants {
  const { store, eventLog, clock } = deps;
  const settingsCacheMs = deps.settingsCacheMs ?? 5_000;
  const settings = new Map<string, { limits: TenantLimitSettings; until: number }>();

  const writer = tenantEventWriter(store, eventLog, clock);
  const { reserve, event, record, adopt } = writer;
  const keys = tenantKeys(store, writer);

  /** When this gateway last wrote each key's use (see {@link USAGE_EVERY_MS}). */
  const usageWritten = new Map<string, number>();
  async function recordUse(keyHash: string, tenantId: string): Promise<void> {
    const now = clock();
    if (now - (usageWritten.get(keyHash) ?? -Infinity) < USAGE_EVERY_MS) return;
    if (usageWritten.size >= USAGE_MEMORY) usageWritten.clear();
    usageWritten.set(keyHash, now);
    // Best effort: a failed write never fails the request; it is tried again on the next one.
    await store.put(KEY_USAGE, keyHash, { tenantId, lastUsedAt: now }).catch(() => usageWritten.delete(keyHash));
  }

  return {
    async ensureCollections() {
      await ensureTenantCollections(store);
      await store.ensureCollection(SEQUENCES, []);
      await store.ensureCollection(KEY_USAGE, []);
      await eventLog.ensureTopics([Topics.tenants]);
    },
    async catchUp() {
      const recorded = new Set<string>();
      await eventLog.readAll([Topics.tenants], async (batch) => {
        for (const env of await applyTenantRecords(store, batch)) if (env.event.$case === 'tenantCreated') recorded.add(env.tenantId);
      });
      for (const t of await store.find<TenantDoc>(TENANT_COLLECTIONS.tenants, { limit: 1_000_000 })) {
        if (!recorded.has(t.id)) await adopt(t.doc, t.doc.updatedAt);
      }
    },
    follow(onError) {
      return eventLog.consume({
        group: deps.group ?? 'codestep-gateway',
        topics: [Topics.tenants],
        handle: async (batch) => {
          for (const env of await applyTenantRecords(store, batch)) settings.delete(env.tenantId);
          return [];
        },
        onError,
      });
    },
    async authenticate(key) {
      const h = hash(key);
      const doc = await store.get<KeyDoc>(TENANT_COLLECTIONS.apiKeys, h);
      if (!doc || doc.doc.revokedAt) return undefined;
      await recordUse(h, doc.doc.tenantId);
      return doc.doc.tenantId;
    },
    async create(name, tenantId = newId('tnt'), limits) {
      const apiKey = newKey();
      const seq = await reserve(tenantId, 2, () => [hash(apiKey)]);
      await record([
        event(tenantId, { $case: 'tenantCreated', value: { name, limits: toLimitPolicy(limits), sequence: seq } }),
        event(tenantId, { $case: 'apiKeyCreated', value: { keyHash: hash(apiKey), sequence: seq + 1, keyId: newId('key'), name: DEFAULT_KEY_NAME, prefix: apiKey.slice(0, PREFIX_CHARS) } }),
      ]);
      return { tenantId, apiKey };
    },
    ...keys,
    async count() {
      return (await store.find(TENANT_COLLECTIONS.tenants, { limit: 1 })).length;
    },
    async getLimits(tenantId) {
      const hit = settings.get(tenantId);
      if (hit && hit.until > clock()) return hit.limits;
      const doc = await store.get<TenantDoc>(TENANT_COLLECTIONS.tenants, tenantId);
      const limits = doc?.doc.limits ?? {};
      settings.set(tenantId, { limits, until: clock() + settingsCacheMs });
      return limits;
    },
    async setLimits(tenantId, limits) {
      const doc = await store.get<TenantDoc>(TENANT_COLLECTIONS.tenants, tenantId);
      if (!doc) throw new NotFoundError(`tenant ${tenantId} not found`);
      const sequence = await reserve(tenantId, 1);
      await record([event(tenantId, { $case: 'tenantLimitsSet', value: { limits: toLimitPolicy(limits), sequence } })]);
      settings.set(tenantId, { limits, until: clock() + settingsCacheMs });
    },
  };
}
