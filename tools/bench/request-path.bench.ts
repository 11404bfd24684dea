/**
 * Request-path benchmark (issue 17): three targets side by side, interleaved round after round
 * on the same machine, each at concurrency 1 and 16:
 *   - floor: a bare `node:http` server that runs the same trivial action in a fresh `vm` context
 *     per request (its own process, so its CPU is measured the same way);
 *   - webhook: `POST /hooks/{token}` of a one-action JsWorkflows workflow on `codestep dev`
 *     (embedded mode), answered with `start`'s return value once it has run;
 *   - enrollment: `POST /v1/workflows/{id}/enrollments` of a one-action custom code workflow
 *     (answered 202 at once), then every enrollment waited for until completed; its latency is
 *     the server's own enroll→completed time (startedAt → finishedAt).
 * Printed per target and concurrency: req/s (for enrollments: completed/s), p50/p99, CPU per
 * request from /proc (utime + stime of the server process and every descendant, the sandbox host
 * included; for enrollments until the last one completed), peak RSS (VmHWM, summed over the
 * tree, and of the main process alone), and the ratios to the floor of the same round; then
 * min/median/max over the rounds.
 *   node tools/bench/request-path.bench.ts [rounds=3] [requests at 16=2000] [requests at 1=300]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startPlatform, waitFor } from '../../apps/cli/src/e2e/platform-process.ts';

const ROUNDS = Number(process.argv[2] ?? 3);
const N16 = Number(process.argv[3] ?? 2000);
const N1 = Number(process.argv[4] ?? 300);
const CLK_TCK = 100; // USER_HZ on Linux
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** The process and every descendant, read from /proc. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone since the listing.
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** CPU seconds (user + system) of the tree. */
function cpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of tree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime
    } catch {
      // Gone.
    }
  }
  return ticks / CLK_TCK;
}

/** Peak resident memory (VmHWM) of the server process alone, or summed over its tree, MB. */
function peakRssMb(root: number, whole = true): number {
  let kb = 0;
  for (const pid of whole ? tree(root) : [root]) {
    try {
      kb += Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone.
    }
  }
  return Math.round(kb / 1024);
}

const FLOOR_SERVER = `
const http = require('node:http'); const vm = require('node:vm');
const code = 'exports.main = async (event) => ({ outputFields: { n: event.n * 2 } })';
const script = new vm.Script('(function (exports, event) {' + code + '; return exports.main(event); })');
http.createServer((req, res) => {
  const chunks = []; req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const context = vm.createContext(Object.create(null));
    const out = await script.runInContext(context)({}, JSON.parse(Buffer.concat(chunks).toString() || '{}'));
    const body = JSON.stringify(out);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body);
  });
}).listen(0, '127.0.0.1', function () { console.log('listening ' + this.address().port); });`;

async function startFloor(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', FLOOR_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.on('data', (d: Buffer) => /listening (\d+)/.test(d.toString()) && resolve(Number(/listening (\d+)/.exec(d.toString())![1]))));
  return { url: `http://127.0.0.1:${port}`, child };
}

/** A keep-alive POST (the client's own cost kept low: it shares the machine). */
function post(agent: Agent, url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Sample {
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerReq: number;
  peakRssMb: number;
  /** The server process alone (the platform's main process, without the sandbox host and its workers). */
  mainPeakRssMb: number;
}

/** Sends n requests with `concurrency` in flight; `settle` waits for work the answers left running. */
async function drive(pid: number, n: number, concurrency: number, send: (i: number, agent: Agent) => Promise<number>, settle?: () => Promise<number[]>): Promise<Sample> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) latencies.push(await send(next++, agent));
    }),
  );
  let seconds = (performance.now() - t0) / 1000;
  let lat = latencies;
  if (settle) {
    const done = await settle();
    seconds = done[0]!;
    lat = done.slice(1);
  }
  const cpu = cpuSeconds(pid) - cpu0;
  agent.destroy();
  return {
    reqPerS: Math.round(n / seconds),
    p50Ms: round2(pct(lat, 50)),
    p99Ms: round2(pct(lat, 99)),
    cpuMsPerReq: round2((cpu * 1000) / n),
    peakRssMb: peakRssMb(pid),
    mainPeakRssMb: peakRssMb(pid, false),
  };
}

