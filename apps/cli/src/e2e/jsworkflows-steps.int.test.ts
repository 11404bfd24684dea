/**
 * JsWorkflows steps in distributed mode: every app its own process over real Kafka and FerretDB,
 * two executors. A fan-out of 50 branches, each incrementing one `api.runStore` counter from
 * whichever executor runs it, completes through `onWorkflowComplete` with the counter at exactly
 * 50; a chain with a delay fires from the enrollment service's timers; an approval waits for
 * its resume URL (POSTed through the gateway, once) and another wait times out; the projections
 * are then rebuilt from the topics and found equal to the live ones.
 * Needs KAFKA_BROKERS and MONGODB_URI (npm test sets them).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, differing, dropNamespaceDatabases, replayVerified, startDistributedPlatform, waitFor, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;

const FAN_OUT = `class Workflow {
  async start(data, headers, api) {
    for (let i = 0; i < 50; i++) await api.scheduleNextStep({ delay: 0, action: 'count', payload: { i } });
  }
  async count({ i }, headers, api) {
    await api.runStore.increment('n');
  }
  async onWorkflowComplete(api) {
    return { n: await api.runStore.get('n') };
  }
}`;

const CHAIN = `class Workflow {
  async start(data, headers, api) { await api.scheduleNextStep({ delay: 2, action: 'later', payload: { at: Date.now() } }); }
  async later({ at }) { return { waitedMs: Date.now() - at }; }
}`;

const APPROVAL = `class Workflow {
  async start(data, headers, api) {
    const approval = await api.waitForEvent({ action: 'approved', payload: { order: 7 } });
    const ignored = await api.waitForEvent({ action: 'approved', payload: { order: 8 }, timeout: 2 });
    return { approve: approval.resumeUrl, ignore: ignored.resumeUrl };
  }
  async approved(data) { return data; }
}`;

describe('JsWorkflows steps in distributed mode', { skip: !brokers || !mongoUri ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)' : false }, () => {
  let platform: DistributedPlatform;
  let call: ReturnType<typeof api>;
  const database = `codestep_jsw_${randomBytes(4).toString('hex')}`;

  before(async () => {
    platform = await startDistributedPlatform({ brokers: brokers!, mongoUri: mongoUri!, namespace: database, executors: 2, env: { CODESTEP_STEP_MIN_DELAY_MS: '0' } });
    call = api(platform.url, platform.apiKey);
  });

  after(async () => {
    await platform?.stop();
    await dropNamespaceDatabases(mongoUri!, database);
  });

  async function run(code: string): Promise<any> {
    const wf = await call('POST', '/v1/workflows', { name: 'steps', objectType: 'WEBHOOK', actions: [{ id: 'flow', runtime: 'jsworkflows', code }] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const enrolled = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType: 'WEBHOOK', objectId: randomBytes(4).toString('hex'), properties: {} } });
    assert.equal(enrolled.status, 202, JSON.stringify(enrolled.body));
    return waitFor(
      'the run to finish',
      async () => {
        const res = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
        return res.status === 200 && res.body.status !== 'running' ? res.body : undefined;
      },
      120_000,
    );
  }

  it('completes a fan-out of 50 branches over two executors, the run store counter at exactly 50', async () => {
    const enrollment = await run(FAN_OUT);
    assert.equal(enrollment.status, 'completed', JSON.stringify(enrollment.error));
    const counted = enrollment.executions.filter((x: any) => x.workflowStep?.name === 'count');
    assert.equal(counted.length, 50);
    const hook = enrollment.executions.find((x: any) => x.workflowStep?.name === 'onWorkflowComplete');
    assert.deepEqual(hook?.returnValue, { n: 50 });
  });

  it('fires a delayed step from the durable timers', async () => {
    const enrollment = await run(CHAIN);
    assert.equal(enrollment.status, 'completed', JSON.stringify(enrollment.error));
    assert.ok(enrollment.executions.at(-1).returnValue.waitedMs >= 2000);
  });

  it('resumes a wait once through the gateway and times out another from the timers; the run completes when both have ended', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'approval', objectType: 'WEBHOOK', actions: [{ id: 'flow', runtime: 'jsworkflows', code: APPROVAL }] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const enrolled = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType: 'WEBHOOK', objectId: randomBytes(4).toString('hex'), properties: {} } });
    const urls = await waitFor('start to hand out the resume URLs', async () => {
      const res = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return res.body.executions?.[0]?.returnValue;
    });
    assert.ok(urls.approve.startsWith(`${platform.url}/resume/rt_`), urls.approve);
    const post = (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'ada' }) });
    const [first, second] = await Promise.all([post(urls.approve), post(urls.approve)]);
    assert.deepEqual([first.status, second.status].sort(), [200, 409]);
    const done = await waitFor(
      'the run to finish',
      async () => {
        const res = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
        return res.body.status !== 'running' ? res.body : undefined;
      },
      60_000,
    );
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    const waits = done.executions.filter((x: any) => x.wait).map((x: any) => [x.wait.state, x.status, x.returnValue ?? null]);
    assert.deepEqual(
      waits.sort((a: any[], b: any[]) => String(a[0]).localeCompare(String(b[0]))),
      [
        ['resumed', 'succeeded', { order: 7, by: 'ada' }],
        ['timed_out', 'timed_out', null],
      ],
    );
    assert.equal((await post(urls.ignore)).status, 410);
  });

  it('rebuilds every projection from the topics, equal to the live ones', async () => {
    const report = await replayVerified(platform.env);
    assert.equal(report.equal, true, differing(report));
  });
});
