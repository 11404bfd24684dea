/**
 * Sandbox benchmark: `npm run bench:sandbox -- [--quick] [--pool=2] [--rounds=3]`
 * (or `node tools/bench/sandbox.bench.ts …`). Prints figures, asserts nothing.
 *
 * For three actions (trivial, a lodash transform, one HTTP call to a local server) it measures
 * - latency, one execution at a time, through the whole sandbox (client → host process →
 *   worker → fresh context → back), against the same function called in a warm bare `vm`
 *   context of this process, measured in the same run: the difference is the sandbox's overhead;
 * - throughput, many executions submitted at once, in several rounds (the machine is shared:
 *   every round is printed, then the median), with the CPU time each execution cost in the
 *   client and the sandbox host processes (all their threads, from /proc on Linux). CPU per
 *   execution is steadier than executions/s when other work shares the cores: cores / CPU per
 *   execution is what the sandbox would do on an otherwise idle machine;
 * and, for the sandbox as a whole: host start, cold worker start, first `require` of the
 * HubSpot client in a fresh worker, first `require` of each seed library of each runtime version
 * (`--libraries-only` runs just that), and resident memory per concurrent execution.
 *
 * Baselines, in this process and in the same run: a warm bare `vm` context (the function alone)
 * and, for the trivial action, a fresh bare context per call (`vm.createContext` + running the
 * compiled action: the floor of any design that uses a new context per execution).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import vm from 'node:vm';
import { createSandbox, type ExecutionRequest, type HubSpotEvent, type SandboxHandle, type SandboxOptions } from '@codestep/sandbox';
import { loadSandboxRuntime } from '@codestep/sandbox-runtime';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name: string, fallback: number): number => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  const value = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
};
const POOL = option('pool', 2);
const ROUNDS = option('rounds', quick ? 2 : 3);
const SEQUENTIAL = quick ? 150 : 500;
const THROUGHPUT = { trivial: quick ? 1000 : 3000, lodash: quick ? 300 : 800, http: quick ? 300 : 800 };

interface Scenario {
  name: keyof typeof THROUGHPUT;
  code: string;
}

const scenarios: Scenario[] = [
  { name: 'trivial', code: `exports.main = async (event) => ({ outputFields: { id: event.object.objectId, name: event.inputFields.firstname } });` },
  {
    name: 'lodash',
    code: `const _ = require('lodash');
exports.main = async (event) => {
  const rows = _.range(200).map((i) => ({ id: i, owner: 'owner' + (i % 7), amount: (i * 37) % 101 }));
  const byOwner = _.mapValues(_.groupBy(rows, 'owner'), (list) => _.sumBy(list, 'amount'));
  const top = _.maxBy(_.toPairs(byOwner), 1);
  return { outputFields: { top: top[0], total: _.sum(_.values(byOwner)), name: _.startCase(_.toLower(event.inputFields.firstname)) } };
};`,
  },
  {
    name: 'http',
    code: `exports.main = async (event) => {
  const response = await fetch('https://api.bench.example/ping?id=' + event.object.objectId);
  const body = await response.json();
  return { outputFields: { ok: body.ok, status: response.status } };
};`,
  },
];

let counter = 0;
function sampleEvent(): HubSpotEvent {
  return {
    origin: { portalId: 62515, actionDefinitionId: 1001 },
    object: { objectType: 'CONTACT', objectId: 4 },
    inputFields: { firstname: 'Ada', amount: 12 },
    callbackId: `ap-62515-${++counter}`,
  };
}
function request(code: string, limits = { timeoutMs: 20_000, memoryMb: 128 }): ExecutionRequest {
  return { executionId: `exe_${++counter}`, tenantId: 'tenant_bench', code, input: { runtime: 'hubspot', event: sampleEvent() }, secrets: {}, limits };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1));

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (user + system) of every thread of a process so far, ms; NaN where /proc is not available. */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident memory of a process so far (VmHWM), MB; NaN where /proc is not available. */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function startServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The same actions in one warm, bare `vm` context of this process: the baseline. */
async function bareBaseline(serverUrl: string): Promise<Map<string, () => Promise<unknown>>> {
  const runtime = await loadSandboxRuntime();
  const context = vm.createContext({});
  // The same prelude as in the sandbox (the library bundles read its module registry).
  const install = new vm.Script(runtime.prelude.source).runInContext(context) as (global: unknown, bridge: unknown) => void;
  // The runtime's internal modules (the web platform behind Buffer, URL, fetch…) load on first use.
  const loadModule = (name: string): unknown => {
    const script = name.startsWith('codestep:') ? runtime.libraries[name] : undefined;
    return script === undefined ? undefined : new vm.Script(script.source).runInContext(context);
  };
  install(vm.runInContext('globalThis', context), { fetch: () => undefined, randomBytes: () => '', now: () => performance.timeOrigin + performance.now(), loadModule });
  const lodashSource = runtime.libraries.lodash?.source;
  if (!lodashSource) throw new Error('the runtime has no lodash');
  const lodashFactory = new vm.Script(lodashSource).runInContext(context) as (m: unknown, e: unknown, r: unknown) => void;
  const lodashModule = { exports: {} as unknown };
  lodashFactory(lodashModule, lodashModule.exports, () => ({}));
  // The bare context's fetch is the host's own, pointed straight at the server.
  const hostFetch = (url: string) => fetch(url.replace('https://api.bench.example', serverUrl));
  const calls = new Map<string, () => Promise<unknown>>();
  for (const scenario of scenarios) {
    const factory = new vm.Script(`(function (exports, require, module, fetch) { ${scenario.code}\n})`).runInContext(context) as (e: unknown, r: unknown, m: unknown, f: unknown) => void;
    const module = { exports: {} as { main?: (event: unknown) => Promise<unknown> } };
    factory(module.exports, (name: string) => (name === 'lodash' ? lodashModule.exports : undefined), module, hostFetch);
    const main = module.exports.main;
    if (!main) throw new Error(`no main in ${scenario.name}`);
    calls.set(scenario.name, async () => JSON.stringify(await main(sampleEvent())));
  }
  return calls;
}

