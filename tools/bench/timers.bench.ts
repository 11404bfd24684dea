/**
 * Durable timers benchmark (embedded mode, `codestep dev` as a real process): W JsWorkflows waits
 * (`api.waitForEvent`, PER_RUN per run: 1,000 by default, the most one step may ask for unless the
 * operator raises `CODESTEP_STEP_MAX_NEXT_STEPS`, which the bench then does) wait on their
 * timeouts, then all come due, spread evenly over SPREAD seconds from one instant. It prints:
 * - setup: how long the waits took to be recorded (every run's `start` done and its waits in the
 *   history), and the platform's memory (RSS of its process tree, and of its main process) before
 *   and while they wait, with the data directory's size;
 * - idle: the CPU the process tree used over IDLE seconds while every wait waited (none due);
 * - firing: timers fired/s (timeouts between the first due time and the completion of the last run,
 *   which the step machine decides as the run's last wait times out) and, per run, how late it
 *   completed after its last wait's due time (p50, p99, max), from the history once every run has
 *   completed. (A `WaitTimedOut` is stamped with its due time, so its own time says nothing.)
 * - api: the latency of a light API call (`GET /v1/workflows/{id}`, one at a time, every 250 ms)
 *   while the waits wait and while they fire, with the calls that failed or answered other than 200.
 *   node tools/bench/timers.bench.ts [W=100000] [SPREAD=0] [IDLE=20] [LEAD=60 + 20 per 10,000 waits] [PER_RUN=1000]
 */
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startPlatform, waitFor } from '../../apps/cli/src/e2e/platform-process.ts';

const W = Number(process.argv[2] ?? 100_000);
const SPREAD_S = Number(process.argv[3] ?? 0);
const IDLE_S = Number(process.argv[4] ?? 20);
/** How far ahead of the enrollment the first wait is due, s: setup must end first (100,000 waits took about 3 minutes on the shared 2-core machine). */
const LEAD_S = Number(process.argv[5] ?? 60 + (W / 10_000) * 20);
const PER_RUN = Number(process.argv[6] ?? 1000);
const RUNS = Math.ceil(W / PER_RUN);

/** `start` asks for its waits, each due at `dueAt + i * step` (absolute ms, so setup time does not move them). */
const WAITS = `class Workflow {
  async start(data, headers, api) {
    const p = data.object.properties;
    const n = Number(p.n), first = Number(p.first), dueAt = Number(p.dueAt), step = Number(p.step);
    for (let i = 0; i < n; i++) {
      const at = dueAt + (first + i) * step;
      await api.waitForEvent({ action: 'never', payload: { i }, timeout: Math.max(0, (at - Date.now()) / 1000) });
    }
  }
  async never() {}
}`;

type Call = ReturnType<typeof api>;

/** The pids of a process and its descendants. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  const out: number[] = [];
  const visit = (p: number) => (out.push(p), (children.get(p) ?? []).forEach(visit));
  visit(root);
  return out;
}

/** RSS of the tree, MB. */
function rssMb(root: number): number {
  let kb = 0;
  for (const p of tree(root)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {}
  }
  return Math.round(kb / 1024);
}

