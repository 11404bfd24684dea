/**
 * Crash recovery of the embedded platform, run as a real process: with two tenants' actions in
 * flight and other enrollments of both tenants waiting behind them, the process is killed with
 * SIGKILL and started again. The waiting work must not wait for the lost executions (their claims'
 * short leases were renewed by a process that is gone): it completes within 5 s of the restart,
 * and the executions that were in flight are reported lost and run again within seconds.
 * The measured times are printed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const main = join(dirname(fileURLToPath(import.meta.url)), '../main.ts');
const SLEEP = `exports.main = async (event) => { const ms = Number(event.inputFields.ms); await new Promise((r) => setTimeout(r, ms)); return { outputFields: { slept: ms } }; };`;
const workflow = { name: 'sleep', actions: [{ id: 'sleep', code: SLEEP, inputFields: [{ name: 'ms', property: 'ms' }], outputFields: [{ name: 'slept', type: 'number' }] }] };
/** Long enough to be in flight at the kill, within the default 20 s time limit. */
const SLOW_MS = 10_000;
const ENV = { CODESTEP_RETRY_INITIAL_MS: '500', CODESTEP_DRAIN_TIMEOUT_MS: '1000' };

type Call = ReturnType<typeof api>;
interface Execution {
  attempt: number;
  status: string;
  error?: { code: string } | null;
}

function createTenant(dataDir: string, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, 'tenants', 'create', name, '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CODESTEP_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve((JSON.parse(out) as { apiKey: string }).apiKey) : reject(new Error(out))));
  });
}

async function enroll(call: Call, workflowId: string, objectId: string, ms: number): Promise<string> {
  const r = await call('POST', `/v1/workflows/${workflowId}/enrollments`, { object: { objectType: 'CONTACT', objectId, properties: { ms } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.id as string;
}

async function executions(call: Call, enrollmentId: string): Promise<{ status: string; executions: Execution[] }> {
  const r = await call('GET', `/v1/enrollments/${enrollmentId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

describe('embedded platform crash recovery', () => {
  let platform: PlatformProcess | undefined;
  after(async () => {
    await platform?.stop('SIGKILL');
  });

  it('given actions in flight and waiting enrollments of two tenants, after SIGKILL and a restart the waiting work completes within 5 s and the lost executions run again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codestep-crash-e2e-'));
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir, ...ENV });
    const keys = [platform.apiKey!, await createTenant(dataDir, 'second')];
    let calls = keys.map((k) => api(platform!.url, k));
    const workflows = await Promise.all(calls.map((c) => c('POST', '/v1/workflows', workflow)));
    for (const w of workflows) assert.equal(w.status, 201, JSON.stringify(w.body));
    const wf = workflows.map((w) => w.body.id as string);

    // A short action first, so both long ones arrive while it runs and are fetched in one batch.
    const warmup = await enroll(calls[0]!, wf[0]!, 'warmup', 1500);
    await waitFor('the first action to start', async () => ((await executions(calls[0]!, warmup)).executions[0]?.status === 'running' ? true : undefined));
    const inFlight = [await enroll(calls[0]!, wf[0]!, 'slow-a', SLOW_MS), await enroll(calls[1]!, wf[1]!, 'slow-b', SLOW_MS)];
    await waitFor('both long actions to run', async () => {
      const all = await Promise.all(inFlight.map((id, i) => executions(calls[i]!, id)));
      return all.every((e) => e.executions[0]?.status === 'running') ? true : undefined;
    });
    const waiting: Array<[number, string]> = [];
    for (let n = 0; n < 3; n++) for (const t of [0, 1]) waiting.push([t, await enroll(calls[t]!, wf[t]!, `fast-${t}-${n}`, 0)]);
    for (const [t, id] of waiting) assert.equal((await executions(calls[t]!, id)).status, 'running', 'the waiting enrollments have not completed before the kill');

    await platform.stop('SIGKILL');
    const spawnedAt = Date.now();
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir, ...ENV });
    const readyAt = Date.now();
    calls = keys.map((k) => api(platform!.url, k));

    await waitFor(
      'the waiting enrollments to complete',
      async () => {
        const all = await Promise.all(waiting.map(([t, id]) => executions(calls[t]!, id)));
        return all.every((e) => e.status === 'completed') ? true : undefined;
      },
      30_000,
    );
    const pendingMs = Date.now() - readyAt;
    const slow = () => Promise.all(inFlight.map((id, i) => executions(calls[i]!, id)));
    await waitFor('the lost executions to be retried', async () => ((await slow()).every((e) => e.executions.some((x) => x.attempt === 2)) ? true : undefined), 30_000);
    const retriedMs = Date.now() - readyAt;
    await waitFor('a lost execution to run again', async () => ((await slow()).some((e) => e.executions.some((x) => x.attempt === 2 && x.status !== 'requested')) ? true : undefined), 30_000);
    const rerunMs = Date.now() - readyAt;
    const done = await waitFor('the enrollments that were in flight to complete', async () => ((await slow()).every((e) => e.status !== 'running') ? slow() : undefined), 60_000);
    console.log(
      `# crash recovery (embedded): restart took ${readyAt - spawnedAt} ms; after it, waiting work completed in ${pendingMs} ms, ` +
        `the lost executions were retried in ${retriedMs} ms, the first ran again in ${rerunMs} ms, both completed in ${Date.now() - readyAt} ms`,
    );
    for (const e of done) {
      assert.equal(e.status, 'completed', JSON.stringify(e));
      assert.equal(e.executions.find((x) => x.attempt === 1)?.error?.code, 'EXECUTOR_LOST', 'the execution in flight at the kill is reported lost');
      assert.equal(e.executions.find((x) => x.attempt === 2)?.status, 'succeeded', 'and runs again');
    }
    assert.ok(pendingMs < 5_000, `waiting work completed ${pendingMs} ms after the restart (bound 5 s)`);
    assert.ok(retriedMs < 10_000, `lost executions were retried ${retriedMs} ms after the restart (bound 10 s)`);
  });
});
