/**
 * The console in a real browser (Debian's chromium, driven by playwright-core) against `codestep
 * dev` run as a real process: sign in (a wrong key first), a refused save shown on its field, a
 * draft that survives a reload, a two-action workflow (the second action's input picked from the
 * first's output), an enrollment seen in the live tail and completed in the history, its timeline,
 * a reload at a deep URL, an action tested from the editor (a failure marked at its line), a
 * failing action fixed and its enrollments re-run (one from its failed step, the rest in bulk), two
 * versions compared side by side, a rollback, disable and enable, an API key created and revoked, a
 * schedule trigger and its next fire times, a dry-run enrollment's marks, a JsWorkflows wait
 * and its resume, secrets. Screenshots of the main
 * views go to docs/console/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, freePort, root, startDev, stopDev } from './console-browser.testing.ts';

/** The README's screenshots are rewritten only when asked (`CODESTEP_SCREENSHOTS=docs/console`), so a test run leaves the tree clean. */
const SHOTS = process.env.CODESTEP_SCREENSHOTS ? join(root, process.env.CODESTEP_SCREENSHOTS) : join(tmpdir(), 'codestep-console-shots');

const FIRST = `exports.main = async (event, callback) => {
  const email = event.inputFields.email;
  console.log('greeting', email);
  callback({ outputFields: { greeting: 'hello ' + email } });
};`;
const SECOND = `exports.main = async (event) => {
  console.warn('second step got', event.inputFields.g);
  return { outputFields: { length: event.inputFields.g.length } };
};`;
/** The second action broken (version 2: it fails at line 4), then fixed (version 3). */
const BROKEN = `exports.main = async (event) => {
  console.warn('second step got', event.inputFields.g);
  const measured = null;
  return { outputFields: { length: measured.length } };
};`;
const FIXED = `exports.main = async (event) => {
  console.warn('second step (fixed) got', event.inputFields.g);
  return { outputFields: { length: event.inputFields.g.length } };
};`;
/** A JsWorkflows run that waits for its resume URL (a POST to it runs onApproved). */
const APPROVAL = `class Workflow {
  async start(data, headers, api) {
    const { resumeUrl } = await api.waitForEvent({ action: 'onApproved', payload: { orderId: data.id }, timeout: '1 day' });
    return { resumeUrl };
  }
  async onApproved(data, headers, api) {
    api.log('approved by', data.by);
  }
}`;
/** The operator's tracing UI (CODESTEP_TRACE_URL_TEMPLATE), served to the console by GET /v1/config. */
const OPERATOR_TRACES = 'http://jaeger.example:16686/trace/{traceId}';

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

/** Replaces the text of the code editor of `label` (CodeMirror, loaded on demand) with `code`. */
async function typeCode(page: Page, label: string, code: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: label });
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(code);
}

