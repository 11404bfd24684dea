import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
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
