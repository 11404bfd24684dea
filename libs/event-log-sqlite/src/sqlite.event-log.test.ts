import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { eventLogContract, namespacedEventLog } from '@codestep/event-log';
import { SqliteEventLog } from './sqlite.event-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'codestep-log-'));
let n = 0;
eventLogContract('SQLite', {
  open: async () => new SqliteEventLog({ path: join(dir, `log-${n++}.db`), pollIntervalMs: 50 }),
  dedupesOnAppend: true,
});

eventLogContract('SQLite behind a namespace', {
  open: async () => namespacedEventLog(new SqliteEventLog({ path: join(dir, `log-${n++}.db`), pollIntervalMs: 50 }), 'tenant-a'),
  dedupesOnAppend: true,
});

describe('SQLite event log: positions of batches that appended nothing', () => {
  const record = (i: number) => ({ topic: 'positions.t', key: `k${i}`, value: new TextEncoder().encode(String(i)), headers: {} });
  const committed = (path: string, group: string) => {
    const db = new DatabaseSync(path);
    try {
      return (db.prepare('SELECT position FROM group_positions WHERE group_id = ? AND topic = ?').get(group, 'positions.t') as { position: number } | undefined)?.position ?? 0;
    } finally {
      db.close();
    }
  };

  it('commits them while the member runs (within positionCommitMs), not only when it stops', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, positionCommitMs: 20 });
    await log.ensureTopics(['positions.t']);
    await log.append([record(1), record(2), record(3)]);
    let seen = 0;
    const sub = await log.consume({ group: 'g', topics: ['positions.t'], handle: async (b) => ((seen += b.length), []) });
    for (const deadline = Date.now() + 30_000; committed(path, 'g') < 3;) {
      assert.ok(Date.now() < deadline, 'the position of the delivered batch is committed while the member runs');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(seen, 3);
    await sub.stop();
    await log.close();
  });

  it('commits them when the member stops, so a restarted member goes on after them', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, positionCommitMs: 3_600_000 });
    await log.ensureTopics(['positions.t']);
    await log.append([record(1), record(2)]);
    const first: number[] = [];
    const sub = await log.consume({ group: 'g', topics: ['positions.t'], handle: async (b) => (first.push(...b.map((r) => r.offset)), []) });
    while (first.length < 2) await new Promise((r) => setTimeout(r, 10));
    await sub.stop();
    assert.equal(committed(path, 'g'), Math.max(...first));
    await log.append([record(3)]);
    const second: number[] = [];
    const again = await log.consume({ group: 'g', topics: ['positions.t'], handle: async (b) => (second.push(...b.map((r) => r.offset)), []) });
    while (second.length < 1) await new Promise((r) => setTimeout(r, 10));
    await again.stop();
    await log.close();
    assert.equal(second.length, 1, 'only the record appended after the stop is delivered again');
    assert.ok(second[0]! > Math.max(...first));
  });
});

describe('SQLite event log: appends of one turn of the event loop', () => {
  const record = (topic: string, i: number) => ({ topic, key: `k${i}`, value: new TextEncoder().encode(String(i)), headers: { n: String(i) } });
  const rows = (path: string) => {
    const db = new DatabaseSync(path);
    try {
      return db.prepare('SELECT position, topic, key FROM records ORDER BY position').all() as Array<{ position: number; topic: string; key: string }>;
    } finally {
      db.close();
    }
  };

  it('are committed in the order they were made, each resolving once another connection can read it', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path });
    await log.ensureTopics(['turn.a', 'turn.b']);
    const seenAtResolve: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        log.append([record(i % 2 ? 'turn.a' : 'turn.b', i)]).then(() => {
          seenAtResolve.push(rows(path).filter((r) => r.key === `k${i}`).length);
        }),
      ),
    );
    await log.close();
    assert.deepEqual(seenAtResolve, Array(40).fill(1), 'each append is committed when it resolves');
    const all = rows(path);
    assert.deepEqual(
      all.map((r) => r.key),
      Array.from({ length: 40 }, (_, i) => `k${i}`),
    );
    assert.deepEqual(
      all.map((r) => r.topic),
      Array.from({ length: 40 }, (_, i) => (i % 2 ? 'turn.a' : 'turn.b')),
    );
  });

  it('fail one by one: a refused append rejects alone, the others of its turn are committed', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path });
    await log.ensureTopics(['turn.a']);
    const results = await Promise.allSettled([log.append([record('turn.a', 1)]), log.append([{ ...record('turn.a', 2), value: { not: 'bytes' } as never }]), log.append([record('turn.a', 3)])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    await log.close();
    assert.deepEqual(
      rows(path).map((r) => r.key),
      ['k1', 'k3'],
    );
  });

  it('wake a consumer of their topic once they are committed', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['turn.a']);
    const got: string[] = [];
    const sub = await log.consume({ group: 'g', topics: ['turn.a'], handle: async (b) => (got.push(...b.map((r) => r.key)), []) });
    await Promise.all([log.append([record('turn.a', 1)]), log.append([record('turn.a', 2)])]);
    for (const deadline = Date.now() + 30_000; got.length < 2;) {
      assert.ok(Date.now() < deadline, 'the consumer is woken by the appends (it would poll only after an hour)');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(got, ['k1', 'k2']);
    await sub.stop();
    await log.close();
  });
});
