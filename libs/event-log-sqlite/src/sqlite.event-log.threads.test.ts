/**
 * The SQLite event log opened by two threads of one process (embedded mode's executor thread):
 * appends committed in one thread wake the consumers of the other, which never poll in these
 * tests (a poll interval of an hour), so a record arrives only if the other thread woke them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { ConsumedRecord } from '@codestep/event-log';
import { SqliteEventLog } from './sqlite.event-log.ts';

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'codestep-log-threads-'));
const moduleUrl = new URL('./sqlite.event-log.ts', import.meta.url).href;

/**
 * Runs `body` (the source of an async function of `log` and `post`, which sends a message to this
 * thread) in a worker thread on its own log of `path`; `next()` resolves with its next message.
 */
function inThread(path: string, body: string): { next(): Promise<unknown> } {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { SqliteEventLog } = await import(workerData.moduleUrl);
      const log = new SqliteEventLog({ path: workerData.path, pollIntervalMs: ${HOUR}, wakeAcrossThreads: true });
      const post = (m) => parentPort.postMessage(m);
      await (async (log, post) => { ${body} })(log, post);
      await log.close();
    })();`;
  const worker = new Worker(code, { eval: true, workerData: { path, moduleUrl } });
  const queue: unknown[] = [];
  const waiters: Array<(m: unknown) => void> = [];
  let failed: unknown;
  worker.on('message', (m) => (waiters.length ? waiters.shift()!(m) : queue.push(m)));
  worker.on('error', (e) => (failed = e));
  return {
    next: () => (failed ? Promise.reject(failed) : queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))),
  };
}

const record = (topic: string, i: number) => ({ topic, key: `k${i}`, value: new TextEncoder().encode(String(i)), headers: {} });

describe('SQLite event log across threads (wakeAcrossThreads)', () => {
  it("wakes this thread's consumer for an append committed in another thread", async () => {
    const path = join(dir, 'a.db');
    const log = new SqliteEventLog({ path, pollIntervalMs: HOUR, wakeAcrossThreads: true });
    await log.ensureTopics(['threads.t']);
    const seen: ConsumedRecord[] = [];
    let arrived!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const sub = await log.consume({ group: 'g', topics: ['threads.t'], handle: async (b) => (seen.push(...b), arrived(), []) });
    await new Promise((r) => setTimeout(r, 50)); // the consumer's first fetch came back empty: it waits
    const thread = inThread(path, `await log.append([{ topic: 'threads.t', key: 'k', value: new TextEncoder().encode('from the thread'), headers: {} }]); post('appended');`);
    assert.equal(await thread.next(), 'appended');
    await arrival;
    assert.deepEqual(
      seen.map((r) => new TextDecoder().decode(r.value)),
      ['from the thread'],
    );
    await sub.stop();
    await log.close();
  });

  it("wakes another thread's consumer for an append committed in this thread", async () => {
    const path = join(dir, 'b.db');
    const log = new SqliteEventLog({ path, pollIntervalMs: HOUR, wakeAcrossThreads: true });
    await log.ensureTopics(['threads.u']);
    const thread = inThread(
      path,
      `let got;
       const values = new Promise((r) => (got = r));
       const sub = await log.consume({ group: 'g', topics: ['threads.u'], handle: async (b) => (got(b.map((r) => new TextDecoder().decode(r.value))), []) });
       await new Promise((r) => setTimeout(r, 50)); // its first fetch came back empty: it waits
       post('consuming');
       post(await values);
       await sub.stop();`,
    );
    assert.equal(await thread.next(), 'consuming');
    await log.append([record('threads.u', 1), record('threads.u', 2)]);
    assert.deepEqual(await thread.next(), ['1', '2']);
    await log.close();
  });

  it('hands what both threads append, interleaved, to every consumer of either thread once and in log order', async () => {
    const path = join(dir, 'c.db');
    const log = new SqliteEventLog({ path, pollIntervalMs: HOUR, wakeAcrossThreads: true });
    await log.ensureTopics(['threads.x', 'threads.y']);
    const N = 60;
    const consumers = [['threads.x'], ['threads.y'], ['threads.x', 'threads.y']].map((topics, i) => {
      const seen: ConsumedRecord[] = [];
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      const want = topics.length * N;
      return { topics, seen, all, sub: log.consume({ group: `g${i}`, topics, batchSize: 7, handle: async (b) => (seen.push(...b), seen.length >= want && done(), []) }) };
    });
    // The thread appends to x while this thread appends to y: each commit follows the other thread's.
    const thread = inThread(
      path,
      `post('ready'); for (let i = 0; i < ${N}; i++) { await log.append([{ topic: 'threads.x', key: 'k' + i, value: new TextEncoder().encode('x' + i), headers: {} }]); await new Promise((r) => setImmediate(r)); } post('appended');`,
    );
    assert.equal(await thread.next(), 'ready');
    for (let i = 0; i < N; i++) {
      await log.append([{ topic: 'threads.y', key: `k${i}`, value: new TextEncoder().encode(`y${i}`), headers: {} }]);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await thread.next(), 'appended');
    for (const c of consumers) {
      await c.all;
      const values = c.seen.map((r) => new TextDecoder().decode(r.value));
      for (const topic of c.topics) {
        const prefix = topic.slice(-1);
        assert.deepEqual(
          values.filter((v) => v.startsWith(prefix)),
          Array.from({ length: N }, (_, i) => `${prefix}${i}`),
        );
      }
      assert.equal(values.length, c.topics.length * N, 'each record once');
      const offsets = c.seen.map((r) => r.offset);
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
        'in log order',
      );
      await (await c.sub).stop();
    }
    await log.close();
  });
});
