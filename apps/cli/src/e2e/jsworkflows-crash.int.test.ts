/**
 * JsWorkflows through crashes in distributed mode: every app its own process over the real Kafka
 * broker and FerretDB, two executors. N runs wait (half on durable timers, half on
 * `api.waitForEvent`) while a fan-out of N branches is in flight; the enrollment service (which
 * holds the timers and decides every step) and one executor (running branches) are killed with
 * SIGKILL together and started again. Every run completes, every step of every branch succeeded
 * exactly once (a step in flight at the kill is reported lost and run again, nothing else
 * repeats), the waits resume through the gateway, and `codestep replay --verify` rebuilds equal
 * projections from the topics.
 * Needs KAFKA_BROKERS and MONGODB_URI (npm test sets them); N from CODESTEP_CRASH_N, else
 * CODESTEP_DIST_N (default 1000).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { finishAfterCrash, prepareCrash } from './jsworkflows-crash.scenario.ts';
import { api, differing, dropNamespaceDatabases, replayVerified, startDistributedPlatform, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
const N = Number(process.env.CODESTEP_CRASH_N ?? process.env.CODESTEP_DIST_N ?? 1000);

describe('JsWorkflows through crashes (distributed)', { skip: !brokers || !mongoUri ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)' : false }, () => {
  let platform: DistributedPlatform;
  const database = `codestep_jswcrash_${randomBytes(4).toString('hex')}`;

  before(async () => {
    platform = await startDistributedPlatform({
      brokers: brokers!,
      mongoUri: mongoUri!,
      namespace: database,
      executors: 2,
      env: { CODESTEP_STEP_MIN_DELAY_MS: '0', CODESTEP_RETRY_INITIAL_MS: '500', CODESTEP_EXECUTOR_CONCURRENCY: '8' },
    });
  });

  after(async () => {
    await platform?.stop();
    await dropNamespaceDatabases(mongoUri!, database);
  });

  it(`given ${N} waiting runs and a fan-out of ${N} branches in flight, after SIGKILL of the enrollment service and an executor every run completes and every step ran exactly once`, async () => {
    const call = api(platform.url, platform.apiKey);
    const t0 = Date.now();
    const scenario = await prepareCrash(call, N);
    const killedAt = Date.now();
    await Promise.all([platform.kill9('enrollment'), platform.kill9('executor-0')]);
    await platform.startApp('enrollment', 'enrollment');
    await platform.startApp('executor-0', 'executor', { CODESTEP_EXECUTOR_ID: 'executor-0' });
    const restartedAt = Date.now();
    const { lost } = await finishAfterCrash(call, platform.url, scenario).catch((error: unknown) => {
      const dir = mkdtempSync(join(tmpdir(), 'codestep-jsw-crash-out-'));
      for (const [key, app] of platform.apps) writeFileSync(join(dir, `${key}.log`), app.out());
      console.error(`# the apps' output is in ${dir}`);
      throw error;
    });
    console.log(
      `# jsworkflows crash (distributed): ${N} runs waiting and ${scenario.atKill.branchesDone}/${N} branches done at the kill after ${((killedAt - t0) / 1000).toFixed(1)} s ` +
        `(${scenario.atKill.timersWaiting} of ${N / 2} timers of ${scenario.delaySeconds} s still waiting); restart ${((restartedAt - killedAt) / 1000).toFixed(1)} s; ` +
        `all complete ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after it; ${lost} step executions lost in the crash and run again`,
    );
    // Timers are due a margin after their own enrollment; a fan-out slow to start can let a few fire before the kill.
    assert.ok(scenario.atKill.timersWaiting > 0, `timers were still waiting at the kill (${scenario.atKill.timersWaiting} of ${N / 2})`);
  });

  it('rebuilds every projection from the topics, equal to the live ones', async () => {
    const report = await replayVerified(platform.env);
    assert.equal(report.equal, true, differing(report));
  });
});
