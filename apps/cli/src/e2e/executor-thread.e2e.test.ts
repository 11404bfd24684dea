/**
 * Embedded mode with the executor on a thread of its own (CODESTEP_EMBEDDED_WORKERS=1), run as a
 * real process: the thread exists, actions run there with their secrets (asked of the broker on
 * the main thread), a webhook answers with the action's return value (the thread's appends wake
 * the main thread's consumers), and SIGTERM while an action runs drains it: the action finishes
 * with its real result and the process exits cleanly. The other e2e tests run in this mode too
 * when CODESTEP_EMBEDDED_WORKERS=1 is set for them (platform-process.ts passes it on).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

/** The names of the threads of a process (Linux). */
function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((t) => readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim());
}

const GREET = `exports.main = async () => ({ outputFields: { greeting: process.env.GREETING + ' world', length: process.env.GREETING.length } });`;
const SLOW = `exports.main = async () => { await new Promise((r) => setTimeout(r, 4000)); return { outputFields: { done: 'yes' } }; };`;

describe('embedded platform with the executor on its own thread', () => {
  let platform: PlatformProcess | undefined;
  after(async () => {
    await platform?.stop();
  });

  it('runs actions on the executor thread with their secrets, answers webhooks, and drains a running action on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codestep-executor-thread-e2e-'));
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir, CODESTEP_EMBEDDED_WORKERS: '1' });
    if (existsSync('/proc/self/task')) assert.ok(threadNames(platform.child.pid!).includes('codestep-execut'), 'a thread named codestep-executor runs');
    const key = platform.apiKey!;
    const call = api(platform.url, key);

    assert.equal((await call('PUT', '/v1/secrets/GREETING', { value: 'hello' })).status, 200);
    const wf = await call('POST', '/v1/workflows', {
      name: 'greet',
      actions: [
        {
          id: 'greet',
          code: GREET,
          secrets: ['GREETING'],
          outputFields: [
            { name: 'greeting', type: 'string' },
            { name: 'length', type: 'number' },
          ],
        },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const enr = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectType: 'CONTACT', objectId: '1' } });
    assert.equal(enr.status, 202);
    const greeted = await waitFor('the enrollment to complete', async () => {
      const r = await call('GET', `/v1/enrollments/${enr.body.id}`);
      return r.body.status === 'completed' ? r.body : undefined;
    });
    // The secret's value was resolved (its length came out) and is redacted from the output.
    assert.deepEqual(greeted.executions[0].outputFields, { greeting: '[REDACTED] world', length: 5 });

    const hookWf = await call('POST', '/v1/workflows', {
      name: 'hook',
      actions: [{ id: 'one', runtime: 'jsworkflows', code: 'export class Workflow { async start(data) { return { twice: data.n * 2 }; } }' }],
    });
    const hook = (await call('POST', `/v1/workflows/${hookWf.body.id}/webhook`)).body.path as string;
    for (const n of [1, 2, 3]) {
      const res = await fetch(platform.url + hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { twice: n * 2 });
    }

    const slow = await call('POST', '/v1/workflows', { name: 'slow', actions: [{ id: 'slow', code: SLOW, outputFields: [{ name: 'done', type: 'string' }] }] });
    const running = await call('POST', `/v1/workflows/${slow.body.id}/enrollments`, { object: { objectType: 'CONTACT', objectId: '2' } });
    await waitFor('the action to start', async () => {
      const r = await call('GET', `/v1/enrollments/${running.body.id}`);
      return r.body.executions?.[0]?.status === 'running' ? true : undefined;
    });
    const code = await platform.stop('SIGTERM');
    assert.equal(code, 0, `exit code; output:\n${platform.output()}`);

    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir, CODESTEP_EMBEDDED_WORKERS: '1' });
    const again = api(platform.url, key);
    const done = await waitFor('the drained enrollment, after a restart', async () => {
      const r = await again('GET', `/v1/enrollments/${running.body.id}`);
      return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
    });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.executions.length, 1, 'one execution: it finished during the drain, nothing failed or ran again');
    assert.deepEqual(done.executions[0].outputFields, { done: 'yes' });
  });
});
