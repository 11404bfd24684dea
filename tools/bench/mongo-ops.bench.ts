/**
 * MongoDB operations per enrollment in distributed mode (Kafka + FerretDB, every app its own
 * process, two executors): every app counts the commands its driver sends (`mongo-ops.preload.ts`,
 * the driver's command monitoring), the counts are taken once the platform is idle after start-up
 * and again once N enrollments of a one-action workflow completed (watched straight in MongoDB,
 * so the watching is not counted), and the difference is printed per enrollment, by app and by
 * command and collection, with completed/s. Needs KAFKA_BROKERS and MONGODB_URI
 * (eval "$(bash infra/local/up.sh)").
 *
 * With it, what explains the rate on a shared machine: the CPU every process of the run spent
 * per enrollment (each app with its children, i.e. the executors' sandbox hosts, and the
 * FerretDB and Kafka servers when their pid files are found under `.cache`), the load average,
 * how fast the enrollments were accepted and the time each hop took (request → execution
 * finished, as the executions history has it → enrollment finished).
 * `CODESTEP_BENCH_ROOT=<another checkout>` runs that checkout's apps with this bench (an
 * interleaved comparison against a baseline that lacks it).
 *   node tools/bench/mongo-ops.bench.ts [N=200] [concurrency=16]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type * as PlatformProcessModule from '../../apps/cli/src/e2e/platform-process.ts';

const root = process.env.CODESTEP_BENCH_ROOT ?? fileURLToPath(new URL('../..', import.meta.url));
const { api, dropNamespaceDatabases, startDistributedPlatform } = (await import(join(root, 'apps/cli/src/e2e/platform-process.ts'))) as typeof PlatformProcessModule;

const N = Number(process.argv[2] ?? 200);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
if (!brokers || !mongoUri) throw new Error('KAFKA_BROKERS and MONGODB_URI are not set: eval "$(bash infra/local/up.sh)" first');

const opsDir = mkdtempSync(join(tmpdir(), 'codestep-mongo-ops-'));
const preload = join(root, 'tools/bench/mongo-ops.preload.ts');

/** Each app's counts (by `command database.collection`), keyed by app (its main file's directory). */
function snapshot(): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const f of readdirSync(opsDir).filter((name) => name.endsWith('.json'))) {
    const { argv, counts } = JSON.parse(readFileSync(join(opsDir, f), 'utf8')) as { argv: string[]; counts: Record<string, number> };
    const app = `${/apps\/([^/]+)\//.exec(argv[0] ?? '')?.[1] ?? 'unknown'}#${f.replace('.json', '')}`;
    out.set(app, counts);
  }
  return out;
}

/** CPU time (user + system, ms) of a process and its descendants, from /proc. */
function cpuMsOfTree(pid: number): number {
  let ticks = 0;
  const walk = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const c of children ? children.split(' ') : []) walk(Number(c));
      }
    } catch {
      // gone meanwhile
    }
  };
  walk(pid);
  return ticks * 10; // USER_HZ = 100
}

/** The pid of the one process whose command line matches, if any (the servers infra/local started). */
function pidOf(pattern: RegExp): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (pattern.test(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** The processes whose CPU is counted: every app, and the FerretDB (by the URI's port) and Kafka servers. */
function cpuOf(platform: { apps: Map<string, { child: { pid?: number } }> }, servers: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, a] of platform.apps) {
    const name = key.replace(/-\d+$/, '');
    if (a.child.pid) out[name] = (out[name] ?? 0) + cpuMsOfTree(a.child.pid);
  }
  for (const [name, pid] of Object.entries(servers)) if (pid) out[name] = cpuMsOfTree(pid);
  return out;
}

const q = (xs: number[], p: number) => {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor(p * a.length))] ?? NaN;
};
const spread = (xs: number[]) => ({ p10: q(xs, 0.1), p50: q(xs, 0.5), p90: q(xs, 0.9), max: q(xs, 1) });

