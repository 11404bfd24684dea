/**
 * Sandbox benchmark: `node libs/sandbox/src/sandbox.bench.ts [--quick]`
 *
 * For three actions (trivial, a lodash transform, one HTTP call to a local server) it measures
 * - latency, one execution at a time, through the whole sandbox (client → host process →
 *   worker → fresh context → back), against the same function called in a warm bare `vm`
 *   context in this process, measured in the same run: the difference is the sandbox's overhead;
 * - throughput, many executions submitted at once;
 * and, for the sandbox as a whole: host start, cold worker start, first `require` of the
 * HubSpot client in a fresh worker, and resident memory per concurrent execution.
 * Figures are printed, never asserted (the machine is shared and noisy).
 */
import http from 'node:http';
import vm from 'node:vm';
import { loadSandboxRuntime } from '@codestep/sandbox-runtime';
import { createSandbox } from './sandbox.ts';
import type { ExecutionRequest, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest, sampleEvent } from './testing/sandbox-test-kit.ts';

const quick = process.argv.includes('--quick');
const SEQUENTIAL = quick ? 150 : 500;
const THROUGHPUT = { trivial: quick ? 1000 : 4000, lodash: quick ? 400 : 1500, http: quick ? 300 : 1000 };

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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1));

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
  install(vm.runInContext('globalThis', context), { fetch: () => undefined, randomBytes: () => '', now: () => performance.timeOrigin + performance.now() });
  const lodashSource = runtime.libraries.lodash?.source;
  if (!lodashSource) throw new Error('the runtime has no lodash');
  const lodashFactory = new vm.Script(lodashSource).runInContext(context) as (m: unknown, e: unknown, r: unknown) => void;
  const lodashModule = { exports: {} as unknown };
  lodashFactory(lodashModule, lodashModule.exports, () => ({}));
  // The bare context's fetch is the host's own, pointed straight at the server.
  const hostFetch = (url: string) => fetch(url.replace('https://api.bench.example', serverUrl));
  const calls = new Map<string, () => Promise<unknown>>();
  for (const scenario of scenarios) {
    const factory = new vm.Script(`(function (exports, require, module, fetch) { ${scenario.code}\n})`).runInContext(context) as (
      e: unknown,
      r: unknown,
      m: unknown,
      f: unknown,
    ) => void;
    const module = { exports: {} as { main?: (event: unknown) => Promise<unknown> } };
    factory(module.exports, (name: string) => (name === 'lodash' ? lodashModule.exports : undefined), module, hostFetch);
    const main = module.exports.main;
    if (!main) throw new Error(`no main in ${scenario.name}`);
    calls.set(scenario.name, async () => JSON.stringify(await main(sampleEvent())));
  }
  return calls;
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

async function executeChecked(sandbox: SandboxHandle, request: ExecutionRequest): Promise<void> {
  const result = await sandbox.execute(request);
  if (result.status !== 'succeeded') throw new Error(`benchmark action failed: ${JSON.stringify(result.error)}`);
}

