/** The contract every DocumentStore adapter honours, as a node:test suite. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DocumentStore } from './store.port.ts';
import { tenantScoped } from './tenant-scoped.store.ts';

export interface StoreFactory {
  open(): Promise<DocumentStore>;
}

interface Item {
  tenantId: string;
  n: number;
  label: string;
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`DocumentStore contract: ${name}`, () => {
    it('keeps only the newest version of a document, whatever the order of writes', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }]);
      await store.writeVersioned<Item>(c, [{ id: 'a', version: 5, doc: { tenantId: 't', n: 5, label: 'five' } }]);
      await store.writeVersioned<Item>(c, [
        { id: 'a', version: 3, doc: { tenantId: 't', n: 3, label: 'three' } },
        { id: 'a', version: 5, doc: { tenantId: 't', n: 5, label: 'five again' } },
        { id: 'b', version: 1, doc: { tenantId: 't', n: 1, label: 'b' } },
      ]);
      const a = await store.get<Item>(c, 'a');
      assert.equal(a?.version, 5);
      assert.equal(a?.doc.label, 'five');
      await store.writeVersioned<Item>(c, [{ id: 'a', version: 6, doc: { tenantId: 't', n: 6, label: 'six' } }]);
      assert.equal((await store.get<Item>(c, 'a'))?.doc.label, 'six');
      assert.equal((await store.get<Item>(c, 'b'))?.doc.label, 'b');
      await store.close();
    });

    it('finds by equality with order and limit, and scopes by field', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }]);
      await store.writeVersioned<Item>(
        c,
        [1, 2, 3, 4].map((n) => ({ id: `x${n}`, version: 1, doc: { tenantId: n % 2 ? 'odd' : 'even', n, label: `l${n}` } })),
      );
      const odd = await store.find<Item>(c, { where: { tenantId: 'odd' }, orderBy: { field: 'n', direction: 'desc' } });
      assert.deepEqual(
        odd.map((d) => d.doc.n),
        [3, 1],
      );
      const firstEven = await store.find<Item>(c, { where: { tenantId: 'even' }, orderBy: { field: 'n', direction: 'asc' }, limit: 1 });
      assert.deepEqual(
        firstEven.map((d) => d.id),
        ['x2'],
      );
      const many = await store.getMany<Item>(c, ['x1', 'x4', 'missing']);
      assert.deepEqual([...many.keys()].sort(), ['x1', 'x4']);
      await store.close();
    });

    it('finds within a range of one field (lower bound inclusive, upper exclusive), with equality and order', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }]);
      await store.writeVersioned<Partial<Item>>(c, [
        ...[1, 2, 3, 4, 5, 6].map((n) => ({ id: `x${n}`, version: 1, doc: { tenantId: n === 6 ? 'other' : 't', n, label: `l${n}` } })),
        { id: 'none', version: 1, doc: { tenantId: 't', label: 'no n' } },
      ]);
      const ns = async (range: { gte?: number; lt?: number }) =>
        (await store.find<Item>(c, { where: { tenantId: 't' }, range: { field: 'n', ...range }, orderBy: { field: 'n', direction: 'desc' } })).map((d) => d.doc.n);
      assert.deepEqual(await ns({ gte: 2, lt: 5 }), [4, 3, 2]);
      assert.deepEqual(await ns({ gte: 4 }), [5, 4]);
      assert.deepEqual(await ns({ lt: 3 }), [2, 1]);
      assert.deepEqual(await ns({}), [5, 4, 3, 2, 1], 'no bound: every document that has the field');
      const page = await store.find<Item>(c, { where: { tenantId: 't' }, range: { field: 'n', lt: 5 }, orderBy: { field: 'n', direction: 'desc' }, limit: 2 });
      assert.deepEqual(
        page.map((d) => d.id),
        ['x4', 'x3'],
      );
      await store.close();
    });

    it('breaks ties of the order by id in the same direction (keyset paging resumes after field and id)', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }]);
      await store.writeVersioned<Item>(
        c,
        ['b', 'd', 'a', 'c'].map((id, i) => ({ id, version: 1, doc: { tenantId: 't', n: i < 3 ? 7 : 8, label: id } })),
      );
      const ids = async (direction: 'asc' | 'desc') => (await store.find<Item>(c, { where: { tenantId: 't' }, orderBy: { field: 'n', direction } })).map((d) => d.id);
      assert.deepEqual(await ids('desc'), ['c', 'd', 'b', 'a']);
      assert.deepEqual(await ids('asc'), ['a', 'b', 'd', 'c']);
      await store.close();
    });

    it('inserts if absent exactly once', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, []);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.insertIfAbsent(c, 'claim', { by: 'x' })));
      assert.equal(results.filter(Boolean).length, 1);
      await store.close();
    });

    it('lets exactly one of many concurrent compare-and-set calls win', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, []);
      assert.equal(await store.compareAndSet(c, 'lease', 0, { owner: 'first' }), true);
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet(c, 'lease', 1, { owner: `o${i}` })));
      assert.equal(wins.filter(Boolean).length, 1);
      const doc = await store.get<{ owner: string }>(c, 'lease');
      assert.equal(doc?.version, 2);
      await store.put(c, 'lease', { owner: 'forced' });
      assert.equal((await store.get<{ owner: string }>(c, 'lease'))?.version, 3);
      assert.equal(await store.delete(c, 'lease'), true);
      assert.equal(await store.get(c, 'lease'), null);
      await store.close();
    });

    it('clears a collection', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, []);
      await store.put(c, 'a', { x: 1 });
      await store.clear(c);
      assert.deepEqual(await store.find(c, {}), []);
      await store.close();
    });

    it('keeps any JSON field names, including ones starting with $ or holding dots', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId'] }]);
      const doc = { tenantId: 't', source: { $case: 'literal', value: 'x' }, 'a.b': [{ '~odd': 1, $x: { '.': true } }] };
      await store.writeVersioned(c, [{ id: 'k', version: 1, doc }]);
      await store.put(c, 'p', doc);
      assert.deepEqual((await store.get(c, 'k'))?.doc, doc);
      assert.deepEqual((await store.get(c, 'p'))?.doc, doc);
      assert.deepEqual(
        (await store.find(c, { where: { tenantId: 't' } })).map((d) => d.doc),
        [doc, doc],
      );
      await store.close();
    });
    it('scopes a tenant to its own documents: same ids for two tenants, no reads, writes or deletes across', async () => {
      const store = await factory.open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }]);
      const a = tenantScoped(store, 'tA');
      const b = tenantScoped(store, 'tB');
      await a.put(c, 'x', { n: 1, label: 'a' });
      await b.put(c, 'x', { n: 2, label: 'b' });
      await a.writeVersioned(c, [{ id: 'y', version: 3, doc: { n: 3, label: 'a' } }]);
      assert.equal(await b.insertIfAbsent(c, 'y', { n: 4, label: 'b' }), true, 'a tenant may use an id another tenant uses');
      assert.deepEqual((await a.get<Item>(c, 'x'))?.doc, { n: 1, label: 'a', tenantId: 'tA' });
      assert.equal((await a.get<Item>(c, 'x'))?.id, 'x');
      assert.deepEqual((await b.get<Item>(c, 'x'))?.doc, { n: 2, label: 'b', tenantId: 'tB' });
      assert.deepEqual([...(await a.getMany<Item>(c, ['x', 'y', 'z'])).keys()].sort(), ['x', 'y']);
      assert.deepEqual(
        (await a.find<Item>(c, { where: { tenantId: 'tB' }, orderBy: { field: 'n', direction: 'asc' } })).map((d) => d.doc.n),
        [1, 3],
        'a query naming another tenant still sees only its own',
      );
      assert.equal(await b.delete(c, 'x'), true);
      assert.equal((await a.get<Item>(c, 'x'))?.doc.n, 1, "deleting one tenant's id leaves the other's");
      const yA = await a.get<Item>(c, 'y');
      assert.equal(await b.compareAndSet(c, 'y', yA!.version, { n: 9, label: 'stolen' }), false, "a version seen in another tenant's document wins nothing");
      assert.equal((await a.get<Item>(c, 'y'))?.doc.n, 3);
      assert.throws(() => tenantScoped(store, ''), /tenant id is required/);
      assert.throws(() => tenantScoped(store, 'tA/x'), /may not contain/);
      await store.close();
    });
  });
}