const total = (s: Map<string, Record<string, number>>) => [...s.values()].reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const namespace = `codestep_mops_${randomBytes(4).toString('hex')}`;
const platform = await startDistributedPlatform({
  brokers,
  mongoUri,
  namespace,
  executors: 2,
  env: { NODE_OPTIONS: `--import ${preload}`, CODESTEP_BENCH_MONGO_OPS_DIR: opsDir, CODESTEP_EXECUTOR_CONCURRENCY: '8' },
});
const client = new MongoClient(mongoUri);
try {
  const call = api(platform.url, platform.apiKey);
  const wf = await call('POST', '/v1/workflows', {
    name: 'bench',
    actions: [
      {
        id: 'one',
        code: 'exports.main = async (event) => ({ outputFields: { n: event.inputFields.n * 2 } })',
        inputFields: [{ name: 'n', property: 'n' }],
        outputFields: [{ name: 'n', type: 'number' }],
      },
    ],
  });
  // Idle: the counts stop moving (projections caught up with the workflow, timers looked at).
  let before = snapshot();
  for (let quiet = 0; quiet < 3;) {
    await sleep(1000);
    const now = snapshot();
    const idleOps = total(now) - total(before);
    quiet = idleOps < 20 ? quiet + 1 : 0;
    before = now;
  }
  const servers = { ferretdb: pidOf(new RegExp(`-listen-addr \\S*:${new URL(mongoUri).port || 27017} `)), kafka: pidOf(/ kafka\.Kafka /) };
  const idleWindowStart = Date.now();
  const idleCpuBefore = cpuOf(platform, servers);
  await sleep(3000);
  const idleCpu = cpuOf(platform, servers);
  const idleWindowEnd = Date.now();
  const idleCores = Object.keys(idleCpu).reduce((n, k) => n + idleCpu[k]! - (idleCpuBefore[k] ?? 0), 0) / (idleWindowEnd - idleWindowStart);
  const idlePerSecond = (total(snapshot()) - total(before)) / ((Date.now() - idleWindowStart) / 1000);
  before = snapshot();
  const cpuBefore = cpuOf(platform, servers);
  const loadBefore = loadavg()[0]!;
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const r = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: String(i), properties: { n: i } } });
        if (r.status !== 202) throw new Error(`enrollment ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }),
  );
  const acceptedSeconds = (Date.now() - t0) / 1000;
  const enrollments = client.db(`${namespace}_log`).collection('enrollments');
  for (const deadline = Date.now() + 1_800_000; ;) {
    await sleep(500);
    if ((await enrollments.countDocuments({ 'd.status': 'completed' })) >= N) break;
    if (Date.now() > deadline) throw new Error('timed out waiting for the enrollments to complete');
  }
  const cpuAfter = cpuOf(platform, servers);
  const cpuSeconds = (Date.now() - t0) / 1000;
  const loadAfter = loadavg()[0]!;
  const done = (await enrollments.find({}).toArray()).map((d) => d.d as { enrollmentId: string; startedAt: number; finishedAt: number });
  const finishedAt = Math.max(...done.map((d) => Number(d.finishedAt)));
  const executed = new Map((await client.db(`${namespace}_log`).collection('executions').find({}).toArray()).map((d) => [String(d.d.enrollmentId), Number(d.d.finishedAt)] as const));
  const toExecuted = done.flatMap((d) => (executed.has(d.enrollmentId) ? [executed.get(d.enrollmentId)! - d.startedAt] : []));
  const toCompleted = done.flatMap((d) => (executed.has(d.enrollmentId) ? [d.finishedAt - executed.get(d.enrollmentId)!] : []));
  const seconds = (finishedAt - t0) / 1000;
  const countedSeconds = (Date.now() + 2000 - t0) / 1000;
  // Whatever the last completion still caused (projections of the other topics) lands too.
  await sleep(2000);
  const after = snapshot();
  const byApp: Record<string, number> = {};
  const byCommand: Record<string, number> = {};
  for (const [app, counts] of after) {
    const was = before.get(app) ?? {};
    for (const [key, n] of Object.entries(counts)) {
      const d = n - (was[key] ?? 0);
      if (d <= 0) continue;
      const appName = app.split('#')[0]!;
      byApp[appName] = (byApp[appName] ?? 0) + d;
      const cmd = `${appName}: ${key.replace(`${namespace}_`, '')}`;
      byCommand[cmd] = (byCommand[cmd] ?? 0) + d;
    }
  }
  const all = Object.values(byApp).reduce((a, b) => a + b, 0);
  const per = (n: number) => +(n / N).toFixed(2);
  console.log(
    JSON.stringify(
      {
        enrollments: N,
        concurrency: CONCURRENCY,
        completedPerSecond: +(N / seconds).toFixed(1),
        mongoOpsPerEnrollment: per(all),
        // What the platform does whatever the load (claims' lease reaper, timers and schedules
        // looked at), measured idle before, and what is left per enrollment without it.
        idleOpsPerSecond: +idlePerSecond.toFixed(1),
        // Completed/s is what the machine gives the run: its CPU per enrollment and the load beside it.
        loadAverage: [+loadBefore.toFixed(1), +loadAfter.toFixed(1)],
        acceptedPerSecond: +(N / acceptedSeconds).toFixed(1),
        cpuMsPerEnrollment: +(Object.keys(cpuAfter).reduce((n, k) => n + cpuAfter[k]! - (cpuBefore[k] ?? 0), 0) / N).toFixed(1),
        cpuMsPerEnrollmentByProcess: Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, +((cpuAfter[k]! - (cpuBefore[k] ?? 0)) / N).toFixed(1)])),
        // What the platform burns idle (consumers' fetches and heartbeats, reapers, timers), and
        // the CPU per enrollment less it: the idle part grows with how long the run takes.
        idleCpuCores: +idleCores.toFixed(2),
        idleCpuCoresByProcess: Object.fromEntries(Object.keys(idleCpu).map((k) => [k, +((idleCpu[k]! - (idleCpuBefore[k] ?? 0)) / (idleWindowEnd - idleWindowStart)).toFixed(2)])),
        cpuMsPerEnrollmentLessIdle: +((Object.keys(cpuAfter).reduce((n, k) => n + cpuAfter[k]! - (cpuBefore[k] ?? 0), 0) - idleCores * cpuSeconds * 1000) / N).toFixed(1),
        cpuCoresUsed: +(Object.keys(cpuAfter).reduce((n, k) => n + cpuAfter[k]! - (cpuBefore[k] ?? 0), 0) / 1000 / cpuSeconds).toFixed(2),
        msToExecuted: spread(toExecuted),
        msExecutedToCompleted: spread(toCompleted),
        mongoOpsPerEnrollmentLessIdle: per(all - idlePerSecond * countedSeconds),
        byApp: Object.fromEntries(Object.entries(byApp).map(([k, v]) => [k, per(v)])),
        byCommand: Object.fromEntries(
          Object.entries(byCommand)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => [k, per(v)]),
        ),
      },
      null,
      2,
    ),
  );
} finally {
  await client.close();
  await platform.stop();
  await dropNamespaceDatabases(mongoUri, namespace);
}
