/**
 * Graceful shutdown of the embedded platform, run as a real process: SIGTERM while an action
 * runs lets it finish (longer than any other close step may take) and commits its real result;
 * after a restart the enrollment shows it completed, first attempt, nothing failed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const SLOW = `exports.main = async () => { console.log('working'); await new Promise((r) => setTimeout(r, 6000)); return { outputFields: { done: 'yes' } }; };`;

describe('embedded platform shutdown', () => {
  let platform: PlatformProcess | undefined;
  after(async () => {
    await platform?.stop();
  });

  it('given SIGTERM while a 6 s action runs, the action finishes with its real result and the process exits cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codestep-drain-e2e-'));
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    const key = platform.apiKey!;
    let call = api(platform.url, key);
    const wf = await call('POST', '/v1/workflows', { name: 'slow', actions: [{ id: 'slow', code: SLOW, outputFields: [{ name: 'done', type: 'string' }] }] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const enr = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType: 'CONTACT', objectId: '1' } });
    assert.equal(enr.status, 202);
    await waitFor('the action to start', async () => {
      const r = await call('GET', `/v1/enrollments/${enr.body.id}`);
      return r.body.executions?.[0]?.status === 'running' ? true : undefined;
    });

    const stoppingAt = Date.now();
    const code = await platform.stop('SIGTERM');
    const took = Date.now() - stoppingAt;
    assert.equal(code, 0, `exit code; output:\n${platform.output()}`);
    assert.ok(took >= 3_000, `the process waited for the running action (stopped after ${took} ms)`);

    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    call = api(platform.url, key);
    const done = await waitFor(
      'the enrollment to finish after the restart',
      async () => {
        const r = await call('GET', `/v1/enrollments/${enr.body.id}`);
        return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
      },
      20_000,
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.executions.length, 1, 'one execution: nothing failed, nothing retried');
    assert.equal(done.executions[0].attempt, 1);
    assert.deepEqual(done.executions[0].outputFields, { done: 'yes' });
  });
});
