/**
 * Reads by id that arrive together go to the store together. The first read of a collection
 * (per tenant) goes out at once; reads asked for while it is in flight wait for it and then go
 * out as one `getMany`. Each read is sent after its caller asked, so an answer is never older than
 * the call: a caller that wrote a document and then reads it sees its write. Under load, the
 * enrollments of one workflow arriving side by side read its head and status once per round trip
 * instead of once each.
 */
import { tenantScoped, type DocumentStore, type StoredDoc } from '@codestep/store';

type Waiter = { resolve(doc: StoredDoc<unknown> | null): void; reject(error: unknown): void };

export type BatchedGet = <T>(tenantId: string, collection: string, id: string) => Promise<StoredDoc<T> | null>;

export function batchedGets(store: DocumentStore): BatchedGet {
  /** Per tenant and collection: whether a read is in flight, and the reads waiting for the next. */
  const lanes = new Map<string, { busy: boolean; waiting: Map<string, Waiter[]> }>();

  async function drain(tenantId: string, collection: string, lane: { busy: boolean; waiting: Map<string, Waiter[]> }, key: string): Promise<void> {
    lane.busy = true;
    try {
      while (lane.waiting.size > 0) {
        const batch = lane.waiting;
        lane.waiting = new Map();
        try {
          const found = await tenantScoped(store, tenantId).getMany<unknown>(collection, [...batch.keys()]);
          for (const [id, waiters] of batch) for (const w of waiters) w.resolve(found.get(id) ?? null);
        } catch (error) {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
        }
      }
    } finally {
      lane.busy = false;
      lanes.delete(key);
    }
  }

  return <T>(tenantId: string, collection: string, id: string) =>
    new Promise<StoredDoc<T> | null>((resolve, reject) => {
      // tenantScoped validates the tenant id before anything waits on it.
      tenantScoped(store, tenantId);
      const key = `${tenantId}\u0000${collection}`;
      let lane = lanes.get(key);
      if (!lane) {
        lane = { busy: false, waiting: new Map() };
        lanes.set(key, lane);
      }
      const waiters = lane.waiting.get(id) ?? [];
      waiters.push({ resolve: resolve as Waiter['resolve'], reject });
      lane.waiting.set(id, waiters);
      if (!lane.busy) void drain(tenantId, collection, lane, key);
    });
}
