import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { batchedGets } from './batched-reads.ts';

/** A store whose getMany calls are recorded and held until released, one by one. */
async function gatedStore() {
  const store = new SqliteStore({ path: ':memory:' });
  await store.ensureCollection('heads', []);
  const calls: string[][] = [];
  const gates: Array<() => void> = [];
  let failNext = false;
  const gated: DocumentStore = Object.create(store) as DocumentStore;
  gated.getMany = async <T>(collection: string, ids: string[]) => {
    calls.push(ids);
    await new Promise<void>((release) => gates.push(release));
    if (failNext) {
      failNext = false;
      throw new Error('store away');
    }
    return store.getMany<T>(collection, ids);
  };
  const releaseNext = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { store, gated, calls, releaseNext, failOnce: () => (failNext = true) };
}

describe('batched reads', () => {
  it('sends the first read at once and the reads asked while it is in flight together in one getMany', async () => {
    const { store, gated, calls, releaseNext } = await gatedStore();
    await store.insertIfAbsent('heads', 't1/a', { tenantId: 't1', version: 1 });
    await store.insertIfAbsent('heads', 't1/b', { tenantId: 't1', version: 2 });
    const get = batchedGets(gated);
    const first = get<{ version: number }>('t1', 'heads', 'a');
    const rest = [get<{ version: number }>('t1', 'heads', 'b'), get<{ version: number }>('t1', 'heads', 'a'), get<{ version: number }>('t1', 'heads', 'missing')];
    await releaseNext();
    await releaseNext();
    assert.equal((await first)?.doc.version, 1);
    const [b, a, missing] = await Promise.all(rest);
    assert.deepEqual([b?.doc.version, a?.doc.version, missing], [2, 1, null]);
    assert.deepEqual(calls, [['t1/a'], ['t1/b', 't1/a', 't1/missing']]);
  });

  it('never answers a read with what was read before it was asked: a write then a read sees the write', async () => {
    const { store, gated, releaseNext } = await gatedStore();
    await store.insertIfAbsent('heads', 't1/a', { tenantId: 't1', version: 1 });
    const get = batchedGets(gated);
    const inFlight = get<{ version: number }>('t1', 'heads', 'a');
    await store.compareAndSet('heads', 't1/a', 1, { tenantId: 't1', version: 2 });
    const after = get<{ version: number }>('t1', 'heads', 'a');
    await releaseNext();
    await releaseNext();
    assert.equal((await after)?.doc.version, 2);
    assert.ok([1, 2].includes((await inFlight)!.doc.version));
  });

  it('keeps tenants apart, fails only the reads of a failed batch, and refuses a read without a tenant', async () => {
    const { store, gated, calls, releaseNext, failOnce } = await gatedStore();
    await store.insertIfAbsent('heads', 't2/a', { tenantId: 't2', version: 5 });
    const get = batchedGets(gated);
    const mine = get('t1', 'heads', 'a');
    const theirs = get<{ version: number }>('t2', 'heads', 'a');
    await releaseNext();
    await releaseNext();
    assert.equal(await mine, null);
    assert.equal((await theirs)?.doc.version, 5);
    assert.deepEqual(calls, [['t1/a'], ['t2/a']], 'one lane per tenant');
    failOnce();
    const failed = get('t2', 'heads', 'a');
    await releaseNext();
    await assert.rejects(failed, /store away/);
    const again = get<{ version: number }>('t2', 'heads', 'a');
    await releaseNext();
    assert.equal((await again)?.doc.version, 5);
    await assert.rejects(get('', 'heads', 'a'), TypeError);
  });
});