/**
 * The trivial action in a new bare context per call (no bootstrap, no runtime, no isolation
 * beyond the context): what creating a context alone costs, on one thread.
 */
function freshContextRate(code: string, count: number): number {
  const script = new vm.Script(`(function (exports, require, module) { ${code}\n})`);
  const once = () => {
    const context = vm.createContext(vm.constants.DONT_CONTEXTIFY, { codeGeneration: { strings: false, wasm: false } });
    const module = { exports: {} as { main?: (event: unknown) => unknown } };
    (script.runInContext(context) as (e: unknown, r: unknown, m: unknown) => void)(module.exports, undefined, module);
    return JSON.stringify(module.exports.main?.(sampleEvent()));
  };
  for (let i = 0; i < 200; i++) once();
  const started = performance.now();
  for (let i = 0; i < count; i++) once();
  return count / ((performance.now() - started) / 1000);
}

async function latencies(run: () => Promise<unknown>, count: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b);
}

async function executeChecked(sandbox: SandboxHandle, req: ExecutionRequest): Promise<void> {
  const result = await sandbox.execute(req);
  if (result.status !== 'succeeded') throw new Error(`benchmark action failed: ${JSON.stringify(result.error)}`);
}

type Figures = Record<string, unknown>;
type Egress = SandboxOptions['egress'];
type Baseline = Map<string, () => Promise<unknown>>;

