/**
 * Day-two operations over the public API of an embedded platform: versions, an identical PUT,
 * diff, rollback, disable (enrollments and webhook calls refused with 409, a running enrollment
 * finishes), enable, archive and restore, webhook rotation and revocation, and the 4xx answers to
 * bad input.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const SCORE_V1 = 'exports.main = async (event) => {\n  return { outputFields: { score: 10 } };\n};';
const SCORE_V2 = 'exports.main = async (event) => {\n  console.log("v2");\n  return { outputFields: { score: 20 } };\n};';
// Waits long enough for the test to disable its workflow while it runs.
const SLOW = 'exports.main = async () => { await new Promise((r) => setTimeout(r, 1500)); return { outputFields: { done: true } }; };';
const HOOK = 'export class Workflow { async start(data) { return { got: data.n }; } }';

const CLI = fileURLToPath(new URL('../main.ts', import.meta.url));
/** `codestep workflows …` as its own process against the platform: exit code, stdout, stderr. */
async function cli(url: string, key: string | undefined, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'workflows', ...args], { env: { ...process.env, CODESTEP_URL: url, CODESTEP_API_KEY: key ?? '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const workflow = (code: string) => ({ name: 'score', objectType: 'CONTACT', actions: [{ id: 'score', code, outputFields: [{ name: 'score', type: 'number' }] }] });
const contact = (id: string) => ({ object: { objectType: 'CONTACT', objectId: id, properties: {} } });

describe('day-two operations on workflows', () => {
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;

  before(async () => {
    platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-day-two-')) });
    call = api(platform.url, platform.apiKey);
  });
  after(async () => {
    await platform?.stop();
  });

  it('keeps versions: an identical PUT makes none, a diff shows the code change, a rollback is a new version equal to the old one', async () => {
    const created = await call('POST', '/v1/workflows', workflow(SCORE_V1));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    assert.equal(created.body.status, 'enabled');

    const same = await call('PUT', `/v1/workflows/${id}`, workflow(SCORE_V1));
    assert.equal(same.status, 200);
    assert.equal(same.body.version, 1, 'an identical PUT creates no version');
    const v2 = await call('PUT', `/v1/workflows/${id}`, workflow(SCORE_V2));
    assert.equal(v2.body.version, 2);

    const diff = await call('GET', `/v1/workflows/${id}/diff?from=1&to=2`);
    assert.equal(diff.status, 200, JSON.stringify(diff.body));
    assert.equal(diff.body.identical, false);
    assert.equal(diff.body.actions[0].actionId, 'score');
    assert.match(diff.body.actions[0].codeDiff, /^\+ {2}console\.log\("v2"\);$/m);
    assert.match(diff.body.actions[0].codeDiff, /^- {2}return \{ outputFields: \{ score: 10 \} \};$/m);

    const rolled = await call('POST', `/v1/workflows/${id}/rollback`, { toVersion: 1 });
    assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
    assert.deepEqual([rolled.body.version, rolled.body.rolledBackFrom, rolled.body.actions[0].code], [3, 1, SCORE_V1]);
    const versions = await call('GET', `/v1/workflows/${id}/versions`);
    assert.deepEqual(
      versions.body.versions.map((v: { version: number; rolledBackFrom: number | null }) => [v.version, v.rolledBackFrom]),
      [
        [3, 1],
        [2, null],
        [1, null],
      ],
    );
    assert.equal((await call('GET', `/v1/workflows/${id}/diff?from=1&to=3`)).body.identical, true);

    // Bad input: a clear 4xx naming what to fix.
    const missing = await call('POST', `/v1/workflows/${id}/rollback`, { toVersion: 7 });
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /has no version 7: its versions are 1 to 3/);
    const bad = await call('POST', `/v1/workflows/${id}/rollback`, { toVersion: 'one' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /toVersion must be a whole number/);
    const typo = await call('POST', `/v1/workflows/${id}/rollback`, { toVershun: 1 });
    assert.equal(typo.status, 400);
    assert.equal((await call('GET', `/v1/workflows/${id}/diff?from=9`)).status, 404);
    assert.equal((await call('GET', `/v1/workflows/${id}/diff?to=x`)).status, 400);
    assert.equal((await call('GET', '/v1/workflows/wf_nope/versions')).status, 404);
    const broken = await call('PUT', `/v1/workflows/${id}`, workflow('exports.main = async (event) => {\n  return { outputFields: { score: } };\n};'));
    assert.equal(broken.status, 400);
    assert.match(broken.body.error.message, /^actions\[0\]\.code: SyntaxError: Unexpected token at line 2, column 35/);
  });

  it('disabled, a workflow refuses enrollments and webhook calls with 409 WORKFLOW_DISABLED; one already running finishes; enabled, it enrolls again', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'slow', actions: [{ id: 'slow', code: SLOW, outputFields: [{ name: 'done', type: 'boolean' }] }] });
    const id = wf.body.id as string;
    const running = await call('POST', `/v1/workflows/${id}/enrollments`, contact('1'));
    assert.equal(running.status, 202);

    const disabled = await call('POST', `/v1/workflows/${id}/disable`, { reason: 'bad deploy' });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.status, 'disabled');
    const refused = await call('POST', `/v1/workflows/${id}/enrollments`, contact('2'));
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'WORKFLOW_DISABLED');
    assert.match(refused.body.error.message, /is disabled since .*: it takes no new enrollments \(enrollments already running finish\)\. Enable it with POST \/v1\/workflows\/.*\/enable/);
    assert.equal((await call('GET', `/v1/workflows/${id}`)).body.status, 'disabled');

    const finished = await waitFor('the running enrollment to finish', async () => {
      const e = await call('GET', `/v1/enrollments/${running.body.id}`);
      return e.body.status === 'running' ? undefined : e.body;
    });
    assert.equal(finished.status, 'completed', 'an enrollment running when the workflow was disabled finishes');

    const hooked = await call('POST', '/v1/workflows', { name: 'hook', objectType: 'WEBHOOK', actions: [{ id: 'h', runtime: 'jsworkflows', code: HOOK }] });
    const hook = await call('POST', `/v1/workflows/${hooked.body.id}/webhook`);
    await call('POST', `/v1/workflows/${hooked.body.id}/disable`);
    const hookRefused = await fetch(`${platform.url}${hook.body.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    assert.equal(hookRefused.status, 409);
    assert.equal(((await hookRefused.json()) as { error: { code: string } }).error.code, 'WORKFLOW_DISABLED');
    await call('POST', `/v1/workflows/${hooked.body.id}/enable`);
    const hookOk = await fetch(`${platform.url}${hook.body.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":2}' });
    assert.equal(hookOk.status, 200);
    assert.deepEqual(await hookOk.json(), { got: 2 });

    const enabled = await call('POST', `/v1/workflows/${id}/enable`);
    assert.equal(enabled.body.status, 'enabled');
    assert.equal((await call('POST', `/v1/workflows/${id}/enrollments`, contact('3'))).status, 202);
    assert.equal((await call('POST', `/v1/workflows/${id}/disable`, { reasn: 'x' })).status, 400, 'an unknown field is refused');
  });

  it('archived, a workflow leaves the list and refuses enrollments and updates, keeps its history, and enabling restores it', async () => {
    const wf = await call('POST', '/v1/workflows', workflow(SCORE_V1));
    const id = wf.body.id as string;
    const enrolled = await call('POST', `/v1/workflows/${id}/enrollments`, contact('9'));
    const archived = await call('DELETE', `/v1/workflows/${id}`);
    assert.equal(archived.status, 200);
    assert.equal(archived.body.status, 'archived');
    const ids = async (q = '') => ((await call('GET', `/v1/workflows${q}`)).body.workflows as Array<{ id: string }>).map((w) => w.id);
    assert.ok(!(await ids()).includes(id));
    assert.ok((await ids('?includeArchived=true')).includes(id));
    assert.equal((await call('GET', '/v1/workflows?includeArchived=maybe')).status, 400);
    assert.equal((await call('POST', `/v1/workflows/${id}/enrollments`, contact('10'))).body.error.code, 'WORKFLOW_ARCHIVED');
    assert.equal((await call('PUT', `/v1/workflows/${id}`, workflow(SCORE_V2))).status, 409);
    assert.equal((await call('GET', `/v1/enrollments/${enrolled.body.id}`)).status, 200, 'its history is kept');
    await call('POST', `/v1/workflows/${id}/enable`);
    assert.ok((await ids()).includes(id));
  });

  it('rotates a webhook URL (the old one is refused at once) and revokes it', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'hook2', objectType: 'WEBHOOK', actions: [{ id: 'h', runtime: 'jsworkflows', code: HOOK }] });
    const id = wf.body.id as string;
    const first = (await call('POST', `/v1/workflows/${id}/webhook`)).body.path as string;
    const rotated = await call('POST', `/v1/workflows/${id}/webhook/rotate`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.path, first);
    assert.equal((await fetch(platform.url + first, { method: 'POST' })).status, 404);
    assert.equal((await fetch(platform.url + rotated.body.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":3}' })).status, 200);
    assert.equal((await call('POST', `/v1/workflows/${id}/webhook`)).body.path, rotated.body.path, 'the rotated URL is the current one');
    assert.equal((await call('DELETE', `/v1/workflows/${id}/webhook`)).status, 200);
    assert.equal((await fetch(platform.url + rotated.body.path, { method: 'POST' })).status, 404);
    assert.equal((await call('DELETE', `/v1/workflows/${id}/webhook`)).status, 404, 'nothing left to revoke');
  });
});