const floor = await startFloor();
const platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-bench-rp-')), CODESTEP_EXECUTOR_CONCURRENCY: '8' });
const platformPid = platform.child.pid!;
const results: Array<{ round: number; target: string; concurrency: number } & Sample> = [];
try {
  const call = api(platform.url, platform.apiKey);
  const hookWf = await call('POST', '/v1/workflows', {
    name: 'bench hook',
    actions: [{ id: 'one', runtime: 'jsworkflows', code: 'export class Workflow { async start(data) { return { n: data.n * 2 }; } }' }],
  });
  const hook = (await call('POST', `/v1/workflows/${hookWf.body.id}/webhook`)).body.path as string;
  const enrollWf = await call('POST', '/v1/workflows', {
    name: 'bench enroll',
    actions: [
      {
        id: 'one',
        code: 'exports.main = async (event) => ({ outputFields: { n: event.inputFields.n * 2 } })',
        inputFields: [{ name: 'n', property: 'n' }],
        outputFields: [{ name: 'n', type: 'number' }],
      },
    ],
  });
  const enrollPath = `/v1/workflows/${enrollWf.body.id}/enrollments`;
  const auth = { authorization: `Bearer ${platform.apiKey}` };
  let enrolled = 0;

  const timed = async (fn: () => Promise<{ status: number; text: string }>, ok: number) => {
    const t = performance.now();
    const r = await fn();
    if (r.status !== ok) throw new Error(`answered ${r.status} (expected ${ok}): ${r.text.slice(0, 300)}`);
    return performance.now() - t;
  };
  const targets = {
    floor: (n: number, c: number) => drive(floor.child.pid!, n, c, (i, agent) => timed(() => post(agent, floor.url, JSON.stringify({ n: i })), 200)),
    webhook: (n: number, c: number) => drive(platformPid, n, c, (i, agent) => timed(() => post(agent, platform.url + hook, JSON.stringify({ n: i })), 200)),
    enrollment: (n: number, c: number) => {
      const first = enrolled;
      enrolled += n;
      const t0Wall = Date.now();
      return drive(
        platformPid,
        n,
        c,
        (i, agent) => timed(() => post(agent, platform.url + enrollPath, JSON.stringify({ object: { objectId: String(first + i), properties: { n: i } } }), auth), 202),
        async () => {
          const done = await waitFor(
            `${enrolled} completed enrollments`,
            async () => {
              const r = await call('GET', `/v1/enrollments?workflowId=${enrollWf.body.id}&status=completed&limit=5000`);
              const mine = (r.body.enrollments as Array<{ object: { objectId: string }; startedAt: string; finishedAt: string }>).filter((e) => Number(e.object.objectId) >= first);
              return mine.length >= n ? mine : undefined;
            },
            600_000,
          );
          const seconds = (Math.max(...done.map((e) => Date.parse(e.finishedAt))) - t0Wall) / 1000;
          return [seconds, ...done.map((e) => Date.parse(e.finishedAt) - Date.parse(e.startedAt))];
        },
      );
    },
  };
  // Warm-up (sandbox workers, code caches, JIT), not measured.
  for (const run of Object.values(targets)) await run(100, 8);

  for (let round = 1; round <= ROUNDS; round++) {
    for (const concurrency of [1, 16]) {
      for (const [target, run] of Object.entries(targets)) {
        const sample = await run(concurrency === 1 ? N1 : N16, concurrency);
        results.push({ round, target, concurrency, ...sample });
        process.stderr.write(`round ${round} ${target} c=${concurrency}: ${JSON.stringify(sample)}\n`);
      }
    }
  }
} finally {
  await platform.stop();
  floor.child.kill();
}

const summary: Record<string, unknown>[] = [];
const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]} / ${s[Math.floor((s.length - 1) / 2)]} / ${s[s.length - 1]}`;
};
for (const concurrency of [1, 16]) {
  for (const target of ['floor', 'webhook', 'enrollment']) {
    const mine = results.filter((r) => r.target === target && r.concurrency === concurrency);
    const ratio = (f: (r: Sample) => number) => stat(mine.map((r) => round2(f(r) / f(results.find((x) => x.round === r.round && x.target === 'floor' && x.concurrency === concurrency)!))));
    summary.push({
      target,
      concurrency,
      'req/s (min / median / max)': stat(mine.map((r) => r.reqPerS)),
      'p50 ms': stat(mine.map((r) => r.p50Ms)),
      'p99 ms': stat(mine.map((r) => r.p99Ms)),
      'CPU ms/req': stat(mine.map((r) => r.cpuMsPerReq)),
      'peak RSS MB': stat(mine.map((r) => r.peakRssMb)),
      'peak RSS MB, main process': stat(mine.map((r) => r.mainPeakRssMb)),
      ...(target === 'floor' ? {} : { 'req/s ÷ floor': ratio((r) => r.reqPerS), 'CPU ÷ floor': ratio((r) => r.cpuMsPerReq), 'p50 ÷ floor': ratio((r) => r.p50Ms) }),
    });
  }
}
console.log(JSON.stringify({ rounds: ROUNDS, requestsAt16: N16, requestsAt1: N1, summary }, null, 2));
