import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { eventLogContract, namespacedEventLog, type ConsumedRecord } from '@codestep/event-log';
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

describe('SQLite event log: records handed to consumers of the log that committed them', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const record = (topic: string, i: number) => ({ topic, key: `k${i}`, value: enc(String(i)), headers: { 'event-type': 'T', n: String(i) } });
  const positionsIn = (path: string, topic: string) => {
    const db = new DatabaseSync(path);
    try {
      return (db.prepare('SELECT position, key FROM records WHERE topic = ? ORDER BY position').all(topic) as Array<{ position: number; key: string }>).map((r) => [r.position, r.key]);
    } finally {
      db.close();
    }
  };
  const until = async (predicate: () => boolean, what: string) => {
    for (const deadline = Date.now() + 30_000; !predicate();) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('hands a caught-up consumer what is appended, with the committed positions, in log order, without reading it back', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['hand.a', 'hand.b']);
    await log.append([record('hand.a', 0)]);
    const got: ConsumedRecord[] = [];
    const sub = await log.consume({ group: 'g', topics: ['hand.a'], handle: async (b) => (got.push(...b), []) });
    await until(() => got.length === 1, 'the record read at start');
    const appended = Array.from({ length: 30 }, (_, i) => record(i % 3 ? 'hand.a' : 'hand.b', i + 1));
    // Over several turns, several appends a turn.
    for (let i = 0; i < appended.length; i += 4) await Promise.all(appended.slice(i, i + 4).map((r) => log.append([r])));
    const mine = appended.filter((r) => r.topic === 'hand.a');
    await until(() => got.length === 1 + mine.length, 'the appended records');
    await sub.stop();
    await log.close();
    assert.deepEqual(
      got.map((r) => [r.offset, r.key]),
      positionsIn(path, 'hand.a'),
      'the records of its topic, each once, in log order, with their committed positions',
    );
    got.slice(1).forEach((r, i) => {
      assert.equal(r.value, mine[i]!.value, 'the appended bytes themselves: handed, not read back');
      assert.deepEqual(r.headers, mine[i]!.headers);
      assert.equal(r.partition, 0);
    });
  });

  it('lets a consumer that is behind read its backlog, then hands it what comes after, nothing skipped or repeated', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['behind.t']);
    await log.append(Array.from({ length: 250 }, (_, i) => record('behind.t', i)));
    const got: ConsumedRecord[] = [];
    let appending = 250;
    const sub = await log.consume({
      group: 'g',
      topics: ['behind.t'],
      batchSize: 100,
      handle: async (b) => {
        got.push(...b);
        // Appends while it works through the backlog, from this log: it is not caught up yet.
        if (appending < 300) await Promise.all(Array.from({ length: 10 }, () => log.append([record('behind.t', appending++)])));
        return [];
      },
    });
    await until(() => got.length === 300, 'the backlog and what was appended meanwhile');
    const later = Array.from({ length: 20 }, (_, i) => record('behind.t', 300 + i));
    for (const r of later) await log.append([r]);
    await until(() => got.length === 320, 'the records appended once caught up');
    await sub.stop();
    await log.close();
    assert.deepEqual(
      got.map((r) => [r.offset, r.key]),
      positionsIn(path, 'behind.t'),
    );
    assert.equal(new Set(got.map((r) => r.key)).size, 320);
    got.slice(300).forEach((r, i) => assert.equal(r.value, later[i]!.value, 'caught up: handed, not read back'));
  });

  it('holds a few batches handed to a consumer that does not keep up, and reads the rest when it gets to them', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['slow.t']);
    const got: ConsumedRecord[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const sub = await log.consume({ group: 'g', topics: ['slow.t'], batchSize: 10, handle: async (b) => (await released, got.push(...b), []) });
    const appended = Array.from({ length: 3_000 }, (_, i) => record('slow.t', i));
    for (let i = 0; i < appended.length; i += 100) await log.append(appended.slice(i, i + 100));
    release();
    await until(() => got.length === 3_000, 'every record');
    await sub.stop();
    await log.close();
    assert.deepEqual(
      got.map((r) => [r.offset, r.key]),
      positionsIn(path, 'slow.t'),
    );
    const handed = got.filter((r, i) => r.value === appended[i]!.value).length;
    assert.ok(handed >= 1_000 && handed < 3_000, `the first 1,000 handed, the rest read (${handed} handed)`);
  });

  it('reads what another writer appended between two commits of this log, in order', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['other.t']);
    const got: ConsumedRecord[] = [];
    const sub = await log.consume({ group: 'g', topics: ['other.t'], handle: async (b) => (got.push(...b), []) });
    await log.append([record('other.t', 1)]);
    await until(() => got.length === 1, 'the first record');
    const other = new DatabaseSync(path);
    other.prepare('INSERT INTO records (topic, key, value, headers, record_id, appended_at) VALUES (?, ?, ?, ?, NULL, ?)').run('other.t', 'k2', enc('2'), '{"event-type":"T"}', Date.now());
    other.close();
    await log.append([record('other.t', 3)]);
    await until(() => got.length === 3, 'the other writer’s record and the next one');
    await sub.stop();
    await log.close();
    assert.deepEqual(
      got.map((r) => [r.offset, r.key]),
      positionsIn(path, 'other.t'),
    );
    assert.deepEqual(
      got.map((r) => r.key),
      ['k1', 'k2', 'k3'],
    );
  });

  it('reads topics written long apart in log order, in batches and in a replay', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['sparse.t', 'busy.t', 'other.t']);
    await log.append([record('sparse.t', 0)]);
    await log.append(Array.from({ length: 1400 }, (_, i) => record(i % 2 ? 'busy.t' : 'other.t', i + 1)));
    await log.append([record('sparse.t', 1401)]);
    const got: ConsumedRecord[] = [];
    const sub = await log.consume({ group: 'g', topics: ['sparse.t', 'busy.t'], batchSize: 30, handle: async (b) => (got.push(...b), []) });
    await until(() => got.length === 702, 'both topics');
    await sub.stop();
    const replayed: ConsumedRecord[] = [];
    assert.equal(await log.readAll(['sparse.t', 'busy.t'], async (b) => void replayed.push(...b)), 702);
    await log.close();
    const expected = [...positionsIn(path, 'sparse.t'), ...positionsIn(path, 'busy.t')].sort((a, b) => (a[0] as number) - (b[0] as number));
    assert.deepEqual(
      got.map((r) => [r.offset, r.key]),
      expected,
    );
    assert.deepEqual(
      replayed.map((r) => [r.offset, r.key]),
      expected,
    );
  });

  it('a poll reads what another connection appended, with nothing appended by this log', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 20 });
    await log.ensureTopics(['poll.t']);
    const got: ConsumedRecord[] = [];
    const sub = await log.consume({ group: 'g', topics: ['poll.t'], handle: async (b) => (got.push(...b), []) });
    await log.append([record('poll.t', 1)]);
    await until(() => got.length === 1, 'the first record');
    await new Promise((r) => setTimeout(r, 100)); // polls that find nothing new
    const other = new DatabaseSync(path);
    other.prepare('INSERT INTO records (topic, key, value, headers, record_id, appended_at) VALUES (?, ?, ?, ?, NULL, ?)').run('poll.t', 'k2', enc('2'), '{"event-type":"T"}', Date.now());
    other.close();
    await until(() => got.length === 2, 'the other connection’s record');
    await sub.stop();
    await log.close();
    assert.deepEqual(
      got.map((r) => r.key),
      ['k1', 'k2'],
    );
  });

  it('a consumer of another log on the file reads them, woken by the append', async () => {
    const path = join(dir, `log-${n++}.db`);
    const writer = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    const reader = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await writer.ensureTopics(['two.t']);
    const got: ConsumedRecord[] = [];
    const sub = await reader.consume({ group: 'g', topics: ['two.t'], handle: async (b) => (got.push(...b), []) });
    const appended = [record('two.t', 1), record('two.t', 2)];
    await writer.append(appended);
    await until(() => got.length === 2, 'the records of the other log');
    await sub.stop();
    await reader.close();
    await writer.close();
    assert.deepEqual(
      got.map((r) => [r.offset, r.key]),
      positionsIn(path, 'two.t'),
    );
    assert.notEqual(got[0]!.value, appended[0]!.value, 'read from the file');
  });

  it('delivers again after a failed handler what it was handed, before anything handed since', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['fail.t']);
    const got: string[] = [];
    let failures = 0;
    const sub = await log.consume({
      group: 'g',
      topics: ['fail.t'],
      handle: async (b) => {
        if (b.some((r) => r.key === 'k1') && failures++ === 0) {
          await log.append([record('fail.t', 2)]); // handed while this batch fails
          throw new Error('first attempt fails');
        }
        got.push(...b.map((r) => r.key));
        return [];
      },
      onError: () => {},
    });
    await log.append([record('fail.t', 1)]);
    await until(() => got.length === 2, 'both records');
    await sub.stop();
    await log.close();
    assert.deepEqual(got, ['k1', 'k2']);
  });

  it('loses nothing when the process dies between an append’s commit and the handling of what was handed', async () => {
    const path = join(dir, `log-${n++}.db`);
    const handled = join(dir, `handled-${n++}.txt`);
    writeFileSync(handled, '');
    const fixture = fileURLToPath(new URL('./sqlite-crash.fixture.ts', import.meta.url));
    const child = spawn(process.execPath, [fixture, JSON.stringify({ path, topic: 'crash.t', group: 'g', count: 40, handled })], { stdio: 'inherit' });
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL');
    const before = readFileSync(handled, 'utf8').split('\n').filter(Boolean).map(Number);
    const all = positionsIn(path, 'crash.t').map(([position]) => position as number);
    assert.equal(all.length, 40, 'every append was committed');
    assert.ok(before.length < 40, 'the last records were not handled before the kill');
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    const after: number[] = [];
    const sub = await log.consume({ group: 'g', topics: ['crash.t'], handle: async (b) => (after.push(...b.map((r) => r.offset)), []) });
    await until(() => new Set([...before, ...after]).size === 40, 'every record handled by one run or the other');
    await sub.stop();
    await log.close();
    assert.deepEqual(after, all.slice(all.indexOf(after[0]!)), 'the restarted member goes on in order from its committed position to the end');
    assert.ok(after[0]! <= Math.max(...before) + 1, 'from no later than right after what was handled');
  });
});
