/**
 * The document store contract and MongoDB specifics against a real MongoDB-wire server
 * (`MONGODB_URI`, e.g. FerretDB from `eval "$(infra/local/up.sh)"`). Skipped when it is unset.
 * Each run works in a database of its own and drops it at the end.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { storeContract, type StoredDoc } from '@codestep/store';
import { MongoClient, type Document } from 'mongodb';
import { MongoStore } from './mongo.store.ts';

const uri = process.env.MONGODB_URI;

if (!uri) {
  void describe('MongoStore against a real server', () => {
    void it('needs MONGODB_URI', { skip: 'MONGODB_URI is not set; run eval "$(infra/local/up.sh)" first' }, () => {});
  });
} else {
  const database = `codestep_test_${randomUUID().slice(0, 8)}`;
  const admin = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  // Closed here rather than in each test, so that a failed assertion leaves no client open.
  const stores: MongoStore[] = [];
  const open = async () => {
    const store = new MongoStore({ uri, database });
    stores.push(store);
    return store;
  };
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await admin.db(database).dropDatabase();
    await admin.close();
  });

  storeContract('MongoDB', { open });

  void describe('MongoStore specifics', () => {
    let isFerret = false;
    before(async () => {
      const info = await admin.db('admin').command({ buildInfo: 1 });
      isFerret = 'ferretdbVersion' in info;
    });

    void it('creates the declared indexes on the document fields', async () => {
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }, { fields: ['email'], unique: true }]);
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }, { fields: ['email'], unique: true }]);
      const indexes = (await admin.db(database).collection(c).listIndexes().toArray()) as Document[];
      const byName = new Map(indexes.map((ix) => [ix.name as string, ix]));
      assert.deepEqual(byName.get('by_tenantId_n')?.key, { 'd.tenantId': 1, 'd.n': 1, _id: 1 });
      assert.deepEqual(byName.get('by_email_unique')?.key, { 'd.email': 1 });
      assert.equal(byName.get('by_email_unique')?.unique, true);
    });

    void it('refuses a second document with the same value under a unique index', async () => {
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['email'], unique: true }]);
      await store.put(c, 'a', { email: 'x@example.com' });
      await assert.rejects(store.put(c, 'b', { email: 'x@example.com' }), { code: 'ALREADY_EXISTS' });
      await assert.rejects(store.insertIfAbsent(c, 'c', { email: 'x@example.com' }), { code: 'ALREADY_EXISTS' });
      await assert.rejects(store.writeVersioned(c, [{ id: 'd', version: 1, doc: { email: 'x@example.com' } }]), { code: 'ALREADY_EXISTS' });
      assert.equal(await store.insertIfAbsent(c, 'a', { email: 'other@example.com' }), false);
    });

    void it('keeps the highest version when many writers race on one new document', async () => {
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, []);
      const versions = Array.from({ length: 30 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      await Promise.all(versions.map((v) => store.writeVersioned(c, [{ id: 'x', version: v, doc: { v } }])));
      const stored = await store.get<{ v: number }>(c, 'x');
      assert.deepEqual(stored, { id: 'x', version: 30, doc: { v: 30 } });
    });

    void it('writes a large batch in one call and skips the writes that are not newer', async () => {
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }]);
      // Over 100 writes: FerretDB deadlocks on one command of ~100 updates unless they are split.
      const batch = (version: number) => Array.from({ length: 200 }, (_, i) => ({ id: `d${i}`, version: version + (i % 2), doc: { tenantId: 't', n: i, version } }));
      await store.writeVersioned(c, batch(10));
      await store.writeVersioned(c, batch(10.5)); // odd ids: 11.5 > 11 lands; even ids: 10.5 > 10 lands
      await store.writeVersioned(c, batch(1)); // every write older: nothing changes, no error
      const all = await store.find<{ n: number; version: number }>(c, { where: { tenantId: 't' }, orderBy: { field: 'n', direction: 'asc' } });
      assert.equal(all.length, 200);
      assert.ok(all.every((d) => d.doc.version === 10.5));
      assert.deepEqual(
        all.slice(0, 3).map((d) => d.doc.n),
        [0, 1, 2],
      );
    });

    void it('leaves out undefined fields and matches a missing field when asked for null', async () => {
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['owner'] }]);
      await store.put(c, 'a', { owner: undefined, n: 1 });
      await store.put(c, 'b', { owner: 'bob', n: 2 });
      const a = (await store.get(c, 'a')) as StoredDoc<Record<string, unknown>>;
      assert.equal('owner' in a.doc, false);
      assert.deepEqual(
        (await store.find(c, { where: { owner: null } })).map((d) => d.id),
        ['a'],
      );
      assert.deepEqual((await store.find(c, { where: { owner: 'bob' }, limit: 0 })).length, 0);
    });

    void it('replaces a document by one whose fields differ only in their names', async () => {
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, []);
      await store.put(c, 'a', { x: 1 });
      await store.put(c, 'a', { y: 1 });
      assert.deepEqual(await store.get(c, 'a'), { id: 'a', version: 2, doc: { y: 1 } });
      assert.equal(await store.compareAndSet(c, 'a', 2, { z: 1 }), true);
      assert.deepEqual(await store.get(c, 'a'), { id: 'a', version: 3, doc: { z: 1 } });
      await store.writeVersioned(c, [{ id: 'a', version: 9, doc: { w: 1 } }]);
      assert.deepEqual(await store.get(c, 'a'), { id: 'a', version: 9, doc: { w: 1 } });
    });

    void it('lets one of many compare-and-set calls from separate clients win, round after round', async () => {
      // FerretDB v1 checks a conditional update and writes it in two steps; the adapter's
      // recorded transitions (a unique _id insert) keep compare-and-set atomic across clients.
      const clients = await Promise.all(Array.from({ length: 5 }, () => open()));
      for (let round = 0; round < 20; round++) {
        const c = `c${randomUUID().slice(0, 8)}`;
        await clients[0]!.ensureCollection(c, []);
        assert.equal(await clients[0]!.compareAndSet(c, 'lease', 0, { owner: 'first' }), true);
        const wins = await Promise.all(clients.flatMap((s, i) => Array.from({ length: 4 }, (_, j) => s.compareAndSet(c, 'lease', 1, { owner: `${i}-${j}` }))));
        assert.equal(wins.filter(Boolean).length, 1, `round ${round}`);
      }
    });

    void it('counts without a lost update across clients and keeps no transition records afterwards', async () => {
      const clients = await Promise.all(Array.from({ length: 3 }, () => open()));
      const c = `c${randomUUID().slice(0, 8)}`;
      await clients[0]!.ensureCollection(c, []);
      await clients[0]!.put(c, 'counter', { n: 0 });
      await Promise.all(
        clients.map(async (store) => {
          for (let done = 0; done < 10;) {
            const current = (await store.get<{ n: number }>(c, 'counter'))!;
            if (await store.compareAndSet(c, 'counter', current.version, { n: current.doc.n + 1 })) done++;
          }
        }),
      );
      const final = await clients[0]!.get<{ n: number }>(c, 'counter');
      assert.equal(final!.doc.n, 30);
      assert.equal(final!.version, 31);
      await clients[1]!.put(c, 'counter', { n: -1 });
      assert.equal(await admin.db(database).collection(`${c}__transitions`).countDocuments({}), 0, 'each transition record is dropped once its write is answered');
    });

    void it('given a transition recorded by a caller that died before writing, takes it over once it is stale: after the bound of its collection, else after 30 s', async () => {
      const leases = `c${randomUUID().slice(0, 8)}`;
      const other = `c${randomUUID().slice(0, 8)}`;
      const store = new MongoStore({ uri, database, staleTransitionMs: { [leases]: 1_000 } });
      stores.push(store);
      for (const c of [leases, other]) {
        await store.ensureCollection(c, []);
        assert.equal(await store.compareAndSet(c, 'lease', 0, { owner: 'dead' }), true);
        // The dead caller recorded its move to version 2, 1.5 s ago, and never wrote it.
        await admin
          .db(database)
          .collection<{ _id: string; v: number; d: number }>(`${c}__transitions`)
          .insertOne({ _id: 'lease\u00002', v: 1, d: Date.now() - 1_500 });
      }
      assert.equal(await store.compareAndSet(leases, 'lease', 1, { owner: 'reaper' }), true, "stale after the collection's bound");
      assert.deepEqual((await store.get(leases, 'lease'))?.doc, { owner: 'reaper' });
      assert.equal(await store.compareAndSet(other, 'lease', 1, { owner: 'reaper' }), false, 'another collection waits the default 30 s');
    });

    void it('matches string equality the MongoDB way, through arrays on the path too (what infra/local FerretDB patch must keep)', async () => {
      const coll = admin.db(database).collection<{ _id: string }>(`c${randomUUID().slice(0, 8)}`);
      const odd = 'x<>&é"\\\u2028';
      await coll.insertMany([
        { _id: 'plain', d: { s: 'x' } },
        { _id: 'in-array', d: { s: ['y', 'x'] } },
        { _id: 'docs-in-array', d: [{ s: 'z' }, { s: 'x' }] },
        { _id: 'nested-arrays', d: [{ s: ['q', 'x'] }] },
        { _id: 'other', d: { s: 'y' } },
        { _id: 'sub-doc', d: { s: { t: 'x' } } },
        { _id: 'scalar-parent', d: 'x' },
        { _id: 'number', d: { s: 5 } },
        { _id: 'odd', d: { s: odd } },
        { _id: 'missing', d: {} },
      ] as never);
      const ids = async (filter: object) => (await coll.find(filter as never).toArray()).map((d) => d._id).sort();
      assert.deepEqual(await ids({ 'd.s': 'x' }), ['docs-in-array', 'in-array', 'nested-arrays', 'plain']);
      assert.deepEqual(await ids({ 'd.s': { $eq: 'x' } }), ['docs-in-array', 'in-array', 'nested-arrays', 'plain']);
      assert.deepEqual(await ids({ 'd.s': odd }), ['odd']);
      assert.deepEqual(await ids({ 'd.s': '5' }), []);
      assert.deepEqual(await ids({ 'd.s': 'x', _id: { $in: ['plain', 'other', 'docs-in-array'] } }), ['docs-in-array', 'plain']);
      assert.deepEqual(await ids({ d: 'x' }), ['scalar-parent']);
      assert.deepEqual(await ids({ 'd.s': 'x', 'd.t': 'x' }), []);
      if (isFerret) {
        // The patched FerretDB narrows in SQL (explain says so); upstream decodes every row in Go.
        const plan = (await coll.find({ 'd.s': 'x' } as never).explain('queryPlanner')) as unknown as { filterPushdown?: boolean };
        assert.equal(plan.filterPushdown, true);
      }
    });

    void it('matches boolean equality the MongoDB way too (the lease reapers ask for leaseOpen: true; infra/local FerretDB pushes it down)', async () => {
      const coll = admin.db(database).collection<{ _id: string }>(`c${randomUUID().slice(0, 8)}`);
      await coll.insertMany([
        { _id: 'true', d: { b: true } },
        { _id: 'false', d: { b: false } },
        { _id: 'in-array', d: { b: [false, true] } },
        { _id: 'docs-in-array', d: [{ b: false }, { b: true }] },
        { _id: 'string', d: { b: 'true' } },
        { _id: 'number', d: { b: 1 } },
        { _id: 'missing', d: {} },
      ] as never);
      const ids = async (filter: object) => (await coll.find(filter as never).toArray()).map((d) => d._id).sort();
      assert.deepEqual(await ids({ 'd.b': true }), ['docs-in-array', 'in-array', 'true']);
      assert.deepEqual(await ids({ 'd.b': { $eq: true } }), ['docs-in-array', 'in-array', 'true']);
      assert.deepEqual(await ids({ 'd.b': false }), ['docs-in-array', 'false', 'in-array']);
      assert.deepEqual(await ids({ 'd.b': 'true' }), ['string']);
      if (isFerret) {
        const plan = (await coll.find({ 'd.b': true } as never).explain('queryPlanner')) as unknown as { filterPushdown?: boolean };
        assert.equal(plan.filterPushdown, true, 'a FerretDB built before the boolean pushdown: restart it with infra/local/ferretdb.sh stop; start (it rebuilds)');
      }
    });

    void it('looks documents up by id through the _id index in every shape the adapter sends', async () => {
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, []);
      await store.writeVersioned(
        c,
        Array.from({ length: 20 }, (_, i) => ({ id: `x${i}`, version: 1, doc: { n: i } })),
      );
      const coll = admin.db(database).collection<{ _id: string }>(c);
      // get, getMany / writeVersioned's version read, and the version-guarded replace.
      for (const filter of [{ _id: 'x3' }, { _id: { $in: ['x3', 'x7'] } }, { _id: 'x3', v: { $lt: 2 } }]) {
        const plan = JSON.stringify(await coll.find(filter as never).explain('queryPlanner'));
        if (isFerret) {
          // FerretDB v1 + SQLite scans the table unless infra/local's patch is applied (see
          // infra/README.md): the plan is SQLite's EXPLAIN QUERY PLAN.
          assert.match(plan, /SEARCH \S+ USING INDEX \S+__id_/, `${JSON.stringify(filter)}: ${plan}`);
        } else {
          assert.match(plan, /IDHACK|EXPRESS_IXSCAN|IXSCAN|CLUSTERED_IXSCAN/, `${JSON.stringify(filter)}: ${plan}`);
          assert.doesNotMatch(plan, /COLLSCAN/, `${JSON.stringify(filter)}: ${plan}`);
        }
      }
      assert.deepEqual([...(await store.getMany(c, ['x3', 'x7', 'nope'])).keys()].sort(), ['x3', 'x7']);
    });

    void it('answers an ordered, filtered find from the index without an in-memory sort', async (t) => {
      if (isFerret) {
        // FerretDB v1 over SQLite evaluates filters and sorts on doc fields itself; only real
        // MongoDB has a query planner to check.
        t.skip('the server is FerretDB: its plans do not use secondary indexes');
        return;
      }
      const store = await open();
      const c = `c${randomUUID().slice(0, 8)}`;
      await store.ensureCollection(c, [{ fields: ['tenantId', 'n'] }]);
      await store.writeVersioned(
        c,
        Array.from({ length: 50 }, (_, i) => ({ id: `x${i}`, version: 1, doc: { tenantId: `t${i % 5}`, n: i } })),
      );
      const plan = JSON.stringify(await admin.db(database).collection(c).find({ 'd.tenantId': 't1' }).sort({ 'd.n': -1, _id: -1 }).limit(3).explain('queryPlanner'));
      assert.match(plan, /IXSCAN/);
      assert.doesNotMatch(plan, /"stage":"SORT"/);
      assert.doesNotMatch(plan, /COLLSCAN/);
    });
  });
}