/** Sandbox start (the first one also builds the bundles and loads the runtime) and the pool's cold worker starts. */
async function measureStart(egress: Egress, figures: Figures): Promise<{ sandbox: SandboxHandle; hostPid: number | undefined }> {
  // Host start: the first sandbox also builds the bundles and loads the runtime (once per process).
  let started = performance.now();
  const first = await createSandbox({ poolSize: POOL, egress });
  const firstStartMs = performance.now() - started;
  await first.close();
  started = performance.now();
  const sandbox = await createSandbox({ poolSize: POOL, egress });
  const hostStartMs = performance.now() - started;
  const hostPid = (await sandbox.stats()).hostPid;
  const coldStarts = [...(await sandbox.stats()).coldStartsMs].sort((a, b) => a - b);
  console.log(`sandbox start: first ${fmt(firstStartMs)} ms (bundles + runtime load + host), then ${fmt(hostStartMs)} ms (host process + pool)`);
  console.log(`cold worker (new Worker → ready, pre-warm): ${coldStarts.map(fmt).join(', ')} ms`);
  figures.sandboxStartMs = { first: Math.round(firstStartMs), warm: Math.round(hostStartMs) };
  figures.coldWorkerMs = coldStarts;
  return { sandbox, hostPid };
}

/** Latency, one execution at a time, against the same function in a warm bare context; returns the figures per action. */
async function measureLatency(sandbox: SandboxHandle, baseline: Baseline, figures: Figures): Promise<Record<string, unknown>> {
  console.log(`\nlatency, one at a time (${SEQUENTIAL} each), ms — sandbox vs warm bare vm context in this process`);
  console.log('action    bare p50  bare p99   sandbox p50  sandbox p99   overhead p50  overhead p99');
  const latencyFigures: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    const bareCall = baseline.get(scenario.name);
    if (!bareCall) continue;
    const bare = await latencies(bareCall, SEQUENTIAL);
    const boxed = await latencies(() => executeChecked(sandbox, request(scenario.code)), SEQUENTIAL);
    const row = { bareP50: percentile(bare, 50), bareP99: percentile(bare, 99), sandboxP50: percentile(boxed, 50), sandboxP99: percentile(boxed, 99) };
    const overheadP50 = row.sandboxP50 - row.bareP50;
    const overheadP99 = row.sandboxP99 - row.bareP99;
    latencyFigures[scenario.name] = { ...row, overheadP50, overheadP99 };
    console.log(
      `${scenario.name.padEnd(8)}  ${fmt(row.bareP50).padStart(8)}  ${fmt(row.bareP99).padStart(8)}   ${fmt(row.sandboxP50).padStart(11)}  ${fmt(row.sandboxP99).padStart(11)}   ${fmt(overheadP50).padStart(12)}  ${fmt(overheadP99).padStart(12)}`,
    );
  }
  figures.latency = latencyFigures;
  return latencyFigures;
}