/** RSS of the process alone, MB. */
function ownRssMb(pid: number): number {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** CPU time of the tree (user + system), ms. */
function cpuMs(root: number): number {
  let ticks = 0;
  for (const p of tree(root)) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

function duMb(dir: string): number {
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.round(bytes / 1048576);
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** Calls `GET /v1/workflows/{id}` one at a time, every 250 ms, until stopped: each call's latency (ms) and its failures. */
function probeApi(url: string, key: string | undefined, workflowId: string): { stop(): Promise<{ calls: number; failed: number; p50: number; p99: number; max: number }> } {
  const latencies: number[] = [];
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}/v1/workflows/${workflowId}`, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(60_000) });
        await res.text();
        if (res.status !== 200) failed++;
      } catch {
        failed++;
      }
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sorted = latencies.sort((a, b) => a - b);
      const ms = (q: number) => Math.round(percentile(sorted, q));
      return { calls: sorted.length, failed, p50: ms(0.5), p99: ms(0.99), max: Math.round(sorted.at(-1) ?? NaN) };
    },
  };
}

async function completed(call: Call, workflowId: string): Promise<number> {
  const r = await call('GET', `/v1/enrollments?workflowId=${workflowId}&status=completed&limit=5000`);
  if (r.status !== 200) {
    console.error(`# GET /v1/enrollments answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
    return -1;
  }
  return r.body.enrollments.length;
}

const dataDir = mkdtempSync(join(tmpdir(), 'codestep-timers-bench-'));
const platform = await startPlatform({
  CODESTEP_DATA_DIR: dataDir,
  CODESTEP_STEP_MIN_DELAY_MS: '0',
  CODESTEP_STEP_MAX_NEXT_STEPS: String(Math.max(1000, PER_RUN)),
  CODESTEP_STEP_MAX_BRANCHES: String(Math.max(10_000, PER_RUN)),
  ...(process.env.CODESTEP_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.CODESTEP_BENCH_NODE_OPTIONS } : {}),
});
const pid = platform.child.pid!;
try {
  const raw = api(platform.url, platform.apiKey);
  // A kept-alive connection the server closes as it is reused (ECONNRESET) is tried again.
  const call: Call = async (...args) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await raw(...args);
      } catch (error) {
        if (attempt >= 3) throw error;
        console.error(`# ${args[0]} ${args[1]}: ${(error as Error).message} (${String((error as { cause?: unknown }).cause)}); trying again`);
      }
    }
  };
  const wf = await call('POST', '/v1/workflows', { name: 'timers bench', objectType: 'WEBHOOK', actions: [{ id: 'waits', runtime: 'jsworkflows', code: WAITS }] });
  if (wf.status !== 201) throw new Error(JSON.stringify(wf.body));
  const rssBefore = rssMb(pid);
  const mainRssBefore = ownRssMb(pid);

  const dueAt = Date.now() + LEAD_S * 1000;
  const step = (SPREAD_S * 1000) / W;
  const t0 = Date.now();
  const rows = Array.from({ length: RUNS }, (_, r) => ({ objectId: `run-${r}`, properties: { n: Math.min(PER_RUN, W - r * PER_RUN), first: r * PER_RUN, dueAt, step } }));
  const batch = await call('POST', `/v1/workflows/${wf.body.id}/enrollments:batch`, rows);
  if (batch.status !== 202) throw new Error(JSON.stringify(batch.body));
  const ids = await waitFor(
    'every run to be enrolled',
    async () => {
      const r = await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&limit=5000`);
      return r.body.enrollments.length === RUNS ? (r.body.enrollments as Array<{ id: string }>).map((e) => e.id) : undefined;
    },
    1_800_000,
  );
  const pending = new Set(ids);
  await waitFor(
    'every wait to be recorded',
    async () => {
      for (const id of [...pending]) {
        const e = (await call('GET', `/v1/enrollments/${id}`)).body;
        if (e.executions.filter((x: { wait?: unknown }) => x.wait).length === Number(e.object.properties.n) || e.status !== 'running') pending.delete(id);
        else break;
      }
      if (pending.size === 0) return true;
      // Each look reads a run's whole history (its 1,000 waits): not too often, so as not to slow what is measured.
      await new Promise((r) => setTimeout(r, 1000));
      return undefined;
    },
    1_800_000,
  );
  const setupS = (Date.now() - t0) / 1000;
  const rssWaiting = rssMb(pid);
  const mainRssWaiting = ownRssMb(pid);
  const idleFrom = cpuMs(pid);
  if (Date.now() > dueAt) console.error(`# setup ended ${((Date.now() - dueAt) / 1000).toFixed(0)} s after the first due time: the idle figures are not idle (raise LEAD)`);
  const idleWindow = Math.min(IDLE_S * 1000, dueAt - Date.now() - 2000);
  await new Promise((r) => setTimeout(r, Math.max(0, idleWindow)));
  const idleCpuMs = cpuMs(pid) - idleFrom;
  const rssIdle = rssMb(pid);
  const setup = {
    seconds: setupS,
    rssMbBefore: rssBefore,
    rssMbWaiting: rssWaiting,
    rssMbAfterIdle: rssIdle,
    mainProcessRssMb: { before: mainRssBefore, waiting: mainRssWaiting, afterIdle: ownRssMb(pid) },
    dataDirMb: duMb(dataDir),
  };
  const idle = { seconds: Math.round(idleWindow / 100) / 10, cpuMs: idleCpuMs, cpuPercent: Math.round((idleCpuMs / Math.max(1, idleWindow)) * 1000) / 10 };
  console.error(`# waiting: ${JSON.stringify({ setup, idle })}`);

  // The API while nothing is due (until 1 s before the first due time), then while the timers fire.
  const waitingProbe = probeApi(platform.url, platform.apiKey, wf.body.id);
  await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now() - 1000)));
  const apiWhileWaiting = await waitingProbe.stop();
  const firingProbe = probeApi(platform.url, platform.apiKey, wf.body.id);
  await waitFor(
    'every run to complete (all its waits timed out)',
    async () => {
      await new Promise((r) => setTimeout(r, 5000));
      const n = await completed(call, wf.body.id);
      console.error(`# ${((Date.now() - dueAt) / 1000).toFixed(0)} s after the first due time: ${n} of ${RUNS} runs completed`);
      return n === RUNS ? true : undefined;
    },
    3_600_000,
  );
  const apiWhileFiring = await firingProbe.stop();
  // A timeout's event is stamped with its due time (so deciding it twice gives the same record): when
  // it really fired shows in its run's completion, decided as the run's last wait timed out.
  const late: number[] = [];
  let firstDue = Infinity;
  let lastFired = 0;
  let timedOut = 0;
  for (const id of ids) {
    const e = (await call('GET', `/v1/enrollments/${id}`)).body;
    const dues = (e.executions as Array<{ wait?: { state: string; timeoutAt: string } }>).flatMap((x) => (x.wait?.state === 'timed_out' ? [Date.parse(x.wait.timeoutAt)] : []));
    timedOut += dues.length;
    const finished = Date.parse(e.finishedAt);
    late.push(finished - Math.max(...dues));
    firstDue = Math.min(firstDue, ...dues);
    lastFired = Math.max(lastFired, finished);
  }
  late.sort((a, b) => a - b);
  const firingS = (lastFired - firstDue) / 1000;
  console.log(
    JSON.stringify(
      {
        waits: W,
        runs: RUNS,
        waitsPerRun: PER_RUN,
        spreadSeconds: SPREAD_S,
        setup,
        idle,
        firing: {
          timedOut,
          seconds: firingS,
          firedPerSecond: Math.round(timedOut / Math.max(0.001, firingS)),
          runCompletedLateMs: { p50: percentile(late, 0.5), p99: percentile(late, 0.99), max: late.at(-1) },
          rssMbAfter: rssMb(pid),
        },
        apiLatencyMs: { whileWaiting: apiWhileWaiting, whileFiring: apiWhileFiring },
      },
      null,
      2,
    ),
  );
} catch (error) {
  console.error(platform.output().slice(-4000));
  throw error;
} finally {
  await platform.stop();
}
