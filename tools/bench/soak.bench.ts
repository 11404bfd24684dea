/**
 * Soak benchmark (issue 17 point 5): is memory level under sustained load? `codestep dev`
 * (embedded mode) takes webhook calls of a one-action JsWorkflows workflow at a fixed concurrency
 * until a number of calls or a time budget is reached, whichever comes first. After a warm-up, the
 * resident memory (VmRSS from /proc) of every process of the platform's tree — the main process,
 * the sandbox host, anything else it started — is sampled at regular intervals. Printed per
 * process: RSS at the first and last sample after warm-up, the median of the first and last
 * quarter of the samples, the least-squares slope in MB per 10,000 calls, and a verdict: level
 * when the last quarter's median is within `tolerance` MB (default 32) or 10% of the first
 * quarter's, growing otherwise.
 *
 *   npm run bench:soak -- [calls=100000] [minutes=30] [concurrency=16] [warm-up calls=5000]
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startPlatform } from '../../apps/cli/src/e2e/platform-process.ts';

const CALLS = Number(process.argv[2] ?? 100_000);
const MINUTES = Number(process.argv[3] ?? 30);
const CONCURRENCY = Number(process.argv[4] ?? 16);
const WARM_UP = Number(process.argv[5] ?? 5_000);
const TOLERANCE_MB = Number(process.env.SOAK_TOLERANCE_MB ?? 32);
/** Samples after warm-up: one per this many calls (at least 20 over the run). */
const SAMPLE_EVERY = Math.max(100, Math.floor((CALLS - WARM_UP) / 40));

/** The process and every descendant, with their command names, read from /proc. */
function tree(root: number): Array<{ pid: number; name: string }> {
  const children = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      names.set(
        Number(entry),
        cmd
          .slice(1)
          .find((a) => a.endsWith('.ts') || a.endsWith('.js') || a.endsWith('.mjs'))
          ?.split('/')
          .slice(-3)
          .join('/') ??
          cmd[0] ??
          entry,
      );
    } catch {
      // Gone since the listing.
    }
  }
  const out: Array<{ pid: number; name: string }> = [];
  const walk = (pid: number) => {
    out.push({ pid, name: names.get(pid) ?? String(pid) });
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

function rssMb(pid: number): number | undefined {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return undefined;
  }
}

function post(agent: Agent, url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-bench-soak-')), CODESTEP_EXECUTOR_CONCURRENCY: '8' });
const pid = platform.child.pid!;
/** Per process (pid:name): [calls so far, RSS MB] after warm-up. */
const samples = new Map<string, Array<[number, number]>>();
let sent = 0;
let failed = 0;
const started = performance.now();
const deadline = started + MINUTES * 60_000;
try {
  const call = api(platform.url, platform.apiKey);
  const wf = await call('POST', '/v1/workflows', {
    name: 'soak hook',
    actions: [{ id: 'one', runtime: 'jsworkflows', code: 'export class Workflow { async start(data) { return { n: data.n * 2, at: Date.now() }; } }' }],
  });
  const hook = platform.url + ((await call('POST', `/v1/workflows/${wf.body.id}/webhook`)).body.path as string);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let nextSample = WARM_UP;
  let taken = 0;
  const sample = () => {
    for (const p of tree(pid)) {
      const mb = rssMb(p.pid);
      if (mb === undefined || mb === 0) continue;
      const key = `${p.pid} ${p.name}`;
      samples.set(key, [...(samples.get(key) ?? []), [sent, mb]]);
    }
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < CALLS && performance.now() < deadline) {
        const i = sent++;
        const status = await post(agent, hook, JSON.stringify({ n: i }));
        if (status !== 200) failed++;
        if (sent >= nextSample) {
          nextSample += SAMPLE_EVERY;
          sample();
          if (++taken % 4 === 0) {
            const main = samples.get(`${pid} ${tree(pid)[0]!.name}`)?.at(-1)?.[1];
            process.stderr.write(`${sent} calls, ${Math.round((performance.now() - started) / 1000)} s, main RSS ${main === undefined ? '?' : round1(main)} MB\n`);
          }
        }
      }
    }),
  );
  sample();
  agent.destroy();
} finally {
  await platform.stop();
}

const seconds = (performance.now() - started) / 1000;
const processes = [...samples.entries()]
  .filter(([, points]) => points.length >= 4)
  .map(([key, points]) => {
    const q = Math.max(1, Math.floor(points.length / 4));
    const first = median(points.slice(0, q).map(([, y]) => y));
    const last = median(points.slice(-q).map(([, y]) => y));
    const grew = last - first;
    return {
      process: key,
      samples: points.length,
      'RSS MB at warm-up end': round1(points[0]![1]),
      'RSS MB at the end': round1(points.at(-1)![1]),
      'median MB, first quarter': round1(first),
      'median MB, last quarter': round1(last),
      'MB per 10,000 calls (slope)': round1(slope(points) * 10_000),
      verdict: grew <= Math.max(TOLERANCE_MB, first * 0.1) ? 'level' : 'growing',
    };
  });
console.log(
  JSON.stringify(
    { calls: sent, failed, seconds: Math.round(seconds), callsPerSecond: Math.round(sent / seconds), concurrency: CONCURRENCY, warmUpCalls: WARM_UP, sampleEvery: SAMPLE_EVERY, processes },
    null,
    2,
  ),
);
if (processes.some((p) => p.verdict === 'growing')) process.exitCode = 1;
