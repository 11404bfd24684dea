/**
 * The embedded event log alone under a request-like load (issue 17): 16 callers at a time append
 * a record to `actions`; a consume→produce chain (actions → results → enrollments) and three
 * projection-like consumers (one of all three topics, two of `enrollments`) run in the same
 * process, and a call completes when the all-topics consumer has seen its `enrollments` record.
 * Printed: calls/s, p50/p99 of a call, CPU ms per call (this process, `process.cpuUsage`).
 *   node tools/bench/event-log-sqlite.bench.ts [calls=3000] [module=../../libs/event-log-sqlite/src/sqlite.event-log.ts]
 * (`module` lets the same driver run another checkout's adapter, for interleaved comparisons.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConsumedRecord, EventLog, LogRecord } from '@codestep/event-log';

const CALLS = Number(process.argv[2] ?? 3000);
const modulePath = process.argv[3] ? pathToFileURL(resolve(process.argv[3])).href : new URL('../../libs/event-log-sqlite/src/sqlite.event-log.ts', import.meta.url).href;
const { SqliteEventLog } = (await import(modulePath)) as { SqliteEventLog: new (o: { path: string }) => EventLog };
const C = 16;
const payload = new Uint8Array(300).fill(7);
const rec = (topic: string, key: string, type: string): LogRecord => ({ topic, key, value: payload, headers: { 'event-type': type, 'schema-version': '1', 'tenant-id': 't1' } });

const log = new SqliteEventLog({ path: join(mkdtempSync(join(tmpdir(), 'codestep-elog-bench-')), 'events.db') });
await log.ensureTopics(['actions', 'results', 'enrollments']);
const waiting = new Map<string, () => void>();
const subs = [
  await log.consume({ group: 'executor', topics: ['actions'], handle: async (b) => b.map((r) => rec('results', r.key, 'ActionCompleted')) }),
  await log.consume({ group: 'enroller', topics: ['results'], handle: async (b) => b.map((r) => rec('enrollments', r.key, 'EnrollmentCompleted')) }),
  await log.consume({
    group: 'history',
    topics: ['actions', 'results', 'enrollments'],
    batchSize: 500,
    handle: async (b: ConsumedRecord[]) => {
      for (const r of b) if (r.topic === 'enrollments') waiting.get(r.key)?.();
      return [];
    },
  }),
  await log.consume({ group: 'projections', topics: ['enrollments'], batchSize: 500, handle: async () => [] }),
  await log.consume({ group: 'callbacks', topics: ['enrollments'], batchSize: 200, handle: async () => [] }),
];

const latencies: number[] = [];
let next = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next < CALLS) {
      const key = `k${next++}`;
      const start = performance.now();
      const done = new Promise<void>((r) => waiting.set(key, r));
      await log.append([rec('actions', key, 'ActionRequested')]);
      await done;
      waiting.delete(key);
      latencies.push(performance.now() - start);
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
for (const s of subs) await s.stop();
await log.close();
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! * 100) / 100;
console.log(
  JSON.stringify({
    module: modulePath,
    calls: CALLS,
    callsPerS: Math.round(CALLS / seconds),
    p50Ms: pct(50),
    p99Ms: pct(99),
    cpuMsPerCall: Math.round(((cpu.user + cpu.system) / 1000 / CALLS) * 1000) / 1000,
  }),
);
