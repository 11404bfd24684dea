/**
 * JsWorkflows steps benchmark (embedded mode): a run whose `start` fans out B branches with zero
 * delay (each a step of its own, through the durable timers), timed from the run's start to its
 * completion (server-side event times), as steps/s; beside it, in the same run, B one-action
 * HubSpot enrollments (enrolled 16 at a time) as actions/s, so the per-step overhead reads
 * against a single action's on the same machine at the same moment.
 *   node tools/bench/steps.bench.ts [B=1000]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startPlatform } from '../../apps/cli/src/e2e/platform-process.ts';

const B = Number(process.argv[2] ?? 1000);

const FAN_OUT = `class Workflow {
  async start(data, headers, api) {
    const n = Number(data.object.properties.n);
    for (let i = 0; i < n; i++) await api.scheduleNextStep({ delay: 0, action: 'item', payload: { i } });
  }
  async item({ i }) { return { doubled: i * 2 }; }
}`;

type Call = ReturnType<typeof api>;

async function waitFinished(call: Call, enrollmentId: string): Promise<{ startedAt: string; finishedAt: string; status: string; executions: unknown[] }> {
  for (const deadline = Date.now() + 1_800_000; ;) {
    await new Promise((r) => setTimeout(r, 500));
    const r = await call('GET', `/v1/enrollments/${enrollmentId}`);
    if (r.status === 200 && r.body.status !== 'running') return r.body;
    if (Date.now() > deadline) throw new Error(`run ${enrollmentId} did not finish`);
  }
}

async function stepsPerSecond(call: Call): Promise<Record<string, unknown>> {
  const wf = await call('POST', '/v1/workflows', { name: 'fan-out bench', objectType: 'WEBHOOK', actions: [{ id: 'fan', runtime: 'jsworkflows', code: FAN_OUT }] });
  const res = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType: 'WEBHOOK', objectId: 'bench', properties: { n: String(B) } } });
  const run = await waitFinished(call, res.body.id);
  const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
  return { status: run.status, steps: run.executions.length, seconds, stepsPerSecond: Math.round(run.executions.length / seconds) };
}

async function actionsPerSecond(call: Call): Promise<Record<string, unknown>> {
  const wf = await call('POST', '/v1/workflows', { name: 'action bench', actions: [{ id: 'one', code: 'exports.main = async (event) => ({ outputFields: {} })' }] });
  let next = 0;
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < B) {
        const i = next++;
        const r = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: String(i), properties: {} } });
        ids.push(r.body.id);
      }
    }),
  );
  let done: Array<{ startedAt: string; finishedAt: string }> = [];
  for (const deadline = Date.now() + 1_800_000; done.length < B;) {
    await new Promise((r) => setTimeout(r, 1000));
    done = (await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&status=completed&limit=5000`)).body.enrollments;
    if (Date.now() > deadline) throw new Error('actions did not complete');
  }
  const first = Math.min(...done.map((e) => Date.parse(e.startedAt)));
  const last = Math.max(...done.map((e) => Date.parse(e.finishedAt)));
  const seconds = (last - first) / 1000;
  return { actions: done.length, seconds, actionsPerSecond: Math.round(done.length / seconds) };
}

const platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-steps-bench-')), CODESTEP_STEP_MIN_DELAY_MS: '0' });
try {
  const call = api(platform.url, platform.apiKey);
  const actions = await actionsPerSecond(call);
  const steps = await stepsPerSecond(call);
  const ratio = Number(actions.actionsPerSecond) / Number(steps.stepsPerSecond);
  console.log(JSON.stringify({ branches: B, fanOut: steps, singleActions: actions, actionCostRatio: Math.round(ratio * 100) / 100 }, null, 2));
} catch (error) {
  console.error(platform.output().slice(-4000));
  throw error;
} finally {
  await platform.stop();
}
