/**
 * JsWorkflows steps end to end (embedded mode, `codestep dev`): the class as its users write it,
 * every method a step run as its own execution, `api.scheduleNextStep` chains and fan-outs
 * through durable timers, a run completing when its last branch finishes, the caps, and a timer
 * due while the platform was stopped firing after it starts again. Short delays: the operator's
 * minimum is lowered to 0 for the test (`CODESTEP_STEP_MIN_DELAY_MS`). Enrolled through the API,
 * start's `data` is the enrolled object (`data.object.properties`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, differing, replayVerified, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const CHAIN = `class Workflow {
  async start(data, headers, api) {
    const { order } = data.object.properties;
    api.log('order', order);
    await api.scheduleNextStep({ delay: 0, action: 'charge', payload: { order, amount: 12 } });
    return { accepted: order };
  }
  async charge(data, headers, api) {
    console.log('charging', data.amount);
    await api.scheduleNextStep({ delay: '0 sec', action: 'receipt', payload: { order: data.order } });
  }
  async receipt(data, headers, api) {
    api.log('receipt for', data.order);
    return { sent: true };
  }
}`;

const FAN_OUT = `export class Workflow {
  async start(data, headers, api) {
    for (let i = 0; i < Number(data.object.properties.items); i++) await api.scheduleNextStep({ delay: 0, action: 'processItem', payload: { i } });
  }
  async processItem({ i }, headers, api) {
    api.log('item', i);
  }
}`;

const FOREVER = `class Workflow {
  async start(data, headers, api) { await api.scheduleNextStep({ delay: 0, action: 'again', payload: { n: 1 } }); }
  async again({ n }, headers, api) { await api.scheduleNextStep({ delay: 0, action: 'again', payload: { n: n + 1 } }); }
}`;

// The documented fan-out pattern: each branch pushes its result and counts itself; the branch
// that brings the count to the total schedules the step that gathers the results.
const GATHER = `class Workflow {
  async start(data, headers, api) {
    const total = Number(data.object.properties.items);
    await api.runStore.set('total', total);
    for (let i = 0; i < total; i++) await api.scheduleNextStep({ delay: 0, action: 'processItem', payload: { i } });
  }
  async processItem({ i }, headers, api) {
    await api.runStore.push('results', i * 2);
    const done = await api.runStore.increment('done');
    if (done === (await api.runStore.get('total'))) await api.scheduleNextStep({ delay: 0, action: 'summarize' });
  }
  async summarize(data, headers, api) {
    const results = await api.runStore.get('results');
    return { done: await api.runStore.get('done'), count: results.length, sum: results.reduce((a, b) => a + b, 0) };
  }
}`;

const DEDUPED = `class Workflow {
  async start(data, headers, api) {
    const { locked } = await api.dedupe('order-' + data.object.properties.order);
    if (locked) return { skipped: true };
    return { processed: data.object.properties.order };
  }
}`;

const HOOKED = `class Workflow {
  async start(data, headers, api) {
    for (let i = 0; i < 3; i++) await api.scheduleNextStep({ delay: 0, action: 'work', payload: { i, fail: data.object.properties.fail === 'yes' && i === 1 } });
  }
  async work({ i, fail }, headers, api) {
    await api.runStore.increment('worked');
    if (fail) throw new Error('item ' + i + ' is broken');
  }
  async onWorkflowComplete(api) {
    api.log('all done after', await api.runStore.get('worked'), 'steps; can schedule:', typeof api.scheduleNextStep);
    throw new Error('a hook that throws changes nothing');
  }
  async onWorkflowError(err, api) {
    api.log('failed:', err.message, err.code);
  }
}`;

type Call = ReturnType<typeof api>;

async function createWorkflow(call: Call, name: string, code: string): Promise<string> {
  const wf = await call('POST', '/v1/workflows', { name, objectType: 'WEBHOOK', actions: [{ id: 'flow', runtime: 'jsworkflows', code }] });
  assert.equal(wf.status, 201, JSON.stringify(wf.body));
  return wf.body.id as string;
}

async function enroll(call: Call, workflowId: string, properties: Record<string, string>): Promise<string> {
  const res = await call('POST', `/v1/workflows/${workflowId}/enrollments`, { object: { objectType: 'WEBHOOK', objectId: `o-${Math.random()}`, properties } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.id as string;
}

async function finished(call: Call, enrollmentId: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(
    `enrollment ${enrollmentId} to finish`,
    async () => {
      const res = await call('GET', `/v1/enrollments/${enrollmentId}`);
      return res.status === 200 && res.body.status !== 'running' ? res.body : undefined;
    },
    timeoutMs,
  );
}

describe('JsWorkflows steps, delays and fan-out (embedded)', () => {
  let platform: PlatformProcess;
  let call: Call;
  let apiKey: string | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'codestep-jsw-steps-'));
  const env = { CODESTEP_DATA_DIR: dataDir, CODESTEP_STEP_MIN_DELAY_MS: '0', CODESTEP_STEP_MAX_DEPTH: '5', CODESTEP_STEP_MAX_PAYLOAD_CHARS: '1000' };

  before(async () => {
    platform = await startPlatform(env);
    apiKey = platform.apiKey;
    call = api(platform.url, apiKey);
  });

  after(async () => {
    await platform?.stop();
  });

  it('runs a linear chain, each step its own execution with its own data, logs and history entry', async () => {
    const wf = await createWorkflow(call, 'chain', CHAIN);
    const enrollment = await finished(call, await enroll(call, wf, { order: '#1001' }));
    assert.equal(enrollment.status, 'completed', JSON.stringify(enrollment));
    const steps = enrollment.executions.map((x: any) => x.workflowStep?.name);
    assert.deepEqual(steps, ['start', 'charge', 'receipt']);
    assert.equal(new Set(enrollment.executions.map((x: any) => x.id)).size, 3);
    const [start, charge, receipt] = enrollment.executions;
    assert.deepEqual(start.returnValue, { accepted: '#1001' });
    assert.deepEqual(receipt.returnValue, { sent: true });
    assert.equal(charge.workflowStep.scheduledBy, start.id);
    assert.equal(receipt.workflowStep.scheduledBy, charge.id);
    assert.deepEqual([start.workflowStep.depth, charge.workflowStep.depth, receipt.workflowStep.depth], [0, 1, 2]);
    const logs = await Promise.all(enrollment.executions.map(async (x: any) => (await call('GET', `/v1/executions/${x.id}`)).body.logs.map((l: any) => l.message)));
    assert.deepEqual(logs, [['order #1001'], ['charging 12'], ['receipt for #1001']]);
  });

  it('fans out into parallel branches and completes only once every branch has finished', async () => {
    const wf = await createWorkflow(call, 'fan-out', FAN_OUT);
    const enrollment = await finished(call, await enroll(call, wf, { items: '25' }));
    assert.equal(enrollment.status, 'completed', JSON.stringify(enrollment.error));
    const items = enrollment.executions.filter((x: any) => x.workflowStep?.name === 'processItem');
    assert.equal(items.length, 25);
    assert.ok(items.every((x: any) => x.status === 'succeeded' && x.workflowStep.depth === 1));
    assert.equal(new Set(items.map((x: any) => x.workflowStep.branch)).size, 25);
    // Completion is the last thing: after every branch's execution finished.
    const lastFinished = Math.max(...enrollment.executions.map((x: any) => Date.parse(x.finishedAt)));
    assert.ok(Date.parse(enrollment.finishedAt) >= lastFinished);
  });

  it('gathers a fan-out of 100 branches through api.runStore: the counter ends at exactly 100 and the final step sees every result', async () => {
    const wf = await createWorkflow(call, 'gather', GATHER);
    const enrollment = await finished(call, await enroll(call, wf, { items: '100' }), 120_000);
    assert.equal(enrollment.status, 'completed', JSON.stringify(enrollment.error));
    const summarize = enrollment.executions.filter((x: any) => x.workflowStep?.name === 'summarize');
    assert.equal(summarize.length, 1);
    assert.deepEqual(summarize[0].returnValue, { done: 100, count: 100, sum: 9900 });
  });

  it('dedupes a business event sent twice (a retried webhook): the second run sees the key locked', async () => {
    const wf = await createWorkflow(call, 'dedupe', DEDUPED);
    const first = await finished(call, await enroll(call, wf, { order: '1001' }));
    const second = await finished(call, await enroll(call, wf, { order: '1001' }));
    const other = await finished(call, await enroll(call, wf, { order: '1002' }));
    assert.deepEqual(
      [first, second, other].map((e) => e.executions[0].returnValue),
      [{ processed: '1001' }, { skipped: true }, { processed: '1002' }],
    );
  });

  it('runs onWorkflowComplete once when every branch has finished (a hook that throws leaves the run completed), and onWorkflowError once on the failure that ends a run', async () => {
    const wf = await createWorkflow(call, 'hooks', HOOKED);
    const ok = await finished(call, await enroll(call, wf, { fail: 'no' }));
    assert.equal(ok.status, 'completed', JSON.stringify(ok.error));
    const complete = ok.executions.filter((x: any) => x.workflowStep?.name === 'onWorkflowComplete');
    assert.equal(complete.length, 1);
    assert.equal(complete[0].status, 'failed');
    assert.ok(Date.parse(complete[0].requestedAt) >= Math.max(...ok.executions.filter((x: any) => x.workflowStep?.name === 'work').map((x: any) => Date.parse(x.finishedAt))));
    const logs = (await call('GET', `/v1/executions/${complete[0].id}`)).body.logs.map((l: any) => l.message);
    assert.equal(logs[0], 'all done after 3 steps; can schedule: undefined');

    const ko = await finished(call, await enroll(call, wf, { fail: 'yes' }));
    assert.equal(ko.status, 'failed');
    assert.match(ko.error.message, /item 1 is broken/);
    const onError = ko.executions.filter((x: any) => x.workflowStep?.name === 'onWorkflowError');
    assert.equal(onError.length, 1);
    assert.equal(ko.executions.filter((x: any) => x.workflowStep?.name === 'onWorkflowComplete').length, 0);
    const errorLogs = (await call('GET', `/v1/executions/${onError[0].id}`)).body.logs.map((l: any) => l.message);
    assert.match(errorLogs[0], /^failed: Error: item 1 is broken USER_CODE_ERROR$/);
  });

  it("answers an HTTP trigger with start's return value as soon as start returned: an object as JSON, nothing as {success:true}, a Response as it is", async () => {
    const hookOf = async (code: string) => {
      const wf = await createWorkflow(call, 'http', code);
      return platform.url + (await call('POST', `/v1/workflows/${wf}/webhook`)).body.path;
    };
    const post = (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 42 }) });

    // start schedules a step a minute away: the caller gets start's answer now, the run goes on.
    const object = await post(
      await hookOf(`class Workflow { async start(data, h, api) { await api.scheduleNextStep({ delay: '1 min', action: 'later' }); return { received: data.id }; } async later() {} }`),
    );
    assert.equal(object.status, 200);
    assert.deepEqual(await object.json(), { received: 42 });
    // The answer came with start's result; the step it scheduled reaches the history views just after.
    const running = await waitFor('the later step in the history', async () => {
      const res = await call('GET', `/v1/enrollments/${object.headers.get('x-codestep-enrollment-id')}`);
      return res.body.executions?.some((x: any) => x.workflowStep?.name === 'later') ? res : undefined;
    });
    assert.equal(running.body.status, 'running');
    assert.equal(running.body.executions.find((x: any) => x.workflowStep?.name === 'later')?.status, 'scheduled');

    const nothing = await post(await hookOf(`class Workflow { async start() {} }`));
    assert.deepEqual([nothing.status, await nothing.json()], [200, { success: true }]);

    const response = await post(
      await hookOf(
        `class Workflow { async start(data) { return new Response('<p>order ' + data.id + '</p>', { status: 201, headers: { 'content-type': 'text/html', 'x-order': String(data.id) } }); } }`,
      ),
    );
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('content-type'), 'text/html');
    assert.equal(response.headers.get('x-order'), '42');
    assert.equal(await response.text(), '<p>order 42</p>');
  });

  it('fails a run whose step schedules itself forever at the chain depth cap, with WORKFLOW_LIMIT', async () => {
    const wf = await createWorkflow(call, 'forever', FOREVER);
    const enrollment = await finished(call, await enroll(call, wf, {}));
    assert.equal(enrollment.status, 'failed');
    assert.equal(enrollment.error.code, 'WORKFLOW_LIMIT');
    assert.match(enrollment.error.message, /over the cap of 5 \(CODESTEP_STEP_MAX_DEPTH\)/);
    assert.equal(enrollment.executions.length, 6);
  });

  it('fails the step that schedules an unknown action, a bad delay or a payload over the cap, saying which', async () => {
    const cases: Array<[string, RegExp]> = [
      [`await api.scheduleNextStep({ delay: 0, action: 'nope' })`, /has no method "nope"/],
      [`await api.scheduleNextStep({ delay: 'tomorrow', action: 'later' })`, /delay "tomorrow" is not a duration/],
      [`await api.scheduleNextStep({ delay: 0, action: 'later', payload: 'x'.repeat(2000) })`, /payload is over 1000 characters/],
    ];
    for (const [call_, message] of cases) {
      const wf = await createWorkflow(call, 'bad call', `class Workflow { async start(d, h, api) { ${call_}; } async later() {} }`);
      const enrollment = await finished(call, await enroll(call, wf, {}));
      assert.equal(enrollment.status, 'failed');
      assert.equal(enrollment.executions[0].error.code, 'INVALID_STEP');
      assert.match(enrollment.executions[0].error.message, message);
    }
  });

  it('fires a step whose timer came due while the platform was stopped, after it starts again', async () => {
    const wf = await createWorkflow(
      call,
      'later',
      `class Workflow { async start(d, h, api) { await api.scheduleNextStep({ delay: 3, action: 'later', payload: { v: 1 } }); } async later({ v }) { return { v }; } }`,
    );
    const id = await enroll(call, wf, {});
    await waitFor('the later step to be scheduled', async () => {
      const res = await call('GET', `/v1/enrollments/${id}`);
      return res.body.executions?.some((x: any) => x.status === 'scheduled') ? true : undefined;
    });
    assert.equal(await platform.stop(), 0);
    await new Promise((r) => setTimeout(r, 3500));
    platform = await startPlatform(env);
    // The restarted platform prints no API key: the first one stays valid.
    call = api(platform.url, apiKey);
    const enrollment = await finished(call, id);
    assert.equal(enrollment.status, 'completed');
    assert.deepEqual(enrollment.executions.at(-1).returnValue, { v: 1 });
  });

  it('completes a failed run retried by hand: its failed step runs again and the run goes on to its next step', async () => {
    const wf = await createWorkflow(
      call,
      'retried',
      `class Workflow {
        async start(d, h, api) { await api.scheduleNextStep({ delay: 0, action: 'flaky' }); }
        async flaky(d, h, api) {
          // Fails the first time only: the dedupe key outlives the failed run.
          if (!(await api.dedupe('flaky')).locked) throw new Error('not yet');
          await api.scheduleNextStep({ delay: 0, action: 'last' });
        }
        async last() { return { done: true }; }
      }`,
    );
    const id = await enroll(call, wf, {});
    const failed = await finished(call, id);
    assert.equal(failed.status, 'failed');
    const retry = await call('POST', `/v1/enrollments/${id}/retry`, {});
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    const done = await finished(call, id);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.deepEqual(done.executions.map((x: any) => [x.workflowStep.name, x.status]).sort(), [
      ['flaky', 'failed'],
      ['flaky', 'succeeded'],
      ['last', 'succeeded'],
      ['start', 'succeeded'],
    ]);
    assert.deepEqual(done.executions.find((x: any) => x.workflowStep.name === 'last').returnValue, { done: true });
  });

  it('rebuilds the run states, timers and history from the log, equal to the live ones (codestep replay --verify)', async () => {
    const report = await replayVerified(env);
    assert.equal(report.equal, true, differing(report));
    assert.equal(await platform.stop(), 0);
    assert.ok(report.collections['enrollment/workflow_runs']!.live > 0);
  });
});
