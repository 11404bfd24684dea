/**
 * JsWorkflows through a crash of the embedded platform (`codestep dev`, a real process): N runs
 * wait (half on durable timers, half on `api.waitForEvent`) while a fan-out of N branches is in
 * flight; the process is killed with SIGKILL and started again. Every run completes, every step
 * of every branch succeeded exactly once (a step in flight at the kill is reported lost and run
 * again, nothing else repeats), the timers due while the process was down fire after it starts,
 * the waits resume by their URLs, and `codestep replay --verify` rebuilds equal projections.
 * N is CODESTEP_CRASH_N (default 1000).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { finishAfterCrash, prepareCrash } from './jsworkflows-crash.scenario.ts';
import { api, differing, replayVerified, startPlatform, type PlatformProcess } from './platform-process.ts';

const N = Number(process.env.CODESTEP_CRASH_N ?? 1000);

describe('JsWorkflows through a crash (embedded)', () => {
  let platform: PlatformProcess | undefined;
  after(async () => {
    await platform?.stop('SIGKILL');
  });

  it(`given ${N} waiting runs and a fan-out of ${N} branches in flight, after SIGKILL and a restart every run completes and every step ran exactly once; replay is equal`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codestep-jsw-crash-'));
    const env = { CODESTEP_DATA_DIR: dataDir, CODESTEP_STEP_MIN_DELAY_MS: '0', CODESTEP_RETRY_INITIAL_MS: '500', CODESTEP_DRAIN_TIMEOUT_MS: '1000' };
    const t0 = Date.now();
    platform = await startPlatform(env);
    const apiKey = platform.apiKey;
    const scenario = await prepareCrash(api(platform.url, apiKey), N);
    const killedAt = Date.now();
    await platform.stop('SIGKILL');
    platform = await startPlatform(env);
    const restartedAt = Date.now();
    const { lost } = await finishAfterCrash(api(platform.url, apiKey), platform.url, scenario);
    console.log(
      `# jsworkflows crash (embedded): ${N} runs waiting and ${scenario.atKill.branchesDone}/${N} branches done at the kill after ${((killedAt - t0) / 1000).toFixed(1)} s ` +
        `(${scenario.atKill.timersWaiting} of ${N / 2} timers of ${scenario.delaySeconds} s still waiting); restart ${((restartedAt - killedAt) / 1000).toFixed(1)} s; ` +
        `all complete ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after it; ${lost} step executions lost in the crash and run again`,
    );
    // Timers are due a margin after their own enrollment; a fan-out slow to start can let a few fire before the kill.
    assert.ok(scenario.atKill.timersWaiting > 0, `timers were still waiting at the kill (${scenario.atKill.timersWaiting} of ${N / 2})`);

    const report = await replayVerified({ CODESTEP_DATA_DIR: dataDir });
    assert.equal(report.equal, true, differing(report));
    assert.equal(await platform.stop(), 0);
    platform = undefined;
  });
});