/** Throughput in rounds, with CPU per execution and the host's peak RSS; returns the trivial action's median rate. */
async function measureThroughput(sandbox: SandboxHandle, baseline: Baseline, hostPid: number | undefined, figures: Figures): Promise<number> {
  console.log(`\nthroughput, all submitted at once, ${ROUNDS} rounds (pool of ${POOL} workers); CPU = client + host processes, all threads`);
  const throughput: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    const count = THROUGHPUT[scenario.name];
    const bareCall = baseline.get(scenario.name);
    let bareRate = Number.NaN;
    if (bareCall) {
      const t = performance.now();
      await Promise.all(Array.from({ length: count }, () => bareCall()));
      bareRate = count / ((performance.now() - t) / 1000);
    }
    const rates: number[] = [];
    const cpuPerExecution: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const clientCpu = process.cpuUsage();
      const hostCpu = processCpuMs(hostPid);
      const t = performance.now();
      await Promise.all(Array.from({ length: count }, () => executeChecked(sandbox, request(scenario.code, { timeoutMs: 60_000, memoryMb: 128 }))));
      const elapsed = performance.now() - t;
      const client = process.cpuUsage(clientCpu);
      const cpuMs = (client.user + client.system) / 1000 + (processCpuMs(hostPid) - hostCpu);
      rates.push(count / (elapsed / 1000));
      cpuPerExecution.push(cpuMs / count);
      console.log(`  ${scenario.name.padEnd(8)} round ${round + 1}: ${String(Math.round(count / (elapsed / 1000))).padStart(6)} executions/s, ${fmt(cpuMs / count)} ms CPU per execution`);
    }
    const rate = median(rates);
    const cpu = median(cpuPerExecution);
    throughput[scenario.name] = {
      median: Math.round(rate),
      min: Math.round(Math.min(...rates)),
      max: Math.round(Math.max(...rates)),
      cpuMsPerExecution: cpu,
      bareCallsPerSecond: Math.round(bareRate),
    };
    console.log(
      `${scenario.name.padEnd(8)}  median ${String(Math.round(rate)).padStart(6)}/s (${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}); ${fmt(cpu)} ms CPU each → ${Math.round((os.availableParallelism() * 1000) / cpu)}/s if ${os.availableParallelism()} cores were free;` +
        ` bare warm context, one thread: ${Math.round(bareRate)} calls/s (ratio ${(rate / bareRate).toFixed(3)})`,
    );
  }
  const trivialScenario = scenarios[0] as Scenario;
  const freshRate = freshContextRate(trivialScenario.code, quick ? 1000 : 3000);
  const trivialMedian = (throughput.trivial as { median: number }).median;
  console.log(`trivial in a new bare context per call (vm.createContext + run, one thread): ${Math.round(freshRate)} calls/s (sandbox/that ratio ${(trivialMedian / freshRate).toFixed(3)})`);
  // Dead contexts wait for a major GC (the host starts V8 with a 64 MB initial old generation):
  // the cost of that, in resident memory, under sustained load.
  const peakMb = peakRssMb(hostPid);
  console.log(`host peak RSS during the throughput rounds (VmHWM, ${POOL} workers): ${peakMb.toFixed(0)} MB`);
  figures.throughput = throughput;
  figures.hostPeakRssMb = Math.round(peakMb);
  figures.freshBareContextPerSecond = Math.round(freshRate);
  return trivialMedian;
}

/** The HubSpot client's first require in a fresh worker, in a replacement worker (code cache), then per execution. */
async function measureHubSpotClient(egress: Egress, figures: Figures): Promise<void> {
  // A fresh worker's first require of the 10.6 MB HubSpot client, then the same worker again.
  const fresh = await createSandbox({ poolSize: 1, egress });
  const hubspot = `const hubspot = require('@hubspot/api-client'); exports.main = async () => ({ outputFields: { ok: typeof hubspot.Client === 'function' } });`;
  let t = performance.now();
  await executeChecked(fresh, request(hubspot));
  const firstRequire = performance.now() - t;
  const again: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    await executeChecked(fresh, request(hubspot));
    again.push(performance.now() - t);
  }
  again.sort((a, b) => a - b);
  // A worker that times out is replaced; its successor compiles from the code cache the first
  // worker shared when it was idle.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const timedOut = await fresh.execute(request(`exports.main = async () => { for (;;) {} }`, { timeoutMs: 100, memoryMb: 128 }));
  if (timedOut.error?.code !== 'TIMEOUT') throw new Error('expected a timeout');
  t = performance.now();
  await executeChecked(fresh, request(hubspot));
  const replacementRequire = performance.now() - t;
  const replacementColdStarts = (await fresh.stats()).coldStartsMs;
  console.log(
    `\n@hubspot/api-client: first require in the first worker ${fmt(firstRequire)} ms (compiled from source); in a replacement worker ${fmt(replacementRequire)} ms (V8 code cache); then per execution (fresh context) p50 ${fmt(percentile(again, 50))} ms`,
  );
  console.log(`cold worker of the replacement (terminate → new Worker → ready): ${fmt(replacementColdStarts.at(-1) ?? Number.NaN)} ms`);
  figures.hubspotClient = { firstRequireMs: firstRequire, replacementWorkerFirstRequireMs: replacementRequire, perExecutionP50Ms: percentile(again, 50) };
  figures.replacementColdWorkerMs = replacementColdStarts.at(-1);
  await fresh.close();
}

