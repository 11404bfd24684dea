/**
 * Enrollment benchmark (embedded mode): enroll N objects into a one-action workflow through
 * the HTTP API, and report enrollments/s and p50/p99 from enroll to completed (server-side event
 * times). Baseline measured in the same run: an HTTP round trip to /healthz on the same server,
 * so the printed ratios mean something on a noisy machine.
 *   node tools/bench/enroll.bench.ts [N=500] [concurrency=16]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startPlatform, waitFor } from '../../apps/cli/src/e2e/platform-process.ts';

const N = Number(process.argv[2] ?? 500);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-bench-')), CODESTEP_EXECUTOR_CONCURRENCY: '8', CODESTEP_SANDBOX_POOL_SIZE: '2' });
try {
  const call = api(platform.url, platform.apiKey);
  const wf = await call('POST', '/v1/workflows', {
    name: 'bench',
    actions: [{ id: 'one', code: 'exports.main = async (event) => ({ outputFields: { n: event.inputFields.n * 2 } })', inputFields: [{ name: 'n', property: 'n' }], outputFields: [{ name: 'n', type: 'number' }] }],
  });
  // Baseline: HTTP round trips on the same server.
  const rtt: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await call('GET', '/healthz');
    rtt.push(performance.now() - t);
  }
  const ids: string[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const r = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: String(i), properties: { n: i } } });
        ids.push(r.body.id);
      }
    }),
  );
  const enrollSeconds = (performance.now() - t0) / 1000;
  const done = await waitFor(
    'every enrollment to complete',
    async () => {
      const r = await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&status=completed&limit=500`);
      return r.body.enrollments.length >= Math.min(N, 500) ? r.body.enrollments : undefined;
    },
    600_000,
  );
  const totalSeconds = (performance.now() - t0) / 1000;
  const latencies = (done as Array<{ startedAt: string; finishedAt: string }>).map((e) => Date.parse(e.finishedAt) - Date.parse(e.startedAt));
  const p50 = pct(latencies, 50);
  const p99 = pct(latencies, 99);
  const base = pct(rtt, 50);
  console.log(JSON.stringify({ mode: 'embedded', enrollments: N, concurrency: CONCURRENCY, enrollRequestsPerSecond: +(N / enrollSeconds).toFixed(1), enrollmentsCompletedPerSecond: +(N / totalSeconds).toFixed(1), p50EnrollToCompletedMs: p50, p99EnrollToCompletedMs: p99, baselineHttpRoundTripP50Ms: +base.toFixed(2), p50OverBaseline: +(p50 / base).toFixed(1), p99OverBaseline: +(p99 / base).toFixed(1), sampled: latencies.length }, null, 2));
} finally {
  await platform.stop();
}
