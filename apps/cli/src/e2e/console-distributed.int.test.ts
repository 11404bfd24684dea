/**
 * The web console in Debian's chromium against the platform in distributed mode: every app its own
 * process over infra/local's Kafka and FerretDB (as distributed.int.test.ts starts them), the
 * console served by the gateway. Signs in with the gateway's first API key, creates a key in the
 * API keys view and signs in again with it, creates a workflow in the editor (its code typed in
 * CodeMirror), tests its action from the editor, enrolls an object, and finds the run completed in
 * the history with its timeline.
 * Needs KAFKA_BROKERS and MONGODB_URI (`eval "$(bash infra/local/up.sh)"`) and /usr/bin/chromium.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dropNamespaceDatabases, startDistributedPlatform, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
const CHROMIUM = process.env.CODESTEP_CHROMIUM ?? '/usr/bin/chromium';

const GREET = `exports.main = async (event, callback) => {
  const email = event.inputFields.email;
  console.log('greeting', email);
  callback({ outputFields: { greeting: 'hello ' + email } });
};`;

const skip =
  !brokers || !mongoUri
    ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)'
    : !existsSync(CHROMIUM)
      ? `no chromium at ${CHROMIUM} (tools/scripts/ensure-packages.sh installs it)`
      : false;

describe('the console against the distributed platform, in chromium', { skip }, () => {
  let platform: DistributedPlatform;
  let browser: Browser;
  let page: Page;
  let workflowUrl = '';
  let enrollmentId = '';
  const database = `codestep_console_${randomBytes(4).toString('hex')}`;

  before(async () => {
    platform = await startDistributedPlatform({ brokers: brokers!, mongoUri: mongoUri!, namespace: database, executors: 1 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1366, height: 800 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    await platform?.stop();
    if (mongoUri) await dropNamespaceDatabases(mongoUri, database);
  });

  it("signs in with the gateway's API key, creates another key in the console, and signs in with that one", async () => {
    await page.goto(platform.url + '/');
    await page.getByLabel('API key').fill('csk_not_a_real_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('unknown API key').waitFor();
    await page.getByLabel('API key').fill(platform.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.locator('#key-name').fill('console e2e');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const key = await page.getByLabel('Value of the new API key').inputValue();
    assert.match(key, /^csk_/);
    await page.getByRole('button', { name: 'I have kept it' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to codestep' }).waitFor();
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back on the page it signed out from, signed in with the key it lists as its own.
    await page.getByRole('heading', { name: 'API keys' }).or(page.getByRole('alert')).first().waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, `the new key was refused: ${(await page.getByRole('alert').allTextContents()).join(' | ')}`);
    await page.getByRole('row', { name: /console e2e \(this console's key\)/ }).waitFor();
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByText('No workflows yet').waitFor();
  });

  it('creates a workflow in the editor, its code typed in CodeMirror', async () => {
    await page.getByRole('link', { name: 'New workflow' }).click();
    await page.locator('#wf-name').fill('Greet (distributed)');
    await page.locator('[data-editor-state=ready]').first().waitFor();
    const editor = page.getByRole('textbox', { name: 'Code of action 1' });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(GREET);
    await page.getByRole('button', { name: 'Add input field' }).first().click();
    await page.locator('#action-0-in-0-name').fill('email');
    await page.locator('#action-0-in-0-property').fill('email');
    await page.getByRole('button', { name: 'Add output field' }).first().click();
    await page.locator('#action-0-out-0-name').fill('greeting');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByRole('heading', { name: 'Workflow Greet (distributed)' }).or(page.locator('.alert')).first().waitFor();
    assert.equal(await page.locator('.alert').count(), 0, `refused: ${(await page.locator('.alert').allTextContents()).join(' | ')}`);
    assert.match(page.url(), /\/workflows\/[^/]+$/);
    workflowUrl = page.url();
  });

  it('tests the action from the editor: its outputs and console lines, run by an executor process', async () => {
    const action = page.locator('section', { has: page.locator('#action-0-title') });
    await action.getByText('Test action action-1').click();
    await page.locator('#action-0-test-event').fill('{ "object": { "objectType": "CONTACT", "objectId": "9", "properties": { "email": "grace@example.com" } } }');
    await action.getByRole('button', { name: 'Run test' }).click();
    const result = action.getByRole('status', { name: 'Test result of action-1' });
    await result.locator('.status.succeeded').waitFor({ timeout: 120_000 });
    await result.getByText('"greeting": "hello grace@example.com"').waitFor();
    await result.getByText(/\[(info|log)\] greeting grace@example.com/).waitFor();
  });

  it('enrolls an object and finds the run completed in the history, with its timeline', async () => {
    await page.goto(workflowUrl);
    await page.getByRole('heading', { name: 'Workflow Greet (distributed)' }).waitFor();
    await page.locator('#enroll-object-id').fill('42');
    await page.locator('#enroll-properties').fill('{ "email": "ada@example.com" }');
    await page.getByRole('button', { name: 'Enroll', exact: true }).click();
    const enrolled = page.getByRole('list', { name: 'Enrolled' }).getByRole('link').first();
    await enrolled.waitFor();
    enrollmentId = (await enrolled.textContent())!.trim();
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('#history-workflow').selectOption({ label: 'Greet (distributed)' });
    // The history is a projection of the log, in another process: it catches up.
    for (let i = 0; i < 300 && (await page.locator('tbody .status.completed').count()) === 0; i++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(300);
    }
    await page.locator('tbody .status.completed').first().waitFor();
    await page.getByRole('link', { name: enrollmentId }).click();
    await page.getByRole('heading', { name: `Enrollment ${enrollmentId}` }).waitFor();
    await page.getByText('"greeting": "hello ada@example.com"').waitFor();
    await page.getByText(/\[(info|log)\] greeting ada@example\.com/).waitFor();
  });
});
