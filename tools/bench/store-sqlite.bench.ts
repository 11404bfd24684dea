/**
 * The embedded document store alone, per operation (issue 17): each operation of the store run on
 * its own over a file-backed database, on documents shaped like embedded mode's (a history
 * enrollment of ~1 kB in a collection with five indexes, a claim in one with one, a small
 * counter with none), and a mix in the proportions `store-ops.bench.ts` counts per webhook call.
 * Printed: CPU µs per operation (`process.cpuUsage` of this process) and wall µs per operation
 * (each operation awaited before the next), best of `rounds`.
 *   node tools/bench/store-sqlite.bench.ts [ops=20000] [rounds=3] [module=../../libs/store-sqlite/src/sqlite.store.ts]
 * (`module` lets the same driver run another checkout's adapter, for interleaved comparisons.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DocumentStore } from '@codestep/store';

const OPS = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const modulePath = process.argv[4] ? pathToFileURL(resolve(process.argv[4])).href : new URL('../../libs/store-sqlite/src/sqlite.store.ts', import.meta.url).href;
const { SqliteStore } = (await import(modulePath)) as { SqliteStore: new (o: { path: string }) => DocumentStore };

const ENROLLMENTS = 'history_enrollments';
const CLAIMS = 'claims';
const COUNTERS = 'counters';
const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'codestep-store-bench-')), 'bench.db') });
await store.ensureCollection(ENROLLMENTS, [
  { fields: ['tenantId', 'startedAt'] },
  { fields: ['tenantId', 'workflowId', 'startedAt'] },
  { fields: ['tenantId', 'workflowId', 'status', 'startedAt'] },
  { fields: ['tenantId', 'status', 'startedAt'] },
  { fields: ['tenantId', 'objectId', 'startedAt'] },
]);
await store.ensureCollection(CLAIMS, [{ fields: ['leaseOpen', 'renewedAt'] }]);
await store.ensureCollection(COUNTERS, []);

const enrollment = (i: number, status: string) => ({
  tenantId: `t${i % 4}`,
  enrollmentId: `e${i}`,
  workflowId: `wf${i % 10}`,
  workflowVersion: 1,
  object: { objectType: 'contact', objectId: String(i), properties: { n: String(i), email: `someone${i}@example.com`, firstname: 'Some', lastname: 'One' } },
  objectId: String(i),
  status,
  error: null,
  failedActionId: '',
  outputs: status === 'completed' ? { one: { n: { $case: 'numberValue', value: i * 2 } } } : {},
  startedAt: 1_700_000_000_000 + i,
  finishedAt: status === 'completed' ? 1_700_000_000_010 + i : 0,
  eventIds: Array.from({ length: status === 'completed' ? 4 : 1 }, (_, k) => `00000000-0000-4000-8000-${String(i * 10 + k).padStart(12, '0')}`),
});
const claim = (i: number, open: boolean) => ({ executionId: `x${i}`, owner: 'executor-1', leaseOpen: open, renewedAt: 1_700_000_000_000 + i, attempt: 1, transition: open ? 'running' : 'done' });

let seq = 0;
const ops: Record<string, (i: number) => Promise<unknown>> = {
  'writeVersioned 1 (5 indexes)': (i) => store.writeVersioned(ENROLLMENTS, [{ id: `t${i % 4}/e${seq + i}`, version: 1, doc: enrollment(seq + i, 'running') }]),
  'writeVersioned 1 update (5 indexes)': (i) => store.writeVersioned(ENROLLMENTS, [{ id: `t${i % 4}/e${seq + i}`, version: 2, doc: enrollment(seq + i, 'completed') }]),
  'getMany 1 (1 kB doc)': (i) => store.getMany(ENROLLMENTS, [`t${i % 4}/e${seq + i}`]),
  'get (1 kB doc)': (i) => store.get(ENROLLMENTS, `t${i % 4}/e${seq + i}`),
  'insertIfAbsent (1 index)': (i) => store.insertIfAbsent(CLAIMS, `x${seq + i}`, claim(seq + i, true)),
  'compareAndSet (1 index)': (i) => store.compareAndSet(CLAIMS, `x${seq + i}`, 1, claim(seq + i, false)),
  'get (small doc)': (i) => store.get(CLAIMS, `x${seq + i}`),
  'put (no index)': (i) => store.put(COUNTERS, `n${i % 100}`, { n: i }),
  'find by indexed fields, limit 20': (i) => store.find(ENROLLMENTS, { where: { tenantId: `t${i % 4}`, workflowId: `wf${i % 10}` }, orderBy: { field: 'startedAt', direction: 'desc' }, limit: 20 }),
  'find open claims, limit 10': () => store.find(CLAIMS, { where: { leaseOpen: true }, orderBy: { field: 'renewedAt', direction: 'asc' }, limit: 10 }),
};

/**
 * A webhook call's writes and reads, roughly (`store-ops.bench.ts`): a claim inserted and moved on,
 * a run counter read and moved on, the history enrollment written twice and read; run by 16 callers
 * at once, so what one turn of the event loop holds is several callers' operations.
 */
const sequence = async (i: number) => {
  const k = seq + i;
  await store.insertIfAbsent(CLAIMS, `s${k}`, claim(k, true));
  await store.get(COUNTERS, `n${i % 100}`);
  await store.put(COUNTERS, `n${i % 100}`, { n: i });
  await store.writeVersioned(ENROLLMENTS, [{ id: `s/e${k}`, version: 1, doc: enrollment(k, 'running') }]);
  await store.compareAndSet(CLAIMS, `s${k}`, 1, claim(k, false));
  await store.getMany(ENROLLMENTS, [`s/e${k}`]);
  await store.writeVersioned(ENROLLMENTS, [{ id: `s/e${k}`, version: 2, doc: enrollment(k, 'completed') }]);
  await store.get(ENROLLMENTS, `s/e${k}`);
};
const CALLERS = 16;
ops['sequence of 8 operations, 16 callers at once (per sequence)'] = async () => {
  let next = 0;
  const n = Math.ceil(OPS / 8);
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < n) await sequence(next++);
    }),
  );
};

const best: Record<string, number> = {};
const bestWall: Record<string, number> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, op] of Object.entries(ops)) {
    const n = name.startsWith('find') ? Math.ceil(OPS / 10) : name.startsWith('sequence') ? 1 : OPS;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await op(i);
    const per = name.startsWith('sequence') ? Math.ceil(OPS / 8) : n;
    const wall = ((performance.now() - t0) * 1000) / per;
    const cpu = process.cpuUsage(cpu0);
    best[name] = Math.min(best[name] ?? Infinity, (cpu.user + cpu.system) / per);
    bestWall[name] = Math.min(bestWall[name] ?? Infinity, wall);
  }
  seq += OPS;
}
console.log(`${'CPU µs'.padStart(8)} ${'wall µs'.padStart(8)}  operation`);
for (const [name, micros] of Object.entries(best)) console.log(`${micros.toFixed(1).padStart(8)} ${bestWall[name]!.toFixed(1).padStart(8)}  ${name}`);
await store.close();
