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

  it('given a second store that used the collection before another added its indexed fields, then its writes fill the new columns and finds on either are right', async () => {
    const path = join(dir, `store-${n++}.db`);
    const second = new SqliteStore({ path });
    await second.put('claims', 'a', { leaseOpen: true }); // it knows the collection without columns
    // Another process migrates the file meanwhile (`codestep tenants create` while the platform runs).
    const first = new SqliteStore({ path });
    await first.ensureCollection('claims', [{ fields: ['leaseOpen'] }]);
    await second.put('claims', 'b', { leaseOpen: true });
    await second.compareAndSet('claims', 'a', 1, { leaseOpen: false });
    await second.insertIfAbsent('claims', 'c', { leaseOpen: true });
    await second.writeVersioned('claims', [
      { id: 'd', version: 1, doc: { leaseOpen: true } },
      { id: 'e', version: 1, doc: { leaseOpen: false } },
    ]);
    for (const store of [first, second]) {
      assert.deepEqual(
        (await store.find('claims', { where: { leaseOpen: true } })).map((d) => d.id),
        ['b', 'c', 'd'],
      );
      assert.deepEqual(
        (await store.find('claims', { where: { leaseOpen: false } })).map((d) => d.id),
        ['a', 'e'],
      );
    }
    await Promise.all([first.close(), second.close()]);
  });

  it('given rows whose columns differ from their documents (written by an older process), then the next open fills them again', async () => {
    const path = join(dir, `store-${n++}.db`);
    const store = new SqliteStore({ path });
    await store.ensureCollection('claims', [{ fields: ['leaseOpen', 'renewedAt'] }]);
    for (const id of ['a', 'b', 'c']) await store.put('claims', id, { leaseOpen: id !== 'c', renewedAt: id.charCodeAt(0) });
    await store.close();
    // A writer that knew fewer columns: the document moved on, its columns did not.
    const older = new DatabaseSync(path);
    older.prepare('UPDATE c_claims SET doc = ? WHERE id = ?').run(JSON.stringify({ leaseOpen: false, renewedAt: 1 }), 'a');
    older.prepare('UPDATE c_claims SET f_leaseOpen = NULL, f_renewedAt = NULL WHERE id = ?').run('b');
    older.close();
    const again = new SqliteStore({ path });
    await again.ensureCollection('claims', [{ fields: ['leaseOpen', 'renewedAt'] }]);
    assert.deepEqual(
      (await again.find('claims', { where: { leaseOpen: true } })).map((d) => d.id),
      ['b'],
    );
    assert.deepEqual(
      (await again.find('claims', { where: { leaseOpen: false }, orderBy: { field: 'renewedAt', direction: 'asc' } })).map((d) => d.id),
      ['a', 'c'],
    );
    await again.close();
  });
});
