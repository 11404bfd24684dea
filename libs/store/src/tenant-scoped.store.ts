/**
 * Tenancy as one mechanism: a view of a document store limited to one tenant, built like
 * `namespacedEventLog`. Ids are the tenant's own on the way in and out; underneath each is
 * stored as `<tenantId>/<id>` and every document carries `tenantId`. A service that holds a
 * `TenantStore` cannot name another tenant's document: `get` of another tenant's id is simply
 * absent, `find` is filtered by tenant, writes stamp the tenant.
 *
 * Collections that are not per tenant (claims, leases, timers) use the plain store.
 */
import type { DocumentStore, Query, StoredDoc } from './store.port.ts';

/**
 * A document store limited to one tenant: the document methods of {@link DocumentStore}, same
 * contract, over the tenant's own ids (`find`'s `where.tenantId` is always this tenant's).
 */
export type TenantStore = Pick<DocumentStore, 'get' | 'getMany' | 'find' | 'writeVersioned' | 'insertIfAbsent' | 'compareAndSet' | 'put' | 'delete'> & { readonly tenantId: string };

/** The stored id of a tenant's document (what the plain store sees). */
export function tenantKey(tenantId: string, id: string): string {
  return `${tenantId}/${id}`;
}

/** Where the plain store is written by one component for many tenants (projections), the same key rule. */
export function stampTenant<T>(tenantId: string, doc: T): T & { tenantId: string } {
  return { ...doc, tenantId };
}

/**
 * Limits `store` to `tenantId`. Throws on an empty or malformed tenant id: an unscoped read must
 * never be the result of a missing id.
 */
export function tenantScoped(store: DocumentStore, tenantId: string): TenantStore {
  if (!tenantId || tenantId.includes('/')) throw new TypeError(`tenantScoped: a tenant id is required and may not contain "/" (got ${JSON.stringify(tenantId)})`);
  const prefix = `${tenantId}/`;
  const key = (id: string) => prefix + id;
  const own = <T>(d: StoredDoc<T>): StoredDoc<T> | null => {
    if (!d.id.startsWith(prefix) || (d.doc as { tenantId?: unknown } | null)?.tenantId !== tenantId) return null;
    return { ...d, id: d.id.slice(prefix.length) };
  };
  return {
    tenantId,
    async get<T>(collection: string, id: string) {
      const d = await store.get<T>(collection, key(id));
      return d ? own(d) : null;
    },
    async getMany<T>(collection: string, ids: string[]) {
      const found = await store.getMany<T>(collection, ids.map(key));
      const out = new Map<string, StoredDoc<T>>();
      for (const d of found.values()) {
        const mine = own(d);
        if (mine) out.set(mine.id, mine);
      }
      return out;
    },
    async find<T>(collection: string, query: Query) {
      const docs = await store.find<T>(collection, { ...query, where: { ...query.where, tenantId } });
      return docs.map((d) => own(d)).filter((d): d is StoredDoc<T> => d !== null);
    },
    writeVersioned: (collection, writes) =>
      store.writeVersioned(
        collection,
        writes.map((w) => ({ id: key(w.id), version: w.version, doc: stampTenant(tenantId, w.doc) })),
      ),
    insertIfAbsent: (collection, id, doc) => store.insertIfAbsent(collection, key(id), stampTenant(tenantId, doc)),
    compareAndSet: (collection, id, expectedVersion, doc) => store.compareAndSet(collection, key(id), expectedVersion, stampTenant(tenantId, doc)),
    put: (collection, id, doc) => store.put(collection, key(id), stampTenant(tenantId, doc)),
    delete: (collection, id) => store.delete(collection, key(id)),
  };
}