/** The Node built-ins (each its own bundle, loaded on first `require`): first require in a worker, then per execution. */
async function measureBuiltins(egress: Egress, figures: Figures): Promise<void> {
  const box = await createSandbox({ poolSize: 1, egress });
  const names = ['crypto', 'zlib', 'stream', 'http', 'https', 'dns', 'fs', 'path', 'os', 'assert', 'string_decoder', 'timers', 'util', 'events', 'buffer', 'url', 'querystring'];
  console.log('\nNode built-ins, in this order in one fresh worker: first require (source sent, compiled, run; what it requires in turn included) / then per execution (fresh context) p50');
  const builtins: Record<string, { firstMs: number; perExecutionP50Ms: number }> = {};
  const base = [] as number[];
  const trivial = `exports.main = async () => ({ outputFields: { ok: true } });`;
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await executeChecked(box, request(trivial));
    base.push(performance.now() - t);
  }
  for (const name of names) {
    const code = `const m = require(${JSON.stringify(name)}); exports.main = async () => ({ outputFields: { ok: typeof m } });`;
    let t = performance.now();
    await executeChecked(box, request(code));
    const firstMs = performance.now() - t;
    const again: number[] = [];
    for (let i = 0; i < 15; i++) {
      t = performance.now();
      await executeChecked(box, request(code));
      again.push(performance.now() - t);
    }
    again.sort((a, b) => a - b);
    builtins[name] = { firstMs, perExecutionP50Ms: percentile(again, 50) };
    console.log(`  ${name.padEnd(15)} ${fmt(firstMs).padStart(7)} ms / ${fmt(percentile(again, 50)).padStart(6)} ms`);
  }
  base.sort((a, b) => a - b);
  console.log(`  (a trivial execution in the same worker, p50: ${fmt(percentile(base, 50))} ms)`);
  figures.builtins = { ...builtins, trivialP50Ms: percentile(base, 50) };
  await box.close();
}

/**
 * The seed libraries of each runtime version (`node20`, `node24`): in one fresh worker per
 * version, each library's first `require` (its source sent from the client through the host,
 * compiled from source, run; what it requires in turn included), then per execution (fresh
 * context, compiled script kept) p50.
 */
async function measureSeedLibraries(egress: Egress, figures: Figures): Promise<void> {
  const names = ['@hubspot/api-client', 'async', 'aws-sdk', 'axios', 'bluebird', 'googleapis', 'lodash', 'mongoose', 'mysql', 'random-number-csprng', 'redis', 'request'];
  const limits = { timeoutMs: 60_000, memoryMb: 512 };
  const all: Record<string, Record<string, { firstMs: number; perExecutionP50Ms: number }>> = {};
  for (const runtimeVersion of ['node20', 'node24']) {
    const box = await createSandbox({ poolSize: 1, egress, defaultMemoryMb: limits.memoryMb });
    console.log(`
seed libraries on ${runtimeVersion}, in this order in one fresh worker: first require / then per execution (fresh context) p50`);
    const libraries: Record<string, { firstMs: number; perExecutionP50Ms: number }> = {};
    for (const name of names) {
      const code = `const m = require(${JSON.stringify(name)}); exports.main = async () => ({ outputFields: { ok: typeof m } });`;
      let t = performance.now();
      await executeChecked(box, { ...request(code, limits), runtimeVersion });
      const firstMs = performance.now() - t;
      const again: number[] = [];
      for (let i = 0; i < 5; i++) {
        t = performance.now();
        await executeChecked(box, { ...request(code, limits), runtimeVersion });
        again.push(performance.now() - t);
      }
      again.sort((a, b) => a - b);
      libraries[name] = { firstMs, perExecutionP50Ms: percentile(again, 50) };
      console.log(`  ${name.padEnd(21)} ${fmt(firstMs).padStart(8)} ms / ${fmt(percentile(again, 50)).padStart(7)} ms`);
    }
    all[runtimeVersion] = libraries;
    await box.close();
  }
  figures.seedLibraries = all;
}