describe('the console in chromium', { skip: !existsSync(CHROMIUM) && `no chromium at ${CHROMIUM} (tools/scripts/ensure-packages.sh installs it)` }, () => {
  let dataDir: string;
  let dev: Awaited<ReturnType<typeof startDev>>;
  let fake: HubSpotFake;
  let otlpSink: Server | undefined;
  let devEnv: Record<string, string> = {};
  let browser: Browser;
  let page: Page;
  let workflowUrl = '';
  let enrollmentId = '';

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'console-e2e-'));
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    // The local HubSpot's OAuth app (its consent page approves at once) for the connection the console makes.
    // Traces are recorded only with an exporter (tracing is off at no cost without one): a sink
    // that takes the OTLP exports, so executions have the trace ids the console links to.
    otlpSink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
    await new Promise<void>((resolve) => otlpSink!.listen(0, '127.0.0.1', resolve));
    const sinkAddress = otlpSink.address() as { port: number };
    fake = await startHubSpotFake({ oauthClients: [{ clientId: 'codestep-app', clientSecret: 'app-secret', redirectUris: [`${publicUrl}/oauth/callback`] }] });
    devEnv = {
      CODESTEP_HTTP_PORT: String(port),
      CODESTEP_PUBLIC_URL: publicUrl,
      HUBSPOT_CLIENT_ID: 'codestep-app',
      HUBSPOT_CLIENT_SECRET: 'app-secret',
      HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
      HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
      HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
      CODESTEP_TRACE_URL_TEMPLATE: OPERATOR_TRACES,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${sinkAddress.port}/v1/traces`,
    };
    dev = await startDev(dataDir, devEnv);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    if (dev) await stopDev(dev.child);
    await fake?.close();
    await new Promise((resolve) => (otlpSink ? otlpSink.close(resolve) : resolve(undefined)));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a wrong key plainly, then signs in with the right one', async () => {
    await page.goto(dev.url + '/');
    await page.getByLabel('API key').fill('csk_not_a_real_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('unknown API key').waitFor();
    await shot(page, 'sign-in');
    await page.getByLabel('API key').fill(dev.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    await page.getByText('No workflows yet').waitFor();
    assert.equal(await page.getByText('Loading the codestep console').count(), 0, 'the static loading line is replaced');
  });

  it("shows the API's refusal on its field, and keeps a draft across a reload", async () => {
    await page.getByRole('link', { name: 'New workflow' }).click();
    await page.getByRole('heading', { name: 'New workflow' }).waitFor();
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page
      .locator('#wf-name-error')
      .getByText(/^name: (is required|must not be empty)/)
      .waitFor();
    assert.equal(await page.getByLabel('Name', { exact: true }).first().getAttribute('aria-invalid'), 'true');
    await page.locator('#wf-name').fill('Greet and measure');
    await page.reload();
    await page.getByText('Restored your unsaved draft.').waitFor();
    assert.equal(await page.locator('#wf-name').inputValue(), 'Greet and measure');
  });

  it("creates a two-action workflow, the second taking the first one's output", async () => {
    await page.locator('[data-editor-state=ready]').first().waitFor();
    await typeCode(page, 'Code of action 1', 'exports.main = async (event, callback) => {\n  callback({ outputFields: { x: 1 }) });\n};');
    const marker = page.locator('.editor').first().locator('.cm-lint-marker-error');
    await marker.waitFor();
    assert.equal(await marker.count(), 1, 'the syntax error is marked in the gutter at its line');
    await typeCode(page, 'Code of action 1', FIRST);
    await marker.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Add input field' }).first().click();
    await page.locator('#action-0-in-0-name').fill('email');
    await page.locator('#action-0-in-0-property').fill('email');
    await page.getByRole('button', { name: 'Add output field' }).first().click();
    await page.locator('#action-0-out-0-name').fill('greeting');
    await page.getByRole('button', { name: 'Add action' }).click();
    await page.locator('[data-editor-state=ready]').nth(1).waitFor();
    await typeCode(page, 'Code of action 2', SECOND);
    await page.getByRole('button', { name: 'Add input field' }).nth(1).click();
    await page.locator('#action-1-in-0-name').fill('g');
    await page.locator('#action-1-in-0-source').selectOption('fromAction');
    await page.locator('#action-1-in-0-output').selectOption({ label: 'action-1 → greeting' });
    await page.getByRole('button', { name: 'Add output field' }).nth(1).click();
    await page.locator('#action-1-out-0-name').fill('length');
    await page.locator('#action-1-out-0-type').selectOption('number');
    await page.locator('#wf-title').scrollIntoViewIfNeeded();
    await page.mouse.wheel(0, -100_000);
    await shot(page, 'workflow-editor');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByRole('heading', { name: 'Workflow Greet and measure' }).or(page.locator('.alert')).first().waitFor();
    assert.equal(await page.locator('.alert').count(), 0, `refused: ${await page.locator('.alert').allTextContents()}`);
    assert.match(page.url(), /\/workflows\/[^/]+$/);
    workflowUrl = page.url();
    assert.equal(await page.getByText('Restored your unsaved draft.').count(), 0, 'the draft is dropped once saved');
  });

  it('enrolls an object, sees it in the live tail, and completed in the history', async () => {
    // A second tab of the same browser: the key lives in each tab's sessionStorage, so it signs in too.
    const tail = await page.context().newPage();
    await tail.goto(`${dev.url}/tail?workflowId=${workflowUrl.split('/').pop()}`);
    await tail.getByLabel('API key').fill(dev.apiKey);
    await tail.getByRole('button', { name: 'Sign in' }).click();
    await tail.getByRole('heading', { name: 'Live tail of Greet and measure' }).waitFor();
    await tail.getByRole('status').getByText('Live').waitFor();
    await page.locator('#enroll-object-id').fill('101');
    await page.getByRole('button', { name: 'Enroll', exact: true }).click();
    const enrolled = page.getByRole('list', { name: 'Enrolled' }).getByRole('link').first();
    await enrolled.waitFor();
    enrollmentId = (await enrolled.textContent())!.trim();
    await tail.getByText('[warn] second step got hello ada@example.com').waitFor({ timeout: 60_000 });
    assert.ok((await tail.getByRole('link', { name: enrollmentId }).count()) > 0, 'the tail names the enrollment');
    await shot(tail, 'live-tail');
    await tail.close();
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('#history-workflow').selectOption({ label: 'Greet and measure' });
    for (let i = 0; i < 100 && (await page.locator('tbody .status.completed').count()) === 0; i++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(200);
    }
    await page.locator('tbody .status.completed').first().waitFor();
  });

  it("opens the enrollment's timeline: both steps, their outputs and logs; a reload at its URL works", async () => {
    await page.getByRole('link', { name: enrollmentId }).click();
    await page.getByRole('heading', { name: `Enrollment ${enrollmentId}` }).waitFor();
    const steps = page.getByRole('list', { name: 'Executions in order' }).locator(':scope > li');
    await steps.nth(1).waitFor();
    assert.equal(await steps.count(), 2);
    await page.getByText('"greeting": "hello ada@example.com"').waitFor();
    await page.getByText('"length": 21').waitFor();
    await page.getByText('[info] greeting ada@example.com').or(page.getByText('[log] greeting ada@example.com')).first().waitFor();
    const operatorTrace = page.locator('a[href^="http://jaeger.example:16686/trace/"]').first();
    await operatorTrace.waitFor();
    assert.match((await operatorTrace.getAttribute('href'))!, /^http:\/\/jaeger\.example:16686\/trace\/[0-9a-f]{32}$/, "the operator's template links the enrollment to its trace");
    await shot(page, 'enrollment-timeline');
    await page.reload();
    await page.getByRole('heading', { name: `Enrollment ${enrollmentId}` }).waitFor();
    await page.goto(workflowUrl);
    await page.getByRole('heading', { name: 'Workflow Greet and measure' }).waitFor();
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'Greet and measure' }).waitFor();
    await page.locator('tbody .status.completed').first().waitFor();
    await shot(page, 'workflows');
  });

  it('tests an action from the editor: its outputs and console lines, then a failure shown at its line', async () => {
    await page.goto(workflowUrl);
    await page.getByRole('heading', { name: 'Workflow Greet and measure' }).waitFor();
    const first = page.locator('section', { has: page.locator('#action-0-title') });
    await first.getByText('Test action action-1').click();
    assert.match(await page.locator('#action-0-test-event').inputValue(), /"email": "ada@example.com"/, "the sample event has the property the action's input reads");
    await first.getByRole('button', { name: 'Run test' }).click();
    const result = first.getByRole('status', { name: 'Test result of action-1' });
    await result.locator('.status.succeeded').waitFor({ timeout: 60_000 });
    await result.getByText('"greeting": "hello ada@example.com"').waitFor();
    await result.getByText(/\[(info|log)\] greeting ada@example.com/).waitFor();
    await result.getByText(/in \d+ ms/).waitFor();
    const second = page.locator('section', { has: page.locator('#action-1-title') });
    await second.getByText('Test action action-2').click();
    // No input g: the second action reads .length of undefined on its line 3.
    await page.locator('#action-1-test-event').fill('{ "object": { "objectType": "CONTACT", "objectId": "555", "properties": {} } }');
    await second.getByRole('button', { name: 'Run test' }).click();
    const failed = second.getByRole('status', { name: 'Test result of action-2' });
    await failed.locator('.status.failed').waitFor({ timeout: 60_000 });
    await failed
      .locator('.alert')
      .getByText(/^Line 3: TypeError/)
      .waitFor();
    await second.locator('.editor .cm-lint-marker-error').waitFor();
    await page.evaluate("document.getElementById('action-1-code-label').scrollIntoView()");
    await shot(page, 'test-panel');
  });

  it('fixes a failing action, re-runs a failed enrollment from its failed step, and retries the other failures in bulk', async () => {
    await page.goto(workflowUrl);
    await page.getByRole('heading', { name: 'Workflow Greet and measure' }).waitFor();
    await page.locator('[data-editor-state=ready]').nth(1).waitFor();
    await typeCode(page, 'Code of action 2', BROKEN);
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText('Saved: version 2.').waitFor();
    const failedIds: string[] = [];
    for (const objectId of ['102', '103', '104']) {
      await page.locator('#enroll-object-id').fill(objectId);
      await page.getByRole('button', { name: 'Enroll', exact: true }).click();
      const link = page.getByRole('list', { name: 'Enrolled' }).getByRole('link').first();
      await page.waitForFunction(`document.querySelectorAll('[aria-label="Enrolled"] li').length === ${failedIds.length + 1}`);
      failedIds.push((await link.textContent())!.trim());
    }
    // The history, filtered to the failures of object 102 in the last hour.
    await page.getByRole('link', { name: 'History', exact: true }).click();
    await page.locator('#history-workflow').selectOption({ label: 'Greet and measure' });
    await page.locator('#history-status').selectOption('failed');
    await page.getByRole('button', { name: 'Last hour' }).click();
    await page.locator('#history-object').fill('102');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/objectId=102/);
    assert.match(page.url(), /status=failed/, 'the filters are in the URL');
    assert.match(page.url(), /since=/);
    // Until its enrollment has failed (and the list of the earlier filters is replaced), read again.
    const row = page.getByRole('row').filter({ hasText: failedIds[0]! });
    const rows = page.locator('tbody tr');
    for (let i = 0; i < 100 && !((await row.count()) === 1 && (await rows.count()) === 1); i++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(300);
    }
    await row.waitFor();
    assert.equal(await rows.count(), 1, 'only object 102 matches');
    // Fix the action (version 3), then re-run 102 from its failed step on the latest version.
    await page.goto(workflowUrl);
    await page.locator('[data-editor-state=ready]').nth(1).waitFor();
    await typeCode(page, 'Code of action 2', FIXED);
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText('Saved: version 3.').waitFor();
    await page.goto(`${dev.url}/enrollments/${failedIds[0]}`);
    await page.getByRole('heading', { name: 'Re-run from the failed step' }).waitFor();
    await page
      .locator('.alert')
      .getByText(/Failed at action-2/)
      .waitFor();
    await page
      .locator('.timeline .alert')
      .getByText(/^Line 4: TypeError/)
      .waitFor();
    await shot(page, 'enrollment-retry');
    await page.getByRole('button', { name: 'Re-run from the failed step' }).click();
    await page.locator('p > .status.completed').waitFor({ timeout: 60_000 });
    await page.getByText('"length": 21').waitFor();
    const steps = page.getByRole('list', { name: 'Executions in order' }).locator(':scope > li');
    assert.ok((await steps.count()) >= 3, 'the failed attempt and the re-run are both in the timeline');
    // The two other failures, retried in bulk from the history, with their progress.
    await page.goto(`${dev.url}/history?workflowId=${encodeURIComponent(workflowUrl.split('/').pop()!)}&status=failed`);
    await page.getByRole('heading', { name: 'Retry the failures of Greet and measure' }).waitFor();
    await page.getByRole('button', { name: 'Retry failed enrollments' }).click();
    await page.getByRole('status').getByText('Done: 2 of 2').waitFor({ timeout: 90_000 });
    await page.getByText('2 completed', { exact: true }).waitFor();
    await shot(page, 'bulk-retry');
    await page.goto(`${dev.url}/history?workflowId=${encodeURIComponent(workflowUrl.split('/').pop()!)}`);
    await page.locator('tbody tr').nth(3).waitFor();
    await shot(page, 'history');
  });

  it('compares two versions side by side, rolls back to the first, and disables then enables the workflow', async () => {
    await page.goto(workflowUrl);
    await page.getByRole('link', { name: 'Versions' }).click();
    await page.getByRole('heading', { name: 'Versions of Greet and measure' }).waitFor();
    await page.getByRole('heading', { name: 'Version 2 → version 3' }).waitFor();
    const code = page.getByRole('table', { name: /Code of action-2: version 2 on the left, version 3 on the right/ });
    await code.locator('td.removed', { hasText: 'const measured = null;' }).waitFor();
    await code.locator('td.added', { hasText: "console.warn('second step (fixed) got'" }).waitFor();
    await page.getByRole('radio', { name: 'Compare from version 1' }).check();
    await page.getByRole('heading', { name: 'Version 1 → version 3' }).waitFor();
    assert.match(page.url(), /versions\?from=1&to=3$/, 'the compared versions are in the URL');
    await shot(page, 'versions');
    await page.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page.getByText('Rolled back: version 4 is a copy of version 1.').waitFor();
    await page.getByRole('row').filter({ hasText: 'rollback to 1' }).waitFor();
    await page.getByRole('heading', { name: 'Version 3 → version 4' }).waitFor();
    await page.locator('#status-reason').fill('paused for the demo');
    await page.getByRole('button', { name: 'Disable workflow' }).click();
    await page.locator('.status.disabled').first().waitFor();
    await page.goto(workflowUrl);
    await page.locator('#enroll-object-id').fill('105');
    await page.getByRole('button', { name: 'Enroll', exact: true }).click();
    await page
      .getByRole('alert')
      .getByText(/disabled/i)
      .waitFor();
    await page.getByRole('link', { name: 'Versions' }).click();
    await page.getByRole('button', { name: 'Enable workflow' }).click();
    await page.locator('.status.enabled').first().waitFor();
  });

  it('says so plainly when the server restarts under the open page, and carries on once it is back', async () => {
    await page.getByRole('link', { name: 'Live tail' }).click();
    await page.getByRole('status').getByText('Live').waitFor();
    await stopDev(dev.child);
    await page.getByRole('status').getByText('Disconnected, reconnecting…').waitFor();
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page
      .getByRole('alert')
      .getByText(/The server did not answer \(it may be restarting\)/)
      .waitFor();
    const key = dev.apiKey;
    dev = { ...(await startDev(dataDir, devEnv, true)), apiKey: key };
    await page.getByRole('link', { name: 'Live tail' }).click();
    await page.getByRole('status').getByText('Live').waitFor({ timeout: 30_000 });
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'Greet and measure' }).waitFor();
  });

  it("refuses limits above the operator's bound with the API's message, and links executions to their traces", async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.locator('#limit-maxTimeoutMs').fill('99999999');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page
      .getByRole('alert')
      .getByText(/maxTimeoutMs: 99999999 ms is above the operator's bound/)
      .waitFor();
    await page.locator('#limit-maxTimeoutMs').fill('30000');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('Limits saved.').waitFor();
    await page.locator('#trace-template').fill('http://localhost:16686/trace/{traceId}');
    await page.getByRole('button', { name: 'Save template' }).click();
    await shot(page, 'settings');
    await page.goto(`${dev.url}/enrollments/${enrollmentId}`);
    const trace = page.locator('a[href^="http://localhost:16686/trace/"]').first();
    await trace.waitFor();
    assert.match((await trace.getAttribute('href'))!, /^http:\/\/localhost:16686\/trace\/[0-9a-f]{32}$/);
  });

  it('connects HubSpot through the OAuth pop-up against the local HubSpot, then revokes it', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.locator('#conn-handle').fill('my-hubspot');
    await page.getByRole('checkbox').first().check();
    await shot(page, 'connections');
    await page.getByRole('button', { name: /^Connect/ }).click();
    const row = page.getByRole('row').filter({ hasText: 'my-hubspot' });
    await row.locator('.status.active').waitFor({ timeout: 60_000 });
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Revoke my-hubspot' }).click();
    await row.locator('.status.revoked').waitFor({ timeout: 30_000 });
  });

  it('creates an API key (its value shown once, and working), then revokes it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.locator('tbody .status.active').first().waitFor();
    await page.getByRole('row').filter({ hasText: "this console's key" }).locator('.status.active').waitFor();
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page
      .locator('#key-name-error')
      .getByText(/^name is required/)
      .waitFor();
    assert.equal(await page.locator('#key-name').getAttribute('aria-invalid'), 'true');
    await page.locator('#key-name').fill('ci deploys');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByRole('heading', { name: 'New API key "ci deploys"' }).waitFor();
    await page.getByText('Shown once:').waitFor();
    const value = await page.getByLabel('Value of the new API key').inputValue();
    assert.ok(value.length >= 20, `the new key's value is shown (${value.length} characters)`);
    const row = page.getByRole('row').filter({ hasText: 'ci deploys' });
    await row.locator('.status.active').waitFor();
    const prefix = (await row.locator('code').textContent())!.replace(/…$/, '');
    assert.ok(prefix.length > 0 && value.startsWith(prefix), 'the list shows the first characters of the key, not the key');
    assert.equal(await page.locator('tbody').getByText(value).count(), 0, 'the list never shows the value');
    assert.equal(await row.getByText("this console's key").count(), 0, 'only the key this console signed in with is marked');
    const asNewKey = () => fetch(`${dev.url}/v1/workflows`, { headers: { authorization: `Bearer ${value}` } }).then((r) => r.status);
    assert.equal(await asNewKey(), 200, 'the new key signs in to the API');
    await shot(page, 'api-keys');
    await page.getByRole('button', { name: 'I have kept it' }).click();
    assert.equal(await page.getByLabel('Value of the new API key').count(), 0, 'the value is gone once dismissed');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Revoke API key ci deploys' }).click();
    await row.locator('.status.revoked').waitFor();
    await page.getByText('Revoked ci deploys.').waitFor();
    assert.equal(await asNewKey(), 401, 'the revoked key is refused');
  });

  it("sets a schedule trigger (the API's refusal on its field first) and shows the next 5 fire times", async () => {
    await page.goto(workflowUrl);
    await page.getByRole('heading', { name: 'Workflow Greet and measure' }).waitFor();
    await page.getByText('The saved version has no schedule.').waitFor();
    await page.locator('#trigger-kind').selectOption('cron');
    await page.locator('#trigger-cron').fill('0 9 * *');
    await page.locator('#trigger-timezone').fill('Europe/Paris');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page
      .locator('#trigger-cron-error')
      .getByText(/^trigger\.cron: has 4 fields/)
      .waitFor();
    assert.equal(await page.locator('#trigger-cron').getAttribute('aria-invalid'), 'true');
    await page.locator('#trigger-cron').fill('0 9 * * MON-FRI');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText(/^Saved: version \d+\.$/).waitFor();
    await page.getByRole('heading', { name: 'Saved schedule: armed' }).waitFor();
    const times = page.getByRole('list', { name: 'Saved schedule: armed' }).locator('time');
    await times.nth(4).waitFor();
    assert.equal(await times.count(), 5);
    for (const t of await times.evaluateAll((els) => els.map((e) => e.getAttribute('datetime')!))) {
      // 09:00 in Paris in winter is 08:00 UTC, on a weekday.
      assert.match(t, /T08:00:00\.000Z$/);
      assert.ok(![0, 6].includes(new Date(t).getUTCDay()), `${t} is a weekday`);
    }
    await page.locator('#trigger-kind').scrollIntoViewIfNeeded();
    await shot(page, 'schedule-trigger');
    await page.reload();
    await page.getByRole('heading', { name: 'Saved schedule: armed' }).waitFor();
    assert.equal(await page.locator('#trigger-cron').inputValue(), '0 9 * * MON-FRI', 'the saved trigger comes back in the form');
    await page.locator('#trigger-kind').selectOption('none');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText('The saved version has no schedule.').waitFor();
  });

  it("enrolls an object as a dry run, marked so in its timeline with each step's write ledger", async () => {
    await page.goto(workflowUrl);
    await page.getByRole('heading', { name: 'Workflow Greet and measure' }).waitFor();
    await page.locator('#enroll-object-id').fill('106');
    await page.getByRole('checkbox', { name: /Dry run/ }).check();
    await page.getByRole('button', { name: 'Enroll', exact: true }).click();
    await page.getByRole('list', { name: 'Enrolled' }).getByRole('link').first().click();
    await page.locator('p > .status.completed').waitFor({ timeout: 60_000 });
    await page.getByText('dry run (writes held back)').waitFor();
    const steps = page.getByRole('list', { name: 'Executions in order' }).locator(':scope > li');
    assert.equal(await steps.count(), 2);
    assert.equal(await page.locator('.timeline h3 .dry-run').count(), 2, 'each execution is marked a dry run');
    assert.equal(await page.getByRole('heading', { name: 'Write ledger (no writes)' }).count(), 2, "each step's ledger is shown (these actions write nothing)");
  });

  it("shows a JsWorkflows run's wait in its run tree: waiting with its timeout, then resumed by a POST to its resume URL", async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(dev.url + path, {
        method,
        headers: { authorization: `Bearer ${dev.apiKey}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const wf = await call('POST', '/v1/workflows', { name: 'Approval', objectType: 'WEBHOOK', actions: [{ id: 'flow', runtime: 'jsworkflows', code: APPROVAL }] });
    const hook = (await call('POST', `/v1/workflows/${String(wf.id)}/webhook`)).path as string;
    const started = await fetch(dev.url + hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 42 }) });
    assert.equal(started.status, 200);
    const waitingId = started.headers.get('x-codestep-enrollment-id')!;
    const { resumeUrl } = (await started.json()) as { resumeUrl: string };
    await page.goto(`${dev.url}/enrollments/${waitingId}`);
    const wait = page.getByRole('note', { name: 'Wait' });
    await wait.getByText('Waiting for its resume URL').waitFor({ timeout: 30_000 });
    assert.match((await wait.textContent())!, /times out /);
    await page.getByRole('heading', { name: 'Run tree' }).waitFor();
    await page.getByRole('list', { name: 'Scheduled by start' }).locator('.run-node[data-step=onApproved] .status.waiting').waitFor();
    await shot(page, 'enrollment-wait');
    const resumed = await fetch(resumeUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'ada' }) });
    assert.equal(resumed.status, 200);
    await page.locator('p > .status.completed').waitFor({ timeout: 60_000 });
    await wait.getByText('Resumed').waitFor();
    assert.match((await wait.textContent())!, /resumed by a POST to its resume URL/);
    await page.getByRole('button', { name: 'Details of onApproved' }).click();
    await page.getByText('[info] approved by ada').or(page.getByText('[log] approved by ada')).first().waitFor();
  });

  it('sets a secret (its value never shown back) and signs out', async () => {
    await page.getByRole('link', { name: 'Secrets' }).click();
    await page.locator('#secret-name').fill('CRM_TOKEN');
    await page.locator('#secret-value').fill('s3cret-value');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByRole('cell', { name: 'CRM_TOKEN', exact: true }).waitFor();
    assert.equal(await page.getByText('s3cret-value').count(), 0);
    await shot(page, 'secrets');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to codestep' }).waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('codestep.apiKey')"), null, 'sign-out forgets the key');
  });

  it('sends a session whose key the API no longer accepts back to sign-in, saying why', async () => {
    await page.evaluate("sessionStorage.setItem('codestep.apiKey', 'csk_revoked_or_expired')");
    await page.goto(`${dev.url}/history`);
    await page
      .getByRole('status')
      .getByText(/The API refused this key/)
      .waitFor();
    await page.getByRole('heading', { name: 'Sign in to codestep' }).waitFor();
  });
});