async function main(): Promise<void> {
  const server = await startServer();
  const egress = { allowHosts: [], mapHosts: { 'api.bench.example': server.url } };
  const figures: Record<string, unknown> = {};

  // Host start: the first sandbox also builds the bundles and loads the runtime (once per process).
  let started = performance.now();
  const first = await createSandbox({ poolSize: 2, egress });
  const firstStartMs = performance.now() - started;
  await first.close();
  started = performance.now();
  const sandbox = await createSandbox({ poolSize: 2, egress });
  const hostStartMs = performance.now() - started;
  const coldStarts = [...(await sandbox.stats()).coldStartsMs].sort((a, b) => a - b);
  console.log(`sandbox start: first ${fmt(firstStartMs)} ms (bundles + runtime load + host), then ${fmt(hostStartMs)} ms (host process + pool)`);
  console.log(`cold worker (new Worker → ready, pre-warm): ${coldStarts.map(fmt).join(', ')} ms`);
  figures.sandboxStartMs = { first: Math.round(firstStartMs), warm: Math.round(hostStartMs) };
  figures.coldWorkerMs = coldStarts;

  const baseline = await bareBaseline(server.url);
  console.log(`\nlatency, one at a time (${SEQUENTIAL} each), ms — sandbox vs warm bare vm context in this process`);
  console.log('action    bare p50  bare p99   sandbox p50  sandbox p99   overhead p50  overhead p99');
  const latencyFigures: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    const bareCall = baseline.get(scenario.name);
    if (!bareCall) continue;
    const bare = await latencies(bareCall, SEQUENTIAL);
    const boxed = await latencies(() => executeChecked(sandbox, hubspotRequest(scenario.code, { limits: { timeoutMs: 20_000, memoryMb: 128 } })), SEQUENTIAL);
    const row = {
      bareP50: percentile(bare, 50),
      bareP99: percentile(bare, 99),
      sandboxP50: percentile(boxed, 50),
      sandboxP99: percentile(boxed, 99),
    };
    const overheadP50 = row.sandboxP50 - row.bareP50;
    const overheadP99 = row.sandboxP99 - row.bareP99;
    latencyFigures[scenario.name] = { ...row, overheadP50, overheadP99 };
    console.log(
      `${scenario.name.padEnd(8)}  ${fmt(row.bareP50).padStart(8)}  ${fmt(row.bareP99).padStart(8)}   ${fmt(row.sandboxP50).padStart(11)}  ${fmt(row.sandboxP99).padStart(11)}   ${fmt(overheadP50).padStart(12)}  ${fmt(overheadP99).padStart(12)}`,
    );
  }
  figures.latency = latencyFigures;

  console.log('\nthroughput, all submitted at once (pool of 2 workers on this machine)');
  const throughput: Record<string, number> = {};
  for (const scenario of scenarios) {
    const count = THROUGHPUT[scenario.name];
    const bareCall = baseline.get(scenario.name);
    let bareRate = Number.NaN;
    if (bareCall) {
      const t = performance.now();
      await Promise.all(Array.from({ length: count }, () => bareCall()));
      bareRate = count / ((performance.now() - t) / 1000);
    }
    const t = performance.now();
    await Promise.all(Array.from({ length: count }, () => executeChecked(sandbox, hubspotRequest(scenario.code, { limits: { timeoutMs: 60_000, memoryMb: 128 } }))));
    const rate = count / ((performance.now() - t) / 1000);
    throughput[scenario.name] = Math.round(rate);
    console.log(`${scenario.name.padEnd(8)}  ${String(Math.round(rate)).padStart(6)} executions/s   (bare context, one thread: ${Math.round(bareRate)} calls/s; ratio ${(rate / bareRate).toFixed(3)})`);
  }
  figures.throughputPerSecond = throughput;
  await sandbox.close();

  // A fresh worker's first require of the 10.6 MB HubSpot client, then the same worker again.
  const fresh = await createSandbox({ poolSize: 1, egress });
  const hubspot = `const hubspot = require('@hubspot/api-client'); exports.main = async () => ({ outputFields: { ok: typeof hubspot.Client === 'function' } });`;
  let t = performance.now();
  await executeChecked(fresh, hubspotRequest(hubspot));
  const firstRequire = performance.now() - t;
  const again: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    await executeChecked(fresh, hubspotRequest(hubspot));
    again.push(performance.now() - t);
  }
  again.sort((a, b) => a - b);
  // A worker that times out is replaced; its successor compiles from the code cache the first
  // worker shared when it was idle.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const timedOut = await fresh.execute(hubspotRequest(`exports.main = async () => { for (;;) {} }`, { limits: { timeoutMs: 100, memoryMb: 128 } }));
  if (timedOut.error?.code !== 'TIMEOUT') throw new Error('expected a timeout');
  t = performance.now();
  await executeChecked(fresh, hubspotRequest(hubspot));
  const replacementRequire = performance.now() - t;
  console.log(
    `\n@hubspot/api-client: first require in the first worker ${fmt(firstRequire)} ms (compiled from source); in a replacement worker ${fmt(replacementRequire)} ms (V8 code cache); then per execution (fresh context) p50 ${fmt(percentile(again, 50))} ms`,
  );
  figures.hubspotClient = { firstRequireMs: firstRequire, replacementWorkerFirstRequireMs: replacementRequire, perExecutionP50Ms: percentile(again, 50) };
  await fresh.close();

  // Resident memory per concurrent execution: host RSS with 1 vs 4 workers, each holding an
  // execution that has loaded lodash and waits.
  const holding = `const _ = require('lodash'); exports.main = async () => { const data = _.range(10000).map((i) => ({ i })); await new Promise((r) => setTimeout(r, 400)); return { outputFields: { n: data.length } }; };`;
  const rss: Record<number, number> = {};
  for (const pool of [1, 4]) {
    const box = await createSandbox({ poolSize: pool, egress });
    await Promise.all(Array.from({ length: pool }, () => executeChecked(box, hubspotRequest(holding))));
    const running = Promise.all(Array.from({ length: pool }, () => executeChecked(box, hubspotRequest(holding))));
    await new Promise((resolve) => setTimeout(resolve, 250));
    rss[pool] = (await box.stats()).rssBytes;
    await running;
    await box.close();
  }
  const perExecutionMb = ((rss[4] ?? 0) - (rss[1] ?? 0)) / 3 / (1024 * 1024);
  console.log(`\nhost RSS with 1 execution running: ${((rss[1] ?? 0) / 1048576).toFixed(0)} MB; with 4: ${((rss[4] ?? 0) / 1048576).toFixed(0)} MB → ${perExecutionMb.toFixed(1)} MB per concurrent execution (one worker each)`);
  figures.memory = { rss1Mb: (rss[1] ?? 0) / 1048576, rss4Mb: (rss[4] ?? 0) / 1048576, perConcurrentExecutionMb: perExecutionMb };

  const trivial = latencyFigures.trivial as { overheadP50: number } | undefined;
  console.log('\ntargets (2-core machine):');
  console.log(`  overhead p50 ≤ 1 ms (trivial): ${trivial ? fmt(trivial.overheadP50) : '?'} ms → ${trivial && trivial.overheadP50 <= 1 ? 'met' : 'missed'}`);
  console.log(`  ≥ 2,000 trivial executions/s: ${throughput.trivial} → ${(throughput.trivial ?? 0) >= 2000 ? 'met' : 'missed'}`);
  console.log(`\n${JSON.stringify(figures)}`);
  await server.close();
}

await main();
