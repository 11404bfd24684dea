/**
 * Tenants, their API keys and their settings (execution limits). Keys are random, shown once,
 * and stored only as SHA-256 hashes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, newId } from '@codestep/core';
import type { DocumentStore } from '@codestep/store';
import type { TenantLimitSettings } from '@codestep/workflows';

const TENANTS = 'tenants';
const KEYS = 'api_keys';

interface KeyDoc {
  tenantId: string;
  createdAt: number;
}

interface TenantDoc {
  tenantId: string;
  name: string;
  createdAt: number;
  /** What the tenant set; absent fields take the operator's values. */
  limits?: TenantLimitSettings;
  updatedAt?: number;
}

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

export interface Tenants {
  ensureCollections(): Promise<void>;
  authenticate(key: string): Promise<string | undefined>;
  /** Creates a tenant with one API key; returns the key (the only time it is visible). */
  create(name: string, tenantId?: string, limits?: TenantLimitSettings): Promise<{ tenantId: string; apiKey: string }>;
  count(): Promise<number>;
  /** The tenant's limit settings (empty: the operator's values). */
  getLimits(tenantId: string): Promise<TenantLimitSettings>;
  /** Replaces the tenant's limit settings (already checked against the operator's bounds). @throws NotFoundError */
  setLimits(tenantId: string, limits: TenantLimitSettings): Promise<void>;
}

export interface TenantsOptions {
  /**
   * How long a tenant's settings are reused before they are read again, ms. A change made
   * through this process is seen at once; through another gateway process, within this long.
   * @default 5000
   */
  settingsCacheMs?: number;
}

export function createTenants(store: DocumentStore, clock: () => number, options: TenantsOptions = {}): Tenants {
  const cache = new Map<string, string>();
  const settingsCacheMs = options.settingsCacheMs ?? 5_000;
  const settings = new Map<string, { limits: TenantLimitSettings; until: number }>();
  return {
    async ensureCollections() {
      await store.ensureCollection(TENANTS, []);
      await store.ensureCollection(KEYS, [{ fields: ['tenantId'] }]);
    },
    async authenticate(key) {
      const h = hash(key);
      const hit = cache.get(h);
      if (hit) return hit;
      const doc = await store.get<KeyDoc>(KEYS, h);
      if (doc) cache.set(h, doc.doc.tenantId);
      return doc?.doc.tenantId;
    },
    async create(name, tenantId = newId('tnt'), limits) {
      const apiKey = `csk_${randomBytes(24).toString('base64url')}`;
      await store.put<TenantDoc>(TENANTS, tenantId, { tenantId, name, createdAt: clock(), ...(limits ? { limits } : {}) });
      await store.put<KeyDoc>(KEYS, hash(apiKey), { tenantId, createdAt: clock() });
      return { tenantId, apiKey };
    },
    async count() {
      return (await store.find(TENANTS, { limit: 1 })).length;
    },
    async getLimits(tenantId) {
      const hit = settings.get(tenantId);
      if (hit && hit.until > clock()) return hit.limits;
      const doc = await store.get<TenantDoc>(TENANTS, tenantId);
      const limits = doc?.doc.limits ?? {};
      settings.set(tenantId, { limits, until: clock() + settingsCacheMs });
      return limits;
    },
    async setLimits(tenantId, limits) {
      const doc = await store.get<TenantDoc>(TENANTS, tenantId);
      if (!doc) throw new NotFoundError(`tenant ${tenantId} not found`);
      await store.put<TenantDoc>(TENANTS, tenantId, { ...doc.doc, limits, updatedAt: clock() });
      settings.set(tenantId, { limits, until: clock() + settingsCacheMs });
    },
  };
}