/** Resident memory per concurrent execution. */
async function measureMemory(egress: Egress, figures: Figures): Promise<void> {
  // Resident memory per concurrent execution: host RSS with 1 vs 4 workers, each holding an
  // execution that has loaded lodash and waits.
  const holding = `const _ = require('lodash'); exports.main = async () => { const data = _.range(10000).map((i) => ({ i })); await new Promise((r) => setTimeout(r, 400)); return { outputFields: { n: data.length } }; };`;
  const rss: Record<number, number> = {};
  for (const pool of [1, 4]) {
    const box = await createSandbox({ poolSize: pool, egress });
    await Promise.all(Array.from({ length: pool }, () => executeChecked(box, request(holding))));
    const running = Promise.all(Array.from({ length: pool }, () => executeChecked(box, request(holding))));
    await new Promise((resolve) => setTimeout(resolve, 250));
    rss[pool] = (await box.stats()).rssBytes;
    await running;
    await box.close();
  }
  const perExecutionMb = ((rss[4] ?? 0) - (rss[1] ?? 0)) / 3 / (1024 * 1024);
  console.log(
    `\nhost RSS with 1 execution running: ${((rss[1] ?? 0) / 1048576).toFixed(0)} MB; with 4: ${((rss[4] ?? 0) / 1048576).toFixed(0)} MB → ${perExecutionMb.toFixed(1)} MB per concurrent execution (one worker each)`,
  );
  figures.memory = { rss1Mb: (rss[1] ?? 0) / 1048576, rss4Mb: (rss[4] ?? 0) / 1048576, perConcurrentExecutionMb: perExecutionMb };
}

/** The targets the figures are read against, met or missed. */
function printTargets(latencyFigures: Record<string, unknown>, trivialMedian: number): void {
  const trivial = latencyFigures.trivial as { overheadP50: number } | undefined;
  console.log(
    `\ntargets (2-core machine; load average now ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}):`,
  );
  console.log(`  overhead p50 ≤ 1 ms (trivial): ${trivial ? fmt(trivial.overheadP50) : '?'} ms → ${trivial && trivial.overheadP50 <= 1 ? 'met' : 'missed'}`);
  console.log(`  ≥ 2,000 trivial executions/s: median ${trivialMedian} → ${trivialMedian >= 2000 ? 'met' : 'missed'}`);
}

async function main(): Promise<void> {
  const server = await startServer();
  const egress = { allowHosts: [], mapHosts: { 'api.bench.example': server.url } };
  if (process.argv.includes('--libraries-only')) {
    // `npm run bench:sandbox -- --libraries-only`: the seed libraries' first require, nothing else.
    const figures: Figures = { cpus: os.availableParallelism(), loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) };
    await measureSeedLibraries(egress, figures);
    console.log(`\n${JSON.stringify(figures)}`);
    await server.close();
    return;
  }
  const figures: Figures = { cpus: os.availableParallelism(), loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100), pool: POOL };
  console.log(
    `sandbox benchmark: ${os.availableParallelism()} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, pool of ${POOL} workers, ${ROUNDS} throughput rounds`,
  );

  const { sandbox, hostPid } = await measureStart(egress, figures);
  const baseline = await bareBaseline(server.url);
  const latencyFigures = await measureLatency(sandbox, baseline, figures);
  const trivialMedian = await measureThroughput(sandbox, baseline, hostPid, figures);
  await sandbox.close();

  await measureHubSpotClient(egress, figures);
  await measureMemory(egress, figures);
  await measureBuiltins(egress, figures);
  await measureSeedLibraries(egress, figures);
  printTargets(latencyFigures, trivialMedian);
  console.log(`\n${JSON.stringify(figures)}`);
  await server.close();
}

await main();
