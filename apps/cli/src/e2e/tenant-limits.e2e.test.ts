/**
 * Execution limits per tenant, end to end over the public API of the embedded platform run as a
 * real process: a tenant's default applies to its actions only, settings outside the operator's
 * bounds are refused, workflows asking for more than the tenant's ceiling are refused, the
 * settings survive a restart, and a bad operator configuration stops the start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const main = join(dirname(fileURLToPath(import.meta.url)), '../main.ts');
const SLOW = `exports.main = async () => { await new Promise((r) => setTimeout(r, 1000)); return { outputFields: { done: true } }; };`;
const workflow = (extra: Record<string, unknown> = {}) => ({ name: 'slow', actions: [{ id: 'slow', code: SLOW, outputFields: [{ name: 'done', type: 'boolean' }], ...extra }] });

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('execution limits per tenant, end to end', () => {
  let dataDir: string;
  let platform: PlatformProcess;
  let tight: ReturnType<typeof api>;
  let roomy: ReturnType<typeof api>;
  let tightKey: string;

  const finished = (call: ReturnType<typeof api>, id: string) =>
    waitFor(`enrollment ${id} to finish`, async () => {
      const r = await call('GET', `/v1/enrollments/${id}`);
      return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
    });

  const enrollSlow = async (call: ReturnType<typeof api>, workflowId: string, objectId: string) => {
    const r = await call('POST', `/v1/workflows/${workflowId}/enrollments`, { object: { objectType: 'CONTACT', objectId } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return finished(call, r.body.id);
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'codestep-limits-'));
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    tightKey = platform.apiKey!;
    tight = api(platform.url, tightKey);
    // A second tenant, created by the operator while the platform runs.
    const created = await cli(['tenants', 'create', 'roomy', '--json'], { CODESTEP_DATA_DIR: dataDir });
    assert.equal(created.code, 0, created.stderr);
    roomy = api(platform.url, (JSON.parse(created.stdout) as { apiKey: string }).apiKey);
  });

  after(async () => {
    await platform?.stop();
  });

  it("given a tenant with a 300 ms default, its action fails with TIMEOUT naming 300 ms while another tenant's same action succeeds", async () => {
    const set = await tight('PUT', '/v1/tenant/limits', { defaultTimeoutMs: 300 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.defaultTimeoutMs, 300);
    assert.deepEqual(set.body.effective, { defaultTimeoutMs: 300, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 });
    assert.equal((await roomy('GET', '/v1/tenant/limits')).body.effective.defaultTimeoutMs, 20_000, 'the other tenant keeps the operator default');

    const [wfTight, wfRoomy] = await Promise.all([tight('POST', '/v1/workflows', workflow()), roomy('POST', '/v1/workflows', workflow())]);
    assert.equal(wfTight.status, 201, JSON.stringify(wfTight.body));
    assert.equal(wfRoomy.status, 201, JSON.stringify(wfRoomy.body));
    const [a, b] = await Promise.all([enrollSlow(tight, wfTight.body.id, '1'), enrollSlow(roomy, wfRoomy.body.id, '1')]);

    assert.equal(a.status, 'failed');
    assert.equal(a.executions[0].error.code, 'TIMEOUT');
    assert.match(a.executions[0].error.message, /time limit of 300 ms/);
    assert.equal(b.status, 'completed', JSON.stringify(b));
    assert.deepEqual(b.executions[0].outputFields, { done: true });
  });

  it('refuses settings outside the operator bounds with a 400 naming the field and the bound, and keeps the old ones', async () => {
    const tooLong = await tight('PUT', '/v1/tenant/limits', { defaultTimeoutMs: 300, maxTimeoutMs: 120_000 });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.code, 'INVALID_ARGUMENT');
    assert.equal(tooLong.body.error.message, "maxTimeoutMs: 120000 ms is above the operator's bound of 60000 ms; set at most 60000");
    const tooBig = await tight('PUT', '/v1/tenant/limits', { defaultMemoryMb: 8192 });
    assert.equal(tooBig.status, 400);
    assert.match(tooBig.body.error.message, /defaultMemoryMb: 8192 MB is above the operator's bound of 512 MB/);
    const unknown = await tight('PUT', '/v1/tenant/limits', { timeout: 300 });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /timeout: unknown field/);
    assert.equal((await tight('GET', '/v1/tenant/limits')).body.defaultTimeoutMs, 300);
  });

  it("refuses a workflow whose action asks for more than the tenant's ceiling, naming the field and the ceiling", async () => {
    const set = await tight('PUT', '/v1/tenant/limits', { defaultTimeoutMs: 300, maxTimeoutMs: 5_000 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const refused = await tight('POST', '/v1/workflows', workflow({ timeoutMs: 6_000 }));
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /^actions\[0\]\.timeoutMs: 6000 ms is above the limit of 5000 ms \(this tenant's ceiling maxTimeoutMs/);
    // The other tenant has no ceiling of its own: the operator's bound applies.
    const fine = await roomy('POST', '/v1/workflows', workflow({ timeoutMs: 6_000 }));
    assert.equal(fine.status, 201, JSON.stringify(fine.body));
    // Within the ceiling, the action's own limit wins over the tenant's 300 ms default.
    const own = await tight('POST', '/v1/workflows', workflow({ timeoutMs: 5_000 }));
    assert.equal(own.status, 201, JSON.stringify(own.body));
    const done = await enrollSlow(tight, own.body.id, '2');
    assert.equal(done.status, 'completed', JSON.stringify(done));
  });

  it("keeps a tenant's limits across a restart", async () => {
    await platform.stop();
    platform = await startPlatform({ CODESTEP_DATA_DIR: dataDir });
    tight = api(platform.url, tightKey);
    const got = await tight('GET', '/v1/tenant/limits');
    assert.equal(got.status, 200);
    assert.equal(got.body.defaultTimeoutMs, 300);
    assert.equal(got.body.maxTimeoutMs, 5_000);
    const wf = await tight('POST', '/v1/workflows', workflow());
    const done = await enrollSlow(tight, wf.body.id, '3');
    assert.equal(done.executions[0].error?.code, 'TIMEOUT');
  });

  it('refuses to start with operator defaults above the operator bounds, naming the variables', async () => {
    await assert.rejects(
      startPlatform({ CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-limits-bad-')), CODESTEP_ACTION_TIMEOUT_MS: '90000' }),
      /CODESTEP_ACTION_TIMEOUT_MS=90000 is above CODESTEP_ACTION_MAX_TIMEOUT_MS=60000/,
    );
    const refused = await cli(['tenants', 'create', 'x', '--max-memory-mb', '9999'], { CODESTEP_DATA_DIR: dataDir });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /maxMemoryMb: 9999 MB is above the operator's bound of 512 MB/);
  });
});
