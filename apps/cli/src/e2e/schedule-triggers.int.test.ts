/**
 * Schedule triggers in distributed mode: every app its own process over real Kafka and FerretDB,
 * with two enrollment-service replicas racing for the same ticks. Three workflows tick every
 * 2 s; one replica is killed with SIGKILL and started again meanwhile. Every tick of every
 * workflow enrolls exactly once (no tick twice, none lost while a replica is up; the grace is
 * long, so a ticker running behind on a loaded machine still fires each tick), and once the
 * workflows are disabled the projections (schedules included) rebuild from the topics equal to
 * the live ones. Needs KAFKA_BROKERS and MONGODB_URI (npm test sets them).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, differing, dropNamespaceDatabases, freeLoopbackPort, replayVerified, startDistributedPlatform, waitFor, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
const EVERY_MS = 2000;
const CODE = `class Workflow { async start(data) { return { tick: data.scheduledAt }; } }`;

describe('schedule triggers in distributed mode', { skip: !brokers || !mongoUri ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)' : false }, () => {
  let platform: DistributedPlatform;
  let call: ReturnType<typeof api>;
  const database = `codestep_sched_${randomBytes(4).toString('hex')}`;

  before(async () => {
    platform = await startDistributedPlatform({
      brokers: brokers!,
      mongoUri: mongoUri!,
      namespace: database,
      executors: 1,
      env: { CODESTEP_SCHEDULE_MIN_INTERVAL_MS: '1000', CODESTEP_SCHEDULE_GRACE_MS: '120000' },
    });
    call = api(platform.url, platform.apiKey);
  });

  after(async () => {
    await platform?.stop();
    await dropNamespaceDatabases(mongoUri!, database);
  });

  const ticksOf = async (workflowId: string): Promise<string[]> => {
    const r = await call('GET', `/v1/enrollments?workflowId=${workflowId}&limit=1000`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.enrollments as Array<{ object: { objectId: string } }>).map((e) => e.object.objectId).sort();
  };

  it('fires every tick exactly once with two enrollment replicas, one of them killed and restarted', { timeout: 300_000 }, async () => {
    const secondReplica = { ENROLLMENT_GRPC_ADDRESS: `127.0.0.1:${await freeLoopbackPort()}` };
    await platform.startApp('enrollment-2', 'enrollment', secondReplica);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/v1/workflows', {
        name: `tick ${i}`,
        objectType: 'SCHEDULE',
        actions: [{ id: 'tick', runtime: 'jsworkflows', code: CODE }],
        trigger: { type: 'schedule', every: '2 sec' },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id as string);
    }
    await new Promise((r) => setTimeout(r, 8000));
    await platform.kill9('enrollment-2');
    const killedOut = platform.apps.get('enrollment-2')!.out();
    await new Promise((r) => setTimeout(r, 6000));
    await platform.startApp('enrollment-2', 'enrollment', secondReplica);
    await new Promise((r) => setTimeout(r, 8000));
    for (const id of ids) assert.equal((await call('POST', `/v1/workflows/${id}/disable`)).status, 200);
    const stoppedAt = Date.now();

    // Every tick from each workflow's first to its last, each once.
    for (const id of ids) {
      const ticks = await waitFor(
        `the ticks of ${id} to settle`,
        async () => {
          const a = await ticksOf(id);
          await new Promise((r) => setTimeout(r, 1500));
          const b = await ticksOf(id);
          return a.length === b.length ? b : undefined;
        },
        60_000,
      );
      const told = [killedOut, platform.apps.get('enrollment')!.out(), platform.apps.get('enrollment-2')!.out()].flatMap((o) => o.split('\n').filter((l) => l.includes(id)));
      if (process.env.CODESTEP_TEST_VERBOSE) console.log(told.join('\n'));
      assert.equal(new Set(ticks).size, ticks.length, `a tick fired twice: ${ticks.join(', ')}`);
      const times = ticks.map(Date.parse);
      assert.ok(times.length >= 8, `only ${times.length} ticks in ~22 s: ${ticks.join(', ')}`);
      times.forEach((t, i) => i && assert.equal(t - times[i - 1]!, EVERY_MS, `a tick is missing between ${ticks[i - 1]} and ${ticks[i]}`));
      assert.ok(times.at(-1)! <= stoppedAt);
    }
    const ticked = (key: string) =>
      (
        platform.apps
          .get(key)
          ?.out()
          .match(/"msg":"schedule ticked"/g) ?? []
      ).length;
    console.log(`ticks carried out: enrollment ${ticked('enrollment')}, enrollment-2 (restarted) ${ticked('enrollment-2')}`);
  });

  it('rebuilds every projection from the topics, equal to the live ones', async () => {
    const report = await replayVerified(platform.env);
    assert.equal(report.equal, true, differing(report));
    assert.ok('schedules' in report.collections || JSON.stringify(report.collections).includes('schedules'), JSON.stringify(report.collections));
  });
});
