import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from '@codestep/store';
import { SqliteStore } from './sqlite.store.ts';

const dir = mkdtempSync(join(tmpdir(), 'codestep-store-'));
let n = 0;
storeContract('SQLite', { open: async () => new SqliteStore({ path: join(dir, `store-${n++}.db`) }) });

describe('SqliteStore batches', () => {
  it('given a batch whose third document cannot be written, then none of it is, and the next writes land', async () => {
    const store = new SqliteStore({ path: join(dir, `store-${n++}.db`) });
    await store.ensureCollection('items', [{ fields: ['n'] }]);
    const unwritable: { n: number | bigint } = { n: 3n }; // JSON.stringify throws on a BigInt
    await assert.rejects(
      store.writeVersioned('items', [
        { id: 'a', version: 1, doc: { n: 1 } },
        { id: 'b', version: 1, doc: { n: 2 } },
        { id: 'c', version: 1, doc: unwritable },
      ]),
      TypeError,
    );
    assert.equal((await store.find('items', {})).length, 0);
    await store.writeVersioned('items', [{ id: 'a', version: 2, doc: { n: 1 } }]);
    await store.writeVersioned('items', [
      { id: 'b', version: 1, doc: { n: 2 } },
      { id: 'c', version: 1, doc: { n: 3 } },
    ]);
    assert.deepEqual(
      (await store.find<{ n: number }>('items', { orderBy: { field: 'n', direction: 'asc' } })).map((d) => [d.id, d.version, d.doc.n]),
      [
        ['a', 2, 1],
        ['b', 1, 2],
        ['c', 1, 3],
      ],
    );
    await store.close();
  });
});

