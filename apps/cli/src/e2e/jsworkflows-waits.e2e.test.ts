/**
 * JsWorkflows waits end to end (embedded mode, `codestep dev`): the documented approval pattern
 * (start asks for approval with `api.waitForEvent` and answers the HTTP trigger with the resume
 * URL; a POST to it resumes the run, the final step sees the payload merged with what was
 * posted), a GET from a browser (redirected, or shown a confirmation page), a wait that times out
 * (its branch ends as timed out, the URL answers 410), a URL used twice (409), and the waits
 * rebuilt from the log by `codestep replay --verify`. The platform listens on a port chosen here
 * so the resume URLs it hands out are the ones the test calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, differing, replayVerified, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const APPROVAL = `class Workflow {
  async start(data, headers, api) {
    const { resumeUrl } = await api.waitForEvent({ action: 'onApproved', payload: { orderId: data.id, approved: false, by: null }, timeout: '1 day' });
    api.log('approval requested for order', data.id);
    return { resumeUrl };
  }
  async onApproved(data, headers, api) {
    api.log('approved by', data.by);
    return { orderId: data.orderId, approved: data.approved, by: data.by };
  }
}`;

const BROWSER = `class Workflow {
  async start(data, headers, api) {
    const a = await api.waitForEvent({ action: 'chosen', payload: { which: 'a' }, redirect_url: 'https://shop.example.com/thanks' });
    const b = await api.waitForEvent({ action: 'chosen', payload: { which: 'b' } });
    return { a: a.resumeUrl, b: b.resumeUrl };
  }
  async chosen(data) {
    return data;
  }
}`;

const TIMEOUT = `class Workflow {
  async start(data, headers, api) {
    const { resumeUrl } = await api.waitForEvent({ action: 'never', payload: {}, timeout: 2 });
    await api.scheduleNextStep({ delay: 0, action: 'other' });
    return { resumeUrl };
  }
  async never() {}
  async other() { return { ran: true }; }
}`;

const RESTART = `class Workflow {
  async start(data, headers, api) {
    const long = await api.waitForEvent({ action: 'resumed', payload: { which: 'long' }, timeout: '1 day' });
    const short = await api.waitForEvent({ action: 'resumed', payload: { which: 'short' }, timeout: 3 });
    return { long: long.resumeUrl, short: short.resumeUrl };
  }
  async resumed(data) { return data; }
}`;

type Call = ReturnType<typeof api>;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('JsWorkflows api.waitForEvent (embedded)', () => {
  let platform: PlatformProcess;
  let call: Call;
  let apiKey: string | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'codestep-jsw-waits-'));
  const env: Record<string, string> = { CODESTEP_DATA_DIR: dataDir, CODESTEP_STEP_MIN_DELAY_MS: '0' };

  before(async () => {
    env.CODESTEP_HTTP_PORT = String(await freePort());
    platform = await startPlatform(env);
    apiKey = platform.apiKey;
    call = api(platform.url, apiKey);
  });

  after(async () => {
    await platform?.stop();
  });

  /** The workflow's webhook URL. */
  async function hookOf(name: string, code: string): Promise<string> {
    const wf = await call('POST', '/v1/workflows', { name, objectType: 'WEBHOOK', actions: [{ id: 'flow', runtime: 'jsworkflows', code }] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    return platform.url + (await call('POST', `/v1/workflows/${wf.body.id}/webhook`)).body.path;
  }

  async function trigger(hook: string, body: unknown): Promise<{ enrollmentId: string; answer: any }> {
    const res = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    return { enrollmentId: res.headers.get('x-codestep-enrollment-id')!, answer: await res.json() };
  }

  const enrollment = async (id: string) => (await call('GET', `/v1/enrollments/${id}`)).body;
  const finished = (id: string) =>
    waitFor(`enrollment ${id} to finish`, async () => {
      const e = await enrollment(id);
      return e.status && e.status !== 'running' ? e : undefined;
    });
  const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('approval: start hands out the resume URL, a POST to it resumes the run once, and the final step sees the payload merged with the posted JSON', async () => {
    const { enrollmentId, answer } = await trigger(await hookOf('approval', APPROVAL), { id: 42 });
    assert.match(answer.resumeUrl, new RegExp(`^${platform.url}/resume/rt_[A-Za-z0-9_-]{32}$`));

    const waiting = await enrollment(enrollmentId);
    assert.equal(waiting.status, 'running', 'the run stays open while it waits');

    const resumed = await post(answer.resumeUrl, { approved: true, by: 'ada' });
    assert.equal(resumed.status, 200);
    const body = (await resumed.json()) as any;
    assert.deepEqual([body.success, body.status, body.enrollmentId, body.action], [true, 'resumed', enrollmentId, 'onApproved']);

    const done = await finished(enrollmentId);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    const [start, approved] = done.executions;
    assert.deepEqual(
      done.executions.map((x: any) => x.workflowStep.name),
      ['start', 'onApproved'],
    );
    assert.deepEqual(approved.returnValue, { orderId: 42, approved: true, by: 'ada' });
    assert.equal(approved.workflowStep.scheduledBy, start.id);
    assert.equal(approved.wait.state, 'resumed');
    assert.equal(approved.wait.resumedBy, 'POST');
    const logs = (await call('GET', `/v1/executions/${approved.id}`)).body.logs.map((l: any) => l.message);
    assert.deepEqual(logs, ['approved by ada']);

    // Single use: the same URL again is refused, as JSON for a POST or a program's GET and as a page for a browser.
    const again = await post(answer.resumeUrl, { approved: false });
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as any).error.code, 'WAIT_ALREADY_RESUMED');
    const page = await fetch(answer.resumeUrl, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(page.status, 409);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /already used/);
    // A GET from a program (no text/html in Accept): the catalogue's JSON error.
    const plain = await fetch(answer.resumeUrl, { headers: { accept: 'application/json' } });
    assert.equal(plain.status, 409);
    assert.equal(((await plain.json()) as any).error.code, 'WAIT_ALREADY_RESUMED');
    assert.equal((await enrollment(enrollmentId)).executions.length, 2, 'nothing ran twice');
  });

  it("a browser GET resumes with the query parameters (a chat app's link preview does not), then goes to redirect_url or sees a confirmation page; the run completes when both waits have", async () => {
    const { enrollmentId, answer } = await trigger(await hookOf('browser', BROWSER), {});
    // Slack unfurls the links posted in it: that fetch resumes nothing.
    const preview = await fetch(`${answer.a}?choice=bot`, { headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' } });
    assert.equal(preview.status, 200);
    assert.match(await preview.text(), /Open this link in a browser/);
    const redirected = await fetch(`${answer.a}?choice=yes`, { redirect: 'manual' });
    assert.equal(redirected.status, 302);
    assert.equal(redirected.headers.get('location'), 'https://shop.example.com/thanks');
    await waitFor('the first chosen step', async () => ((await enrollment(enrollmentId)).executions.some((x: any) => x.status === 'succeeded' && x.workflowStep.name === 'chosen') ? true : undefined));
    assert.equal((await enrollment(enrollmentId)).status, 'running', 'the other wait is still open');

    const confirmed = await fetch(`${answer.b}?choice=no`);
    assert.equal(confirmed.status, 200);
    assert.match(await confirmed.text(), /Your response was received/);

    const done = await finished(enrollmentId);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    const chosen = done.executions.filter((x: any) => x.workflowStep.name === 'chosen');
    assert.deepEqual(
      chosen.map((x: any) => x.returnValue).sort((p: any, q: any) => p.which.localeCompare(q.which)),
      [
        { which: 'a', choice: 'yes' },
        { which: 'b', choice: 'no' },
      ],
    );
    assert.deepEqual(
      chosen.map((x: any) => [x.wait.state, x.wait.resumedBy]),
      [
        ['resumed', 'GET'],
        ['resumed', 'GET'],
      ],
    );
  });

  it('ends a wait whose timeout came as timed out (in the history, its step never run), the run completing with its other branch; its URL then answers 410', async () => {
    const { enrollmentId, answer } = await trigger(await hookOf('timeout', TIMEOUT), {});
    const done = await finished(enrollmentId);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    const never = done.executions.find((x: any) => x.workflowStep.name === 'never');
    assert.equal(never.status, 'timed_out');
    assert.equal(never.wait.state, 'timed_out');
    assert.ok(Date.parse(never.wait.endedAt) >= Date.parse(never.wait.timeoutAt));
    assert.equal(never.requestedAt, null, 'the step never ran');
    assert.deepEqual(done.executions.find((x: any) => x.workflowStep.name === 'other').returnValue, { ran: true });

    const late = await post(answer.resumeUrl, { late: true });
    assert.equal(late.status, 410);
    const error = ((await late.json()) as any).error;
    assert.equal(error.code, 'WAIT_EXPIRED');
    assert.match(error.message, /timed out at/);
  });

  it('refuses an unknown resume URL with 404, and a body that is not a JSON object with 400', async () => {
    const unknown = await post(`${platform.url}/resume/rt_${'A'.repeat(32)}`, {});
    assert.equal(unknown.status, 404);
    const { answer } = await trigger(await hookOf('bad body', APPROVAL), { id: 1 });
    const array = await post(answer.resumeUrl, [1, 2]);
    assert.equal(array.status, 400);
    assert.match(((await array.json()) as any).error.message, /must be a JSON object/);
  });

  it('keeps waiting across a restart: a timeout due while the platform was stopped fires after it starts, and the other wait resumes then', async () => {
    const { enrollmentId, answer } = await trigger(await hookOf('restart', RESTART), {});
    assert.equal(await platform.stop(), 0);
    await new Promise((r) => setTimeout(r, 3500));
    platform = await startPlatform(env);
    // The restarted platform prints no API key: the first one stays valid.
    call = api(platform.url, apiKey);
    await waitFor('the short wait to time out', async () => ((await enrollment(enrollmentId)).executions?.some((x: any) => x.wait?.state === 'timed_out') ? true : undefined));
    assert.equal((await post(answer.long, { at: 'after restart' })).status, 200);
    const done = await finished(enrollmentId);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.deepEqual(
      done.executions
        .filter((x: any) => x.wait)
        .map((x: any) => [x.wait.state, x.returnValue ?? null])
        .sort((a: any[], b: any[]) => String(a[0]).localeCompare(String(b[0]))),
      [
        ['resumed', { which: 'long', at: 'after restart' }],
        ['timed_out', null],
      ],
    );
  });

  it('rebuilds the waits, timers, run states and history from the log, equal to the live ones (codestep replay --verify)', async () => {
    const report = await replayVerified(env);
    assert.equal(report.equal, true, differing(report));
    assert.equal(await platform.stop(), 0);
    assert.ok(report.collections['enrollment/workflow_waits']!.live >= 5);
  });
});
