// Benchmark: cold build, then the cost of a fresh context (prelude install) and of evaluating
// each library in it, three ways:
//   - from source:    a new worker (fresh V8 isolate) compiles every script from source;
//   - code cache:     a new worker compiles from V8 code cache produced by an earlier run;
//   - reused script:  a warm worker reuses its compiled scripts for yet another fresh context.
// Each figure is a median; ratios are against "from source" measured in this same run.
//   node libs/sandbox-runtime/src/runtime.bench.ts [workers-per-mode]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { buildSandboxRuntime, loadSandboxRuntime } from './runtime.build.ts';
import { ALLOWED_LIBRARIES, WEB_RUNTIME_MODULE } from './runtime.types.ts';
import { createRuntimeContext, ScriptCache } from './testing/runtime-context.ts';

type Mode = 'from source' | 'code cache' | 'reused script';
type Timings = Record<string, number>;

const LIBS = [...ALLOWED_LIBRARIES];

/** One fresh context: install, then each library's first require, then a first URL. */
async function measureContext(scripts: ScriptCache): Promise<Timings> {
  const runtime = await loadSandboxRuntime();
  const out: Timings = {};
  let t = performance.now();
  const ctx = createRuntimeContext(runtime, { scripts });
  out['context + prelude install'] = performance.now() - t;
  for (const name of LIBS) {
    t = performance.now();
    ctx.run(`require(${JSON.stringify(name)})`);
    out[name] = performance.now() - t;
  }
  t = performance.now();
  ctx.run(`new URL('https://example.com/?a=1').searchParams.get('a')`);
  out['first URL use'] = performance.now() - t;
  return out;
}

if (!isMainThread) {
  const { mode, cachedData } = workerData as { mode: Mode; cachedData: Array<[string, Uint8Array]> };
  const scripts = new ScriptCache(mode === 'code cache' ? new Map(cachedData.map(([k, v]) => [k, Buffer.from(v)])) : new Map());
  const first = await measureContext(scripts);
  // Warm worker: same compiled scripts, a fresh context.
  const reused = await measureContext(scripts);
  parentPort?.postMessage({ first, reused, fromCache: [...scripts.fromCache] });
} else {
  const workersPerMode = Number(process.argv[2] ?? 5);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const ms = (x: number) => `${x.toFixed(2)} ms`;

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'codestep-runtime-bench-'));
  const cold = await buildSandboxRuntime({ cacheDir: tmp, force: true });
  await rm(tmp, { recursive: true, force: true });
  const loadStart = performance.now();
  await buildSandboxRuntime();
  const loadMs = performance.now() - loadStart;
  const runtime = await loadSandboxRuntime();
  console.log(`cold build (esbuild, all bundles): ${ms(cold.durationMs)}; read from the disk cache: ${ms(loadMs)}`);
  console.log(
    `sizes: prelude ${Math.round(runtime.prelude.source.length / 1024)} KiB; web runtime ${Math.round((runtime.libraries[WEB_RUNTIME_MODULE]?.source.length ?? 0) / 1024)} KiB; ${LIBS.map((n) => `${n} ${Math.round((runtime.libraries[n]?.source.length ?? 0) / 1024)} KiB`).join(', ')}`,
  );

  // Code cache produced after running everything once, so lazily compiled functions are in it.
  const producer = new ScriptCache();
  const warmup = createRuntimeContext(runtime, { scripts: producer });
  await warmup.runAsync(`${LIBS.map((n) => `require(${JSON.stringify(n)});`).join(' ')} new URL('http://a/'); return null;`);
  const cachedData = [...producer.createCachedData()];

  const runWorker = (mode: Mode) =>
    new Promise<{ first: Timings; reused: Timings; fromCache: string[] }>((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { mode, cachedData } });
      worker.once('message', (m: { first: Timings; reused: Timings; fromCache: string[] }) => {
        resolve(m);
        void worker.terminate();
      });
      worker.once('error', reject);
    });

  const samples: Record<Mode, Timings[]> = { 'from source': [], 'code cache': [], 'reused script': [] };
  for (let i = 0; i < workersPerMode; i++) {
    const src = await runWorker('from source');
    samples['from source'].push(src.first);
    samples['reused script'].push(src.reused);
    const cached = await runWorker('code cache');
    if (cached.fromCache.length === 0) throw new Error('code cache was rejected');
    samples['code cache'].push(cached.first);
  }
  const keys = Object.keys(samples['from source'][0] ?? {});
  const med = (mode: Mode, key: string) => median(samples[mode].map((s) => s[key] ?? NaN));
  console.log(`\nmedian over ${workersPerMode} fresh workers per mode (ratio = mode / from source):`);
  console.log(`${'what'.padEnd(28)}${'from source'.padStart(14)}${'code cache'.padStart(22)}${'reused script'.padStart(22)}`);
  for (const key of keys) {
    const base = med('from source', key);
    const cell = (v: number) => `${ms(v)} (${(v / base).toFixed(2)}x)`.padStart(22);
    console.log(`${key.padEnd(28)}${ms(base).padStart(14)}${cell(med('code cache', key))}${cell(med('reused script', key))}`);
  }
}