describe('testing a saved action', () => {
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;

  before(async () => {
    platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-action-test-')) });
    call = api(platform.url, platform.apiKey);
  });
  after(async () => {
    await platform?.stop();
  });

  it("runs one action of a version with the tenant's secrets and the caller's object and inputs, and it is in no enrollment's history", async () => {
    assert.equal((await call('PUT', '/v1/secrets/GREETING', { value: 'hello there' })).status, 200);
    const code = [
      'exports.main = async (event) => {',
      '  console.log("testing", event.object.objectId, event.inputFields.email);',
      '  return { outputFields: { domain: event.inputFields.email.split("@")[1], greeting: process.env.GREETING.length, tier: event.inputFields.tier } };',
      '};',
    ].join('\n');
    const wf = await call('POST', '/v1/workflows', {
      name: 'tested',
      actions: [
        { id: 'first', code: 'exports.main = async () => ({ outputFields: { tier: "gold" } });', outputFields: [{ name: 'tier', type: 'string' }] },
        {
          id: 'second',
          code,
          secrets: ['GREETING'],
          inputFields: [
            { name: 'email', property: 'email' },
            { name: 'tier', fromAction: { actionId: 'first', field: 'tier' } },
          ],
          outputFields: [
            { name: 'domain', type: 'string' },
            { name: 'greeting', type: 'number' },
            { name: 'tier', type: 'string' },
          ],
        },
      ],
    });
    const id = wf.body.id as string;
    const tested = await call('POST', `/v1/workflows/${id}/actions/second/test`, { object: { objectId: 77, properties: { email: 'ada@example.com' } }, inputFields: { tier: 'silver' } });
    assert.equal(tested.status, 200, JSON.stringify(tested.body));
    assert.equal(tested.body.status, 'succeeded');
    assert.deepEqual(tested.body.outputFields, { domain: 'example.com', greeting: 11, tier: 'silver' });
    assert.deepEqual(
      tested.body.logs.map((l: { message: string }) => l.message),
      ['testing 77 ada@example.com'],
    );
    assert.equal(tested.body.error, null);
    assert.equal(tested.body.workflowVersion, 1);
    assert.equal((await call('GET', `/v1/executions/${tested.body.executionId}`)).body.status, 'succeeded');
    assert.deepEqual((await call('GET', `/v1/enrollments?workflowId=${id}`)).body.enrollments, [], 'a test is in no enrollment history');
    assert.equal((await call('GET', `/v1/enrollments/${tested.body.testId}`)).status, 404);

    const failing = await call('PUT', `/v1/workflows/${id}`, { name: 'tested', actions: [{ id: 'first', code: 'exports.main = async () => { throw new Error("boom"); };' }] });
    assert.equal(failing.body.version, 2);
    const failed = await call('POST', `/v1/workflows/${id}/actions/first/test`, {});
    assert.equal(failed.body.status, 'failed');
    assert.match(failed.body.error.message, /boom/);
    const older = await call('POST', `/v1/workflows/${id}/actions/first/test`, { version: 1 });
    assert.deepEqual([older.body.status, older.body.outputFields, older.body.workflowVersion], ['succeeded', { tier: 'gold' }, 1]);

    const again = await call('POST', `/v1/workflows/${id}/actions/first/test`, { version: 1 }, { 'idempotency-key': 'k1' });
    const same = await call('POST', `/v1/workflows/${id}/actions/first/test`, { version: 1 }, { 'idempotency-key': 'k1' });
    assert.equal(same.body.executionId, again.body.executionId, 'the same Idempotency-Key runs one test');
  });

  it('refuses a test of an action, version or workflow that does not exist, and a body with unknown fields, with a 4xx naming it', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 't', actions: [{ id: 'only', code: 'exports.main = async () => ({ outputFields: {} });' }] });
    const id = wf.body.id as string;
    const noAction = await call('POST', `/v1/workflows/${id}/actions/nope/test`, {});
    assert.equal(noAction.status, 400);
    assert.match(noAction.body.error.message, /has no action "nope"; its actions are "only"/);
    assert.equal((await call('POST', `/v1/workflows/${id}/actions/only/test`, { version: 5 })).status, 404);
    assert.equal((await call('POST', '/v1/workflows/wf_nope/actions/only/test', {})).status, 404);
    const typo = await call('POST', `/v1/workflows/${id}/actions/only/test`, { inputFeilds: {} });
    assert.equal(typo.status, 400);
    assert.match(typo.body.error.message, /body\.inputFeilds is not a field of a test/);
    assert.equal((await call('POST', `/v1/workflows/${id}/actions/only/test`, { inputFields: { a: { nested: true } } })).status, 400);
  });
});

