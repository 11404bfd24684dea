/**
 * Graceful shutdown of the embedded platform, run as a real process: SIGTERM while an action
 * runs lets it finish (longer than any other close step may take) and commits its real result;
 * after a restart the enrollment shows it completed, first attempt, nothing failed. SIGTERM
 * while many enrollments are in flight answers each of them: no enrollment exists whose client
 * saw a connection error instead of its 202.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

interface Attempt {
  objectId: string;
  sentAfterSigterm: boolean;
  answeredAfterSigterm?: boolean;
  status?: number;
  enrollmentId?: string;
  error?: string;
}

/** One enrollment over a keep-alive agent, without Idempotency-Key: its HTTP outcome or its connection error. */
function enroll(agent: Agent, url: string, key: string, workflowId: string, objectId: string): Promise<Omit<Attempt, 'sentAfterSigterm'>> {
  return new Promise((resolve) => {
    const req = request(`${url}/v1/workflows/${workflowId}/enrollments`, { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ objectId, status: res.statusCode ?? 0, enrollmentId: res.statusCode === 202 ? (JSON.parse(text) as { id: string }).id : text }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ objectId, error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ objectId, error: e.code ?? e.message }));
    req.end(JSON.stringify({ object: { objectType: 'CONTACT', objectId } }));
  });
}

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

  it('given SIGTERM while 40 clients enroll, every client either got its 202 for an enrollment that exists or a connection error for one that does not', async () => {
    await platform?.stop();
    const dataDir = mkdtempSync(join(tmpdir(), 'codestep-http-drain-e2e-'));
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    const key = platform.apiKey!;
    const wf = await api(platform.url, key)('POST', '/v1/workflows', { name: 'quick', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} });' }] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));

    const agent = new Agent({ keepAlive: true, maxSockets: 40 });
    const attempts: Attempt[] = [];
    let sigtermAt = 0;
    let accepted = 0;
    const { url } = platform;
    const client = async (c: number) => {
      // Each client enrolls one object after another until its connection fails: by then the gateway has stopped.
      for (let n = 0; n < 10_000; n++) {
        const sentAfterSigterm = sigtermAt > 0;
        const out = await enroll(agent, url, key, wf.body.id, `client-${c}-${n}`);
        attempts.push({ ...out, sentAfterSigterm, answeredAfterSigterm: out.status !== undefined && sigtermAt > 0 && !sentAfterSigterm });
        if (out.status === 202 && ++accepted === 120) {
          sigtermAt = Date.now();
          platform!.child.kill('SIGTERM');
        }
        if (out.error) return;
      }
    };
    const exited = new Promise<number | null>((resolve) => platform!.child.once('exit', resolve));
    await Promise.all(Array.from({ length: 40 }, (_, c) => client(c)));
    agent.destroy();
    assert.equal(await exited, 0, `exit code; output:\n${platform.output()}`);

    const unexpected = attempts.filter((a) => a.status !== undefined && a.status !== 202);
    assert.deepEqual(unexpected, [], 'every answer was a 202');
    const answered = new Map(attempts.filter((a) => a.status === 202).map((a) => [a.objectId, a.enrollmentId]));

    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    const call = api(platform.url, key);
    const list = async () => (await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&limit=5000`)).body.enrollments as Array<{ id: string; object: { objectId: string } }>;
    await waitFor('every accepted enrollment in the history', async () => ((await list()).length >= answered.size ? true : undefined), 30_000);
    // Settled: the history has projected everything the enrollment service committed.
    let existing = await list();
    for (let previous = -1; previous !== existing.length;) {
      previous = existing.length;
      await new Promise((r) => setTimeout(r, 1_000));
      existing = await list();
    }
    const committed = new Map(existing.map((e) => [e.object.objectId, e.id]));
    const committedWithoutAnswer = [...committed.keys()].filter((o) => !answered.has(o));
    assert.deepEqual(committedWithoutAnswer, [], `enrollments committed while their clients saw a connection error (of ${attempts.length} attempts, ${answered.size} answered 202)`);
    assert.deepEqual(new Map([...answered].filter(([o]) => committed.has(o))), answered, 'every 202 names an enrollment that exists');
    assert.equal(committed.size, answered.size);
    assert.ok(
      attempts.some((a) => a.answeredAfterSigterm),
      'some requests were in flight when SIGTERM came, and were answered',
    );
  });
});
