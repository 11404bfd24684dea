/**
 * Enrollment benchmark: enroll N objects into a one-action workflow through the HTTP API and
 * report enrollments/s and p50/p99 from enroll to completed (server-side event times), in
 * embedded mode and — when KAFKA_BROKERS and MONGODB_URI are set (eval "$(bash infra/local/up.sh)")
 * — in distributed mode (every app its own process, two executors) in the same run. Baseline,
 * measured in the same run on each platform: an HTTP round trip to /healthz, so the printed
 * ratios mean something on a noisy machine.
 *   node tools/bench/enroll.bench.ts [N=500] [concurrency=16]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, dropNamespaceDatabases, startDistributedPlatform, startPlatform } from '../../apps/cli/src/e2e/platform-process.ts';

const N = Number(process.argv[2] ?? 500);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function measure(mode: string, url: string, apiKey: string | undefined): Promise<Record<string, unknown>> {
  const call = api(url, apiKey);
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
  const rtt: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await call('GET', '/healthz');
    rtt.push(performance.now() - t);
  }
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: String(i), properties: { n: i } } });
      }
    }),
  );
  const enrollSeconds = (performance.now() - t0) / 1000;
  // Listing every enrollment is itself a heavy query (on FerretDB it decodes the whole
  // collection), so the probe runs once a second, not in a tight loop that would load the very
  // servers being measured; completion time comes from the server's own finishedAt instead.
  const t0Wall = Date.now() - (performance.now() - t0);
  let done: Array<{ startedAt: string; finishedAt: string }> | undefined;
  for (const deadline = Date.now() + 1_800_000; !done;) {
    await new Promise((r) => setTimeout(r, 1000));
    const r = await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&status=completed&limit=5000`);
    if (r.body.enrollments.length >= N) done = r.body.enrollments;
    else if (Date.now() > deadline) throw new Error(`timed out waiting for ${N} completed enrollments (${r.body.enrollments.length} so far)`);
  }
  const totalSeconds = (Math.max(...done.map((e) => Date.parse(e.finishedAt))) - t0Wall) / 1000;
  const latencies = done.map((e) => Date.parse(e.finishedAt) - Date.parse(e.startedAt));
  const base = pct(rtt, 50);
  return {
    mode,
    enrollments: N,
    concurrency: CONCURRENCY,
    enrollRequestsPerSecond: +(N / enrollSeconds).toFixed(1),
    enrollmentsCompletedPerSecond: +(N / totalSeconds).toFixed(1),
    p50EnrollToCompletedMs: pct(latencies, 50),
    p99EnrollToCompletedMs: pct(latencies, 99),
    baselineHttpRoundTripP50Ms: +base.toFixed(2),
    p50OverBaseline: +(pct(latencies, 50) / base).toFixed(1),
    p99OverBaseline: +(pct(latencies, 99) / base).toFixed(1),
  };
}

const results: Array<Record<string, unknown>> = [];
const embedded = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-bench-')), CODESTEP_EXECUTOR_CONCURRENCY: '8' });
try {
  results.push(await measure('embedded', embedded.url, embedded.apiKey));
} finally {
  await embedded.stop();
}
if (process.env.KAFKA_BROKERS && process.env.MONGODB_URI) {
  const distributed = await startDistributedPlatform({
    brokers: process.env.KAFKA_BROKERS,
    mongoUri: process.env.MONGODB_URI,
    namespace: `codestep_bench_${randomBytes(4).toString('hex')}`,
    executors: 2,
    env: { CODESTEP_EXECUTOR_CONCURRENCY: '8' },
  });
  try {
    results.push(await measure('distributed (Kafka + FerretDB, 2 executors)', distributed.url, distributed.apiKey));
  } finally {
    await distributed.stop();
    await dropNamespaceDatabases(process.env.MONGODB_URI, distributed.env.CODESTEP_NAMESPACE!);
  }
} else {
  results.push({ mode: 'distributed', skipped: 'KAFKA_BROKERS and MONGODB_URI are not set: eval "$(bash infra/local/up.sh)" first' });
}
console.log(JSON.stringify(results, null, 2));