describe('re-running what failed', () => {
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  const STRICT = 'exports.main = async (event) => { if (!event.inputFields.email.includes("@")) throw new Error("not an email: " + event.inputFields.email); return { outputFields: { ok: true } }; };';
  const LENIENT = 'exports.main = async () => ({ outputFields: { ok: true } });';
  const twoSteps = (second: string) => ({
    name: 'retry me',
    actions: [
      { id: 'first', code: 'exports.main = async () => ({ outputFields: { n: Date.now() } });', outputFields: [{ name: 'n', type: 'number' }] },
      { id: 'second', code: second, inputFields: [{ name: 'email', property: 'email' }], outputFields: [{ name: 'ok', type: 'boolean' }] },
    ],
  });
  const settled = (id: string) =>
    waitFor(`enrollment ${id} to settle`, async () => {
      const e = await call('GET', `/v1/enrollments/${id}`);
      return e.body.status === 'running' ? undefined : e.body;
    });

  before(async () => {
    platform = await startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-retry-')) });
    call = api(platform.url, platform.apiKey);
  });
  after(async () => {
    await platform?.stop();
  });

  it('retries one failed enrollment from its failed step with edited inputs: earlier outputs kept, the new attempt in the same history', async () => {
    const wf = await call('POST', '/v1/workflows', twoSteps(STRICT));
    const enr = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: '5', properties: { email: 'nope' } } });
    const failed = await settled(enr.body.id);
    assert.equal(failed.status, 'failed');
    assert.equal((await call('POST', `/v1/enrollments/${enr.body.id}/retry`, { version: 'newest' })).status, 400);
    assert.equal((await call('POST', `/v1/enrollments/${enr.body.id}/retry`, { inputFeilds: {} })).status, 400);

    const retried = await call('POST', `/v1/enrollments/${enr.body.id}/retry`, { inputFields: { email: 'fixed@example.com' }, reason: 'typo in email' });
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    assert.deepEqual([retried.body.round, retried.body.actionId, retried.body.workflowVersion], [1, 'second', 1]);
    const again = await call('POST', `/v1/enrollments/${enr.body.id}/retry`, { inputFields: { email: 'fixed@example.com' } });
    assert.ok(again.status === 202 ? again.body.executionId === retried.body.executionId : again.status === 409, 'a repeated retry runs the same round once, or finds it running');

    const done = await settled(enr.body.id);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const byAction = (id: string) => done.executions.filter((x: { actionId: string }) => x.actionId === id);
    assert.equal(byAction('first').length, 1, 'the step that succeeded does not run again');
    assert.deepEqual(
      byAction('second').map((x: { attempt: number; status: string; inputFields: { email: string } }) => [x.attempt, x.status, x.inputFields.email]),
      [
        [1, 'failed', 'nope'],
        [2, 'succeeded', 'fixed@example.com'],
      ],
    );
    const completed = await call('POST', `/v1/enrollments/${enr.body.id}/retry`, {});
    assert.equal(completed.status, 409);
    assert.match(completed.body.error.message, /is completed: only a failed enrollment can be retried/);
    assert.equal((await call('POST', '/v1/enrollments/enr_nope/retry', {})).status, 404);
  });

  it('retries every failed enrollment a filter matches on the latest version, as a job with progress', async () => {
    const wf = await call('POST', '/v1/workflows', twoSteps(STRICT));
    const id = wf.body.id as string;
    const bad = [];
    for (const n of [1, 2, 3]) bad.push((await call('POST', `/v1/workflows/${id}/enrollments`, { object: { objectId: `b${n}`, properties: { email: `bad${n}` } } })).body.id as string);
    const good = (await call('POST', `/v1/workflows/${id}/enrollments`, { object: { objectId: 'g', properties: { email: 'g@example.com' } } })).body.id as string;
    for (const e of [...bad, good]) await settled(e);
    await call('PUT', `/v1/workflows/${id}`, twoSteps(LENIENT));

    assert.equal((await call('POST', `/v1/workflows/${id}/retries`, { errorCode: 'NOPE' })).status, 400);
    assert.equal((await call('POST', `/v1/workflows/${id}/retries`, { limit: 100000 })).status, 400);
    assert.equal((await call('POST', `/v1/workflows/${id}/retries`, { failedAfter: 'yesterday' })).status, 400);
    const none = await call('POST', `/v1/workflows/${id}/retries`, { errorCode: 'TIMEOUT' });
    assert.equal(none.body.total, 0);

    const job = await call('POST', `/v1/workflows/${id}/retries`, { errorCode: 'USER_CODE_ERROR', failedAfter: new Date(Date.now() - 3_600_000).toISOString(), version: 'latest' });
    assert.equal(job.status, 202, JSON.stringify(job.body));
    assert.deepEqual([job.body.total, job.body.matched], [3, 3]);
    const finished = await waitFor('the retry job to finish', async () => {
      const j = await call('GET', `/v1/retries/${job.body.jobId}`);
      return j.body.completed + j.body.failed + j.body.refused === j.body.total ? j.body : undefined;
    });
    assert.deepEqual([finished.retried, finished.completed, finished.failed, finished.refused], [3, 3, 0, 0]);
    assert.deepEqual(finished.items.map((i: { enrollmentId: string }) => i.enrollmentId).sort(), [...bad].sort());
    for (const e of bad) assert.equal((await call('GET', `/v1/enrollments/${e}`)).body.status, 'completed');
    assert.equal((await call('GET', '/v1/retries/rjob_nope')).status, 404);
  });
});