describe('SqliteStore indexed fields', () => {
  const values: Record<string, unknown> = {
    yes: true,
    no: false,
    nothing: null,
    zero: 0,
    int: 7,
    float: 7.5,
    text: 'b',
    numeric: '7',
    date: new Date(Date.UTC(2026, 0, 2)),
    nested: { a: 1 },
    list: [1, 2],
    nan: Number.NaN,
  };
  const queries = [
    { where: { f: true } },
    { where: { f: false } },
    { where: { f: null } },
    { where: { f: 7 } },
    { where: { f: '7' } },
    { where: { f: 0 } },
    { where: { f: '2026-01-02T00:00:00.000Z' } },
    { range: { field: 'f', gte: 1 } },
    { range: { field: 'f', gte: 'a', lt: 'c' } },
    { range: { field: 'f' } },
    { orderBy: { field: 'f', direction: 'asc' as const } },
    { orderBy: { field: 'f', direction: 'desc' as const }, limit: 5 },
  ];

  it('given documents of every JSON type in an indexed field, then find matches and orders them as over the unindexed field', async () => {
    const store = new SqliteStore({ path: join(dir, `store-${n++}.db`) });
    await store.ensureCollection('indexed', [{ fields: ['f', 'g'] }]);
    await store.ensureCollection('plain', []);
    for (const c of ['indexed', 'plain']) {
      await store.writeVersioned(
        c,
        Object.entries(values).map(([id, f]) => ({ id, version: 1, doc: { f, g: 1 } })),
      );
      await store.put(c, 'missing', { g: 1 });
      await store.insertIfAbsent(c, 'inserted', { f: true, g: 2 });
      await store.put(c, 'changed', { f: 1, g: 1 });
      await store.compareAndSet(c, 'changed', 1, { f: 'moved', g: 3 });
    }
    for (const query of queries) {
      // Without an order, rows come in whatever order the plan reads them.
      const ids = async (c: string) => {
        const found = (await store.find(c, query)).map((d) => d.id);
        return 'orderBy' in query ? found : found.sort();
      };
      assert.deepEqual(await ids('indexed'), await ids('plain'), JSON.stringify(query));
    }
    assert.deepEqual(
      (await store.find('indexed', { where: { f: true, g: 2 } })).map((d) => d.id),
      ['inserted'],
    );
    assert.deepEqual(
      (await store.find('indexed', { where: { f: 'moved' } })).map((d) => [d.id, d.version]),
      [['changed', 2]],
    );
    await store.close();
  });

  it('given a file written with expression indexes (the layout before), then opening it moves the fields to indexed columns, and finds and writes go on', async () => {
    const path = join(dir, `store-${n++}.db`);
    // What the store wrote before: the document only, indexes over json_extract.
    const old = new DatabaseSync(path);
    old.exec('PRAGMA journal_mode = WAL');
    old.exec('CREATE TABLE c_runs (id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL)');
    old.exec(`CREATE INDEX c_runs_tenantId_startedAt ON c_runs (json_extract(doc, '$.tenantId'), json_extract(doc, '$.startedAt'))`);
    old.exec(`CREATE INDEX c_runs_open ON c_runs (json_extract(doc, '$.open'))`);
    const insert = old.prepare('INSERT INTO c_runs (id, version, doc) VALUES (?, ?, ?)');
    for (let i = 0; i < 30; i++) insert.run(`r${i}`, 2, JSON.stringify({ tenantId: `t${i % 3}`, startedAt: 1000 + i, open: i % 2 === 0, label: `run ${i}` }));
    old.close();

    const store = new SqliteStore({ path });
    await store.ensureCollection('runs', [{ fields: ['tenantId', 'startedAt'] }, { fields: ['open'] }]);
    const newest = await store.find<{ startedAt: number }>('runs', { where: { tenantId: 't1' }, orderBy: { field: 'startedAt', direction: 'desc' }, limit: 3 });
    assert.deepEqual(
      newest.map((d) => [d.id, d.version, d.doc.startedAt]),
      [
        ['r28', 2, 1028],
        ['r25', 2, 1025],
        ['r22', 2, 1022],
      ],
    );
    assert.equal((await store.find('runs', { where: { open: true } })).length, 15);
    await store.writeVersioned('runs', [{ id: 'r28', version: 3, doc: { tenantId: 't1', startedAt: 2000, open: false, label: 'later' } }]);
    assert.equal((await store.find('runs', { where: { tenantId: 't1' }, orderBy: { field: 'startedAt', direction: 'desc' }, limit: 1 }))[0]?.id, 'r28');
    assert.equal((await store.find('runs', { where: { open: true } })).length, 14);
    await store.close();

    const after = new DatabaseSync(path);
    const indexes = after.prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'c_runs' AND sql IS NOT NULL ORDER BY name`).all() as Array<{ name: string; sql: string }>;
    assert.deepEqual(
      indexes.map((i) => i.name),
      ['ix_c_runs_open', 'ix_c_runs_tenantId_startedAt'],
    );
    assert.ok(indexes.every((i) => !i.sql.includes('json_extract')));
    const plan = after.prepare(`EXPLAIN QUERY PLAN SELECT id FROM c_runs WHERE f_tenantId = 't1' ORDER BY f_startedAt DESC LIMIT 3`).all() as Array<{ detail: string }>;
    assert.match(plan.map((p) => p.detail).join('\n'), /USING INDEX ix_c_runs_tenantId_startedAt/);
    after.close();
  });

  it('given an older version wrote documents without the columns after the move, then the next open fills them again', async () => {
    const path = join(dir, `store-${n++}.db`);
    const store = new SqliteStore({ path });
    await store.ensureCollection('runs', [{ fields: ['tenantId'] }]);
    await store.put('runs', 'a', { tenantId: 't' });
    await store.close();
    // An older version: it writes the document only and creates its expression index again.
    const old = new DatabaseSync(path);
    old.exec(`CREATE INDEX IF NOT EXISTS c_runs_tenantId ON c_runs (json_extract(doc, '$.tenantId'))`);
    old.prepare('INSERT INTO c_runs (id, version, doc) VALUES (?, 1, ?)').run('b', JSON.stringify({ tenantId: 't' }));
    old.close();
    const again = new SqliteStore({ path });
    await again.ensureCollection('runs', [{ fields: ['tenantId'] }]);
    assert.deepEqual(
      (await again.find('runs', { where: { tenantId: 't' } })).map((d) => d.id),
      ['a', 'b'],
    );
    await again.close();
  });

  it('given a second store on the file that never declared the collection, then its writes fill the indexed columns', async () => {
    const path = join(dir, `store-${n++}.db`);
    const first = new SqliteStore({ path });
    await first.ensureCollection('runs', [{ fields: ['tenantId'] }]);
    const second = new SqliteStore({ path });
    await second.put('runs', 'a', { tenantId: 't' });
    await second.writeVersioned('runs', [{ id: 'b', version: 1, doc: { tenantId: 't' } }]);
    assert.deepEqual(
      (await first.find('runs', { where: { tenantId: 't' } })).map((d) => d.id),
      ['a', 'b'],
    );
    await Promise.all([first.close(), second.close()]);
  });
});

describe('SqliteStore commits per turn', () => {
  const committed = (path: string) => {
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      return (reader.prepare('SELECT id FROM c_items ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
    } finally {
      reader.close();
    }
  };

  it('given writes made in one turn, then none is committed before the end of the turn, and each resolves once all are', async () => {
    const path = join(dir, `store-${n++}.db`);
    const store = new SqliteStore({ path });
    await store.ensureCollection('items', [{ fields: ['n'] }]);
    const writes = [store.put('items', 'a', { n: 1 }), store.insertIfAbsent('items', 'b', { n: 2 }), store.writeVersioned('items', [{ id: 'c', version: 1, doc: { n: 3 } }])];
    assert.deepEqual(committed(path), [], 'nothing committed during the turn');
    let settled = false;
    void Promise.all(writes).then(() => (settled = true));
    await Promise.resolve();
    assert.equal(settled, false, 'not answered before the commit');
    await Promise.all(writes);
    assert.deepEqual(committed(path), ['a', 'b', 'c']);
    await store.close();
  });

  it('given a read made after a write of the same turn, then it sees the write and is answered once it is committed', async () => {
    const path = join(dir, `store-${n++}.db`);
    const store = new SqliteStore({ path });
    await store.ensureCollection('items', [{ fields: ['n'] }]);
    const order: string[] = [];
    const write = store.put('items', 'a', { n: 1 }).then(() => order.push('put'));
    const read = store.get<{ n: number }>('items', 'a').then((d) => (order.push('get'), d));
    const found = store.find('items', { where: { n: 1 } });
    assert.equal((await read)?.doc.n, 1);
    assert.deepEqual(
      (await found).map((d) => d.id),
      ['a'],
    );
    await write;
    assert.deepEqual(order, ['put', 'get']);
    assert.deepEqual(committed(path), ['a']);
    await store.close();
  });

  it('given compare-and-set calls of one turn on one document, then they are decided in the order made', async () => {
    const store = new SqliteStore({ path: join(dir, `store-${n++}.db`) });
    await store.ensureCollection('items', []);
    const results = await Promise.all([
      store.compareAndSet('items', 'lease', 0, { owner: 'a' }),
      store.compareAndSet('items', 'lease', 0, { owner: 'b' }),
      store.compareAndSet('items', 'lease', 1, { owner: 'c' }),
      store.compareAndSet('items', 'lease', 1, { owner: 'd' }),
    ]);
    assert.deepEqual(results, [true, false, true, false]);
    assert.deepEqual(await store.get('items', 'lease'), { id: 'lease', version: 2, doc: { owner: 'c' } });
    await store.close();
  });

  it('given one write of a turn fails, then it alone is rejected and the others of the turn are committed', async () => {
    const path = join(dir, `store-${n++}.db`);
    const store = new SqliteStore({ path });
    await store.ensureCollection('items', [{ fields: ['n'] }]);
    const unwritable: { n: number | bigint } = { n: 3n };
    const outcomes = await Promise.allSettled([
      store.put('items', 'a', { n: 1 }),
      store.writeVersioned('items', [
        { id: 'b', version: 1, doc: { n: 2 } },
        { id: 'c', version: 1, doc: unwritable },
      ]),
      store.put('items', 'd', unwritable),
      store.put('items', 'e', { n: 5 }),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(committed(path), ['a', 'e'], 'the failed batch left nothing of itself');
    await store.close();
  });

  it('given two stores of one thread on one file writing in the same turn, then neither waits for the lock the other holds', async () => {
    const path = join(dir, `store-${n++}.db`);
    const first = new SqliteStore({ path });
    const second = new SqliteStore({ path });
    await first.ensureCollection('items', []);
    // Waiting would end in "database is locked" after the busy timeout: the thread holding the lock is the one waiting.
    await Promise.all([first.put('items', 'a', { n: 1 }), second.put('items', 'b', { n: 2 }), first.put('items', 'c', { n: 3 })]);
    assert.deepEqual(committed(path), ['a', 'b', 'c']);
    await Promise.all([first.close(), second.close()]);
  });

  it('given writes not yet committed when the store is closed, then they are committed', async () => {
    const path = join(dir, `store-${n++}.db`);
    const store = new SqliteStore({ path });
    await store.ensureCollection('items', []);
    const write = store.put('items', 'a', { n: 1 });
    await store.close();
    await write;
    assert.deepEqual(committed(path), ['a']);
  });
});
