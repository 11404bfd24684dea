/**
 * Tenants and their API keys. Keys are random, shown once, and stored only as SHA-256 hashes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { newId } from '@codestep/core';
import type { DocumentStore } from '@codestep/store';

const TENANTS = 'tenants';
const KEYS = 'api_keys';

interface KeyDoc {
  tenantId: string;
  createdAt: number;
}

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

export interface Tenants {
  ensureCollections(): Promise<void>;
  authenticate(key: string): Promise<string | undefined>;
  /** Creates a tenant with one API key; returns the key (the only time it is visible). */
  create(name: string, tenantId?: string): Promise<{ tenantId: string; apiKey: string }>;
  count(): Promise<number>;
}

export function createTenants(store: DocumentStore, clock: () => number): Tenants {
  const cache = new Map<string, string>();
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
    async create(name, tenantId = newId('tnt')) {
      const apiKey = `csk_${randomBytes(24).toString('base64url')}`;
      await store.put(TENANTS, tenantId, { tenantId, name, createdAt: clock() });
      await store.put<KeyDoc>(KEYS, hash(apiKey), { tenantId, createdAt: clock() });
      return { tenantId, apiKey };
    },
    async count() {
      return (await store.find(TENANTS, { limit: 1 })).length;
    },
  };
}
