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
