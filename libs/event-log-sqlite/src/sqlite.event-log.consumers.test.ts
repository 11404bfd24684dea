/**
 * The SQLite event log's consumers as the request path sees them: woken by priority, and a
 * commit that fails is tried again (its error reported) instead of ending the member's loop.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import type { LogRecord } from '@codestep/event-log';
import { SqliteEventLog } from './sqlite.event-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'codestep-log-consumers-'));
let n = 0;
const record = (topic: string, i: number): LogRecord => ({ topic, key: `k${i}`, value: new TextEncoder().encode(String(i)), headers: {} });

async function until(done: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; !done();) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SQLite event log: consumers woken by one commit', () => {
  it('are woken in priority order, the highest first, whatever the order they subscribed in', async () => {
    const log = new SqliteEventLog({ path: join(dir, `log-${n++}.db`), pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['prio.t']);
    const order: string[] = [];
    const member = (name: string, priority?: number) => log.consume({ group: name, topics: ['prio.t'], ...(priority === undefined ? {} : { priority }), handle: async () => (order.push(name), []) });
    const subs = [await member('projection'), await member('step', 1), await member('executor', 2), await member('late projection', 0)];
    await log.append([record('prio.t', 1)]);
    await until(() => order.length === 4, 'every member');
    assert.deepEqual(order, ['executor', 'step', 'projection', 'late projection']);
    for (const s of subs) await s.stop();
    await log.close();
  });
});

describe('SQLite event log: a commit of a consumer that fails', () => {
  it('is tried again after a back-off, its error reported, and its outputs committed once the log takes them; the batch is not handled again', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['step.in', 'step.out']);
    // Another connection makes every insert of an output fail: the turn's shared transaction and
    // the output's own transaction both fail.
    const other = new DatabaseSync(path);
    other.exec(`CREATE TRIGGER refuse_outputs BEFORE INSERT ON records WHEN NEW.topic = 'step.out' BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END;`);
    const handled: string[] = [];
    const errors: string[] = [];
    const sub = await log.consume({
      group: 'step',
      topics: ['step.in'],
      handle: async (batch) => (handled.push(...batch.map((r) => r.key)), batch.map((r) => record('step.out', Number(r.key.slice(1))))),
      onError: (error) => errors.push(error instanceof Error ? error.message : String(error)),
    });
    await log.append([record('step.in', 1)]);
    await until(() => errors.length >= 2, 'two failed attempts');
    assert.match(errors[0]!, /the disk refused the write/);
    other.exec('DROP TRIGGER refuse_outputs');
    const outputs = () => (other.prepare("SELECT key FROM records WHERE topic = 'step.out' ORDER BY position").all() as Array<{ key: string }>).map((r) => r.key);
    await until(() => outputs().length === 1, 'the output committed');
    // The member goes on with what comes next.
    await log.append([record('step.in', 2)]);
    await until(() => outputs().length === 2, 'the next output');
    await sub.stop();
    await log.close();
    assert.deepEqual(handled, ['k1', 'k2'], 'each batch handled once');
    assert.deepEqual(outputs(), ['k1', 'k2']);
    const committed = other.prepare("SELECT position FROM group_positions WHERE group_id = 'step' AND topic = 'step.in'").get() as { position: number };
    const last = other.prepare("SELECT MAX(position) AS position FROM records WHERE topic = 'step.in'").get() as { position: number };
    assert.equal(committed.position, last.position, 'its position committed up to its last batch');
    other.close();
  });

  it('stops the member when asked during its back-off, its position left uncommitted so the batch is delivered again', async () => {
    const path = join(dir, `log-${n++}.db`);
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    await log.ensureTopics(['stop.in', 'stop.out']);
    const other = new DatabaseSync(path);
    other.exec(`CREATE TRIGGER refuse_outputs BEFORE INSERT ON records WHEN NEW.topic = 'stop.out' BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END;`);
    const errors: unknown[] = [];
    const sub = await log.consume({
      group: 'g',
      topics: ['stop.in'],
      handle: async (batch) => batch.map((r) => record('stop.out', Number(r.key.slice(1)))),
      onError: (error) => errors.push(error),
    });
    await log.append([record('stop.in', 1)]);
    await until(() => errors.length >= 1, 'a failed attempt');
    const stopping = Date.now();
    await sub.stop();
    assert.ok(Date.now() - stopping < 3_000, 'the back-off does not hold up the stop');
    await log.close();
    other.exec('DROP TRIGGER refuse_outputs');
    const again = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    const redelivered: string[] = [];
    const sub2 = await again.consume({ group: 'g', topics: ['stop.in'], handle: async (batch) => (redelivered.push(...batch.map((r) => r.key)), []) });
    await until(() => redelivered.length === 1, 'the batch delivered again');
    assert.deepEqual(redelivered, ['k1']);
    await sub2.stop();
    await again.close();
    other.close();
  });
});

describe('SQLite event log: a member stopped while the commit of a batch’s outputs fails', () => {
  it('commits no position past that batch, even with the position of an earlier batch that appended nothing pending, so the batch is delivered again', async () => {
    const path = join(dir, `log-${n++}.db`);
    // Positions of batches that appended nothing are held (not committed) until the member stops.
    const log = new SqliteEventLog({ path, pollIntervalMs: 3_600_000, positionCommitMs: 3_600_000 });
    await log.ensureTopics(['held.in', 'held.out']);
    const other = new DatabaseSync(path);
    other.exec(`CREATE TRIGGER refuse_outputs BEFORE INSERT ON records WHEN NEW.topic = 'held.out' BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END;`);
    const handled: string[] = [];
    let stopping: Promise<void> | undefined;
    const sub = await log.consume({
      group: 'g',
      topics: ['held.in'],
      batchSize: 1,
      // k1 appends nothing (its position is held), k2 appends an output that the log refuses.
      handle: async (batch) => (handled.push(...batch.map((r) => r.key)), batch.filter((r) => r.key === 'k2').map((r) => record('held.out', 2))),
      onError: () => (stopping ??= sub.stop()),
    });
    await log.append([record('held.in', 1), record('held.in', 2)]);
    await until(() => stopping !== undefined, 'the failed commit of k2’s output');
    await stopping;
    await log.close();
    assert.deepEqual(handled, ['k1', 'k2']);
    const k2 = (other.prepare("SELECT position FROM records WHERE topic = 'held.in' AND key = 'k2'").get() as { position: number }).position;
    const committed = other.prepare("SELECT position FROM group_positions WHERE group_id = 'g' AND topic = 'held.in'").get() as { position: number } | undefined;
    assert.ok((committed?.position ?? 0) < k2, `the group's position (${committed?.position}) stays before k2 (${k2}), whose output was not committed`);
    // After a restart, k2 is delivered again and its output committed.
    other.exec('DROP TRIGGER refuse_outputs');
    const again = new SqliteEventLog({ path, pollIntervalMs: 3_600_000 });
    const redelivered: string[] = [];
    const sub2 = await again.consume({
      group: 'g',
      topics: ['held.in'],
      handle: async (batch) => (redelivered.push(...batch.map((r) => r.key)), batch.filter((r) => r.key === 'k2').map((r) => record('held.out', 2))),
    });
    await until(() => redelivered.includes('k2'), 'k2 delivered again');
    await sub2.stop();
    await again.close();
    const outputs = other.prepare("SELECT key FROM records WHERE topic = 'held.out'").all() as Array<{ key: string }>;
    assert.deepEqual(
      outputs.map((r) => r.key),
      ['k2'],
      'k2’s output committed once, after the restart',
    );
    other.close();
  });
});
