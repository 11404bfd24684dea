/**
 * Bulk enrollment benchmark (embedded mode): one batch of N objects (NDJSON) through
 * `POST /v1/workflows/{id}/enrollments:batch`. Reports accepted/s (rows checked and stored, until
 * the 202), processed/s (rows enrolled by the job, from the job's progress), completed/s of the
 * enrollments when N is within what the history lists (5,000), and the platform process's
 * resident memory before, at the peak seen while the job ran, and after.
 *   node tools/bench/enroll-batch.bench.ts [N=100000] [--accept-only]
 * (`--accept-only` stops after the 202 and a few seconds of the job: processed/s from its progress then.)
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startPlatform } from '../../apps/cli/src/e2e/platform-process.ts';

const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 100_000);
const ACCEPT_ONLY = process.argv.includes('--accept-only');

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

const platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-bench-batch-')) });
try {
  const pid = platform.child.pid!;
  const call = api(platform.url, platform.apiKey);
  const wf = await call('POST', '/v1/workflows', { name: 'bench', actions: [{ id: 'one', code: 'exports.main = async () => ({ outputFields: {} })' }] });
  const body = Array.from({ length: N }, (_, i) => JSON.stringify({ objectId: String(i), properties: { n: i, email: `user${i}@example.com` } })).join('\n');
  const rssBefore = rssMb(pid);
  const t0 = performance.now();
  const job = await call('POST', `/v1/workflows/${wf.body.id}/enrollments:batch`, body, { 'content-type': 'application/x-ndjson' });
  const acceptSeconds = (performance.now() - t0) / 1000;
  if (job.status !== 202) throw new Error(`batch refused: ${job.status} ${JSON.stringify(job.body).slice(0, 300)}`);
  let peak = rssMb(pid);
  let status: { status: string; processed: number; enrolled: number; failed: number } = job.body;
  for (let polls = 0; status.status !== 'done' && !(ACCEPT_ONLY && polls >= 10); polls++) {
    await new Promise((r) => setTimeout(r, 1000));
    status = (await call('GET', `/v1/enrollment-batches/${job.body.jobId}`)).body;
    peak = Math.max(peak, rssMb(pid));
  }
  const processSeconds = (performance.now() - t0) / 1000 - (ACCEPT_ONLY ? acceptSeconds : 0);
  let completedSeconds: number | null = null;
  if (N <= 5000 && !ACCEPT_ONLY) {
    for (;;) {
      const r = await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&status=completed&limit=5000`);
      if (r.body.enrollments.length >= N) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    completedSeconds = (performance.now() - t0) / 1000;
  }
  console.log(
    JSON.stringify(
      {
        rows: N,
        bodyMb: Math.round(Buffer.byteLength(body) / 1e5) / 10,
        acceptedPerSecond: Math.round(N / acceptSeconds),
        acceptSeconds: Math.round(acceptSeconds * 10) / 10,
        processedPerSecond: Math.round((ACCEPT_ONLY ? status.processed : N) / processSeconds),
        completedPerSecond: completedSeconds ? Math.round(N / completedSeconds) : 'not measured above 5,000 rows',
        enrolled: status.enrolled,
        failed: status.failed,
        rssMb: { before: rssBefore, peak, after: rssMb(pid) },
      },
      null,
      2,
    ),
  );
} finally {
  await platform.stop();
}