describe('bulk enrollment', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'codestep-batch-'));
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  let key: string | undefined;
  const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');
  const batch = (workflowId: string, body: string, headers: Record<string, string> = {}) =>
    call('POST', `/v1/workflows/${workflowId}/enrollments:batch`, body, { 'content-type': 'application/x-ndjson', ...headers });
  const finished = (jobId: string) =>
    waitFor(
      `batch ${jobId} to finish`,
      async () => {
        const j = await call('GET', `/v1/enrollment-batches/${jobId}`);
        return j.body.status === 'done' ? j.body : undefined;
      },
      120_000,
    );
  const enrolledCount = async (workflowId: string) => ((await call('GET', `/v1/enrollments?workflowId=${workflowId}&limit=5000`)).body.enrollments as unknown[]).length;

  before(async () => {
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    key = platform.apiKey;
    call = api(platform.url, key);
  });
  after(async () => {
    await platform?.stop();
  });

  it('enrolls the good rows of an NDJSON batch and reports each bad one with its line and reason; a resent batch and a known row key enroll nothing twice', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'bulk', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} });' }] });
    const id = wf.body.id as string;
    const body = [ndjson([{ objectId: 1 }, { objectId: 2, properties: { email: 'x@y.z' } }]), '{oops', ndjson([{ properties: {} }, { objectId: 3, idempotencyKey: 'row-3' }])].join('\n');
    const job = await batch(id, body, { 'idempotency-key': 'import-1' });
    assert.equal(job.status, 202, JSON.stringify(job.body));
    assert.deepEqual([job.body.total, job.body.accepted], [5, 3]);
    const done = await finished(job.body.jobId);
    assert.deepEqual([done.enrolled, done.failed], [3, 2]);
    assert.deepEqual(
      done.errors.map((e: { line: number; reason: string }) => e.line),
      [3, 4],
    );
    assert.match(done.errors[0].reason, /not valid JSON/);
    assert.match(done.errors[1].reason, /objectId is required/);

    const resent = await batch(id, body, { 'idempotency-key': 'import-1' });
    assert.equal(resent.body.jobId, job.body.jobId, 'the same Idempotency-Key is the same job');
    const other = await call('POST', `/v1/workflows/${id}/enrollments:batch`, [{ objectId: 3, idempotencyKey: 'row-3' }, { objectId: 4 }]);
    assert.equal(other.status, 202, JSON.stringify(other.body));
    assert.equal((await finished(other.body.jobId)).enrolled, 2);
    await waitFor('the enrollments to be projected', async () => ((await enrolledCount(id)) === 4 ? true : undefined));

    assert.equal((await batch(id, '')).status, 400);
    assert.equal((await batch('wf_nope', ndjson([{ objectId: 1 }]))).status, 404);
    assert.equal((await call('GET', '/v1/enrollment-batches/bat_nope')).status, 404);
    await call('POST', `/v1/workflows/${id}/disable`);
    const refused = await finished((await batch(id, ndjson([{ objectId: 9 }]))).body.jobId);
    assert.deepEqual([refused.enrolled, refused.failed], [0, 1]);
    assert.match(refused.errors[0].reason, /WORKFLOW_DISABLED/);
  });

  it('pages GET /v1/enrollments with a cursor under any filter, every enrollment once, and refuses a cursor it did not hand out with 400 naming "cursor"', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'paged', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} });' }] });
    const id = wf.body.id as string;
    const job = await batch(id, ndjson(Array.from({ length: 30 }, (_, i) => ({ objectId: 100 + (i % 7) }))));
    assert.equal((await finished(job.body.jobId)).enrolled, 30);
    await waitFor('the enrollments to complete', async () => {
      const all = (await call('GET', `/v1/enrollments?workflowId=${id}&status=completed&limit=5000`)).body.enrollments as unknown[];
      return all.length === 30 ? true : undefined;
    });
    for (const filter of [`workflowId=${id}`, `workflowId=${id}&status=completed`, `workflowId=${id}&objectId=101`]) {
      const whole = await call('GET', `/v1/enrollments?${filter}&limit=5000`);
      assert.equal(whole.body.nextCursor, null, 'one page holds them all');
      const expected = (whole.body.enrollments as Array<{ id: string }>).map((e) => e.id);
      const seen: string[] = [];
      let cursor = '';
      for (let pages = 0; pages < 40; pages++) {
        const page = await call('GET', `/v1/enrollments?${filter}&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen.push(...(page.body.enrollments as Array<{ id: string }>).map((e) => e.id));
        if (page.body.nextCursor === null) break;
        cursor = encodeURIComponent(page.body.nextCursor as string);
      }
      assert.deepEqual(seen, expected, `${filter}: the pages hold every enrollment once, newest first`);
    }
    for (const bad of ['nope', Buffer.from('["x"]').toString('base64url'), Buffer.from('[1, ""]').toString('base64url')]) {
      const refused = await call('GET', `/v1/enrollments?workflowId=${id}&cursor=${bad}`);
      assert.equal(refused.status, 400, bad);
      assert.match(JSON.stringify(refused.body), /cursor/, bad);
    }
  });

  it('codestep workflows: enroll --file a CSV with a progress bar and the bad rows named; versions, disable and rollback with --json', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'cli', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} });' }] });
    const id = wf.body.id as string;
    const file = join(dataDir, 'objects.csv');
    writeFileSync(file, 'objectId,email\n1,a@example.com\n,missing@example.com\n3,c@example.com\n');
    const enrolled = await cli(platform.url, key, ['enroll', id, '--file', file]);
    assert.equal(enrolled.code, 1, 'a failed row makes the exit code 1');
    assert.match(enrolled.stdout, /enrolled 2 of 3; 1 failed\n {2}line 3: objectId is required/);
    assert.match(enrolled.stderr, /\[#+\] 3\/3/);
    assert.equal((await cli(platform.url, key, ['disable', id, '--reason', 'maintenance'])).stdout, `✔ ${id} is disabled\n`);
    await call('PUT', `/v1/workflows/${id}`, { name: 'cli', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: { v: 2 } });' }] });
    const rolled = await cli(platform.url, key, ['rollback', id, '--to', '1', '--json']);
    assert.equal(rolled.code, 0, rolled.stderr);
    assert.equal(JSON.parse(rolled.stdout).rolledBackFrom, 1);
    const versions = JSON.parse((await cli(platform.url, key, ['versions', id, '--json'])).stdout) as { versions: Array<{ version: number }> };
    assert.deepEqual(
      versions.versions.map((x) => x.version),
      [3, 2, 1],
    );
    const missing = await cli(platform.url, key, ['versions', 'wf_nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404 NOT_FOUND/);
  });

  it('given a kill -9 while a batch runs, when the platform starts again, then the batch finishes and enrolls each row exactly once', async (t) => {
    const wf = await call('POST', '/v1/workflows', { name: 'bulk-crash', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} });' }] });
    const id = wf.body.id as string;
    const rows = Array.from({ length: 600 }, (_, i) => ({ objectId: `c${i}` }));
    const job = await batch(id, ndjson(rows));
    assert.equal(job.body.accepted, 600);
    // Killed once some rows are enrolled (the rest in flight or waiting).
    const progressed = {
      body: await waitFor('the batch to start', async () => {
        const j = await call('GET', `/v1/enrollment-batches/${job.body.jobId}`);
        return j.body.processed > 0 ? j.body : undefined;
      }),
    };
    t.diagnostic(`rows processed when killed: ${progressed.body.processed} of 600`);
    await platform.stop('SIGKILL');
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    assert.equal(platform.apiKey, undefined, 'the second start creates no tenant');
    call = api(platform.url, key);
    const done = await finished(job.body.jobId);
    assert.deepEqual([done.enrolled, done.failed], [600, 0], `before the kill it had processed ${progressed.body.processed}`);
    await waitFor('600 enrollments', async () => ((await enrolledCount(id)) === 600 ? true : undefined), 120_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await enrolledCount(id), 600, 'no row enrolled twice');
  });
});
