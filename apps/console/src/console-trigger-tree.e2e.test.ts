/**
 * The console in Debian's chromium against `codestep dev`: a workflow's HubSpot event trigger set
 * in the editor (the API's refusals on their fields first, a draft across a reload, then saved,
 * shown again after a reload and removed), a refusal on its field in the run panel (the views'
 * shared field component), and a JsWorkflows run with branches shown as a tree (steps under the
 * step that scheduled them, statuses and durations, branches collapsed and expanded, a step's
 * details, the flat timeline on demand). Screenshots go to docs/console/ when
 * CODESTEP_SCREENSHOTS says so.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { apiCaller, CHROMIUM, root, startDev, stopDev } from './console-browser.testing.ts';

const SHOTS = process.env.CODESTEP_SCREENSHOTS ? join(root, process.env.CODESTEP_SCREENSHOTS) : join(tmpdir(), 'codestep-console-shots');

/** start fans out to charge and notify; charge schedules receipt: a tree of four steps, two levels deep. */
const BRANCHES = `class Workflow {
  async start(data, headers, api) {
    await api.scheduleNextStep({ delay: 0, action: 'charge', payload: { amount: 12 } });
    await api.scheduleNextStep({ delay: 0, action: 'notify', payload: {} });
  }
  async charge(data, headers, api) {
    api.log('charged', data.amount);
    await api.scheduleNextStep({ delay: 0, action: 'receipt', payload: { amount: data.amount } });
  }
  async notify(data, headers, api) {
    api.log('notified');
  }
  async receipt(data, headers, api) {
    api.log('receipt sent for', data.amount);
  }
}`;

describe('the console in chromium: HubSpot triggers and run trees', { skip: !existsSync(CHROMIUM) && `no chromium at ${CHROMIUM} (tools/scripts/ensure-packages.sh installs it)` }, () => {
  let dataDir: string;
  let dev: Awaited<ReturnType<typeof startDev>>;
  let browser: Browser;
  let page: Page;
  let call: ReturnType<typeof apiCaller>;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'console-tree-e2e-'));
    dev = await startDev(dataDir, { CODESTEP_STEP_MIN_DELAY_MS: '0' });
    call = apiCaller(dev.url, dev.apiKey);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1366, height: 800 } })).newPage();
    await page.goto(dev.url + '/');
    await page.getByLabel('API key').fill(dev.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
  });
  after(async () => {
    await browser?.close();
    if (dev) await stopDev(dev.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("sets a workflow's HubSpot event trigger: refusals on their fields, a draft across a reload, then saved, shown again, and removed", async () => {
    const wf = await call('POST', '/v1/workflows', {
      name: 'New leads',
      objectType: 'CONTACT',
      actions: [{ id: 'tag', runtime: 'hubspot', code: 'exports.main = async () => ({ outputFields: {} });' }],
    });
    const id = String(wf.id);
    await page.goto(`${dev.url}/workflows/${id}`);
    const section = page.getByRole('form', { name: 'HubSpot event trigger' });
    await section.getByText('No HubSpot trigger saved.').waitFor();
    await section.getByRole('checkbox', { name: 'Enroll on a HubSpot event' }).check();
    // A deal event for a workflow of contacts: the API says so, on the object field.
    await page.locator('#hs-trigger-object').selectOption('deal');
    await section.getByRole('button', { name: 'Save HubSpot trigger' }).click();
    await page
      .locator('#hs-trigger-object-error')
      .getByText(/^subscription: "deal\.creation" enrolls DEAL objects but workflow .* enrolls CONTACT objects/)
      .waitFor();
    assert.equal(await page.locator('#hs-trigger-object').getAttribute('aria-invalid'), 'true');
    // A property name HubSpot cannot have: on the property field.
    await page.locator('#hs-trigger-object').selectOption('contact');
    await page.locator('#hs-trigger-event').selectOption('propertyChange');
    await page.getByLabel('Property (optional)').fill('Life Cycle!');
    await section.getByRole('button', { name: 'Save HubSpot trigger' }).click();
    await page
      .locator('#hs-trigger-property-error')
      .getByText(/^propertyName must be a HubSpot property name/)
      .waitFor();
    assert.equal(await page.locator('#hs-trigger-object').getAttribute('aria-invalid'), null, 'the earlier refusal is gone from the object field');
    await page.getByLabel('Property (optional)').fill('lifecyclestage');
    await page.locator('#hs-trigger-reenroll').selectOption('never');
    // Not saved yet: a reload keeps what was typed.
    await page.reload();
    await section.getByText('Restored your unsaved HubSpot trigger.').waitFor();
    assert.equal(await page.getByLabel('Property (optional)').inputValue(), 'lifecyclestage');
    assert.equal(await page.locator('#hs-trigger-reenroll').inputValue(), 'never');
    await section.getByRole('button', { name: 'Save HubSpot trigger' }).click();
    await section
      .getByRole('status')
      .getByText(/^HubSpot trigger saved: contact\.propertyChange of lifecyclestage, once per object/)
      .waitFor();
    const saved = await call('GET', `/v1/workflows/${id}/hubspot-trigger`);
    assert.deepEqual(
      { subscription: saved.subscription, propertyName: saved.propertyName, reenroll: saved.reenroll },
      { subscription: 'contact.propertyChange', propertyName: 'lifecyclestage', reenroll: 'never' },
    );
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'hubspot-trigger.png') });
    await page.reload();
    await section.getByText(/^Saved: contact\.propertyChange of lifecyclestage/).waitFor();
    assert.equal(await section.getByText('Restored your unsaved HubSpot trigger.').count(), 0, 'the draft is dropped once saved');
    assert.equal(await page.locator('#hs-trigger-event').inputValue(), 'propertyChange', 'the saved trigger comes back in the form');
    assert.equal(await page.getByLabel('Property (optional)').inputValue(), 'lifecyclestage');
    assert.equal(await page.locator('#hs-trigger-reenroll').inputValue(), 'never');
    // Re-enroll after a pause: its minutes field appears, a refusal lands on it, a good value is saved.
    await page.locator('#hs-trigger-reenroll').selectOption('after');
    await page.locator('#hs-trigger-reenrollAfterMinutes').fill('0');
    await section.getByRole('button', { name: 'Save HubSpot trigger' }).click();
    await page
      .locator('#hs-trigger-reenrollAfterMinutes-error')
      .getByText(/^reenrollAfterMinutes/)
      .waitFor();
    await page.locator('#hs-trigger-reenrollAfterMinutes').fill('90');
    await section.getByRole('button', { name: 'Save HubSpot trigger' }).click();
    await section
      .getByRole('status')
      .getByText(/^HubSpot trigger saved: .*again after a pause/)
      .waitFor();
    const after = await call('GET', `/v1/workflows/${id}/hubspot-trigger`);
    assert.deepEqual({ reenroll: after.reenroll, reenrollAfterMinutes: after.reenrollAfterMinutes }, { reenroll: 'after', reenrollAfterMinutes: 90 });
    await section.getByRole('checkbox', { name: 'Enroll on a HubSpot event' }).uncheck();
    await section.getByRole('button', { name: 'Remove HubSpot trigger' }).click();
    await section.getByRole('status').getByText('HubSpot trigger removed.').waitFor();
    assert.equal((await call('GET', `/v1/workflows/${id}/hubspot-trigger`)).subscription, null);
  });

  it('puts what is wrong on the field it is about in the run panel too (the shared field component)', async () => {
    await page.locator('#enroll-object-id').fill('8');
    await page.locator('#enroll-properties').fill('{ "email": ');
    await page.getByRole('button', { name: 'Enroll', exact: true }).click();
    await page
      .locator('#enroll-properties-error')
      .getByText(/^The properties are not JSON/)
      .waitFor();
    assert.equal(await page.locator('#enroll-properties').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#enroll-properties').getAttribute('aria-describedby'), 'enroll-properties-error');
    await page.locator('#enroll-properties').fill('{ "email": "ada@example.com" }');
    await page.getByRole('button', { name: 'Enroll', exact: true }).click();
    await page.getByRole('list', { name: 'Enrolled' }).getByRole('link').first().waitFor();
    assert.equal(await page.locator('#enroll-properties-error').count(), 0, 'the error is gone once the JSON is fixed');
    assert.equal(await page.locator('#enroll-properties').getAttribute('aria-invalid'), null);
  });

  it('shows a JsWorkflows run as a tree: steps under the step that scheduled them, with statuses and durations, collapsible', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'Order', objectType: 'CONTACT', actions: [{ id: 'flow', runtime: 'jsworkflows', code: BRANCHES }] });
    const enrolled = await call('POST', `/v1/workflows/${String(wf.id)}/enrollments`, { object: { objectId: '7', properties: {} } });
    await page.goto(`${dev.url}/enrollments/${String(enrolled.id)}`);
    await page.locator('p > .status.completed').waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Run tree' }).waitFor();
    const tree = page.getByRole('list', { name: 'Steps as a tree' });
    const roots = tree.locator(':scope > li');
    assert.equal(await roots.count(), 1, 'one root: the action, at its start step');
    assert.match((await roots.first().locator('.run-row').first().textContent())!, /flow → start.*succeeded.*branch .* over 4 steps/);
    const underStart = page.getByRole('list', { name: 'Scheduled by start' }).locator(':scope > li');
    assert.deepEqual(await underStart.evaluateAll((els) => els.map((e) => e.getAttribute('data-step'))), ['charge', 'notify'], 'fanned out in the order scheduled');
    const underCharge = page.getByRole('list', { name: 'Scheduled by charge' }).locator(':scope > li');
    assert.deepEqual(await underCharge.evaluateAll((els) => els.map((e) => e.getAttribute('data-step'))), ['receipt']);
    for (const step of ['start', 'charge', 'notify', 'receipt']) {
      const row = tree.locator(`.run-node[data-step=${step}] > .run-row`);
      await row.locator('.status.succeeded').waitFor();
      assert.match((await row.textContent())!, /attempt 1 · ran \d+(\.\d)? m?s/, `${step} says its attempt and how long it ran`);
    }
    await page.screenshot({ path: join(SHOTS, 'run-tree.png') });

    const collapseCharge = page.getByRole('button', { name: 'Collapse charge (1 below)' });
    assert.equal(await collapseCharge.getAttribute('aria-expanded'), 'true');
    await collapseCharge.click();
    await page.getByRole('list', { name: 'Scheduled by charge' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Expand charge (1 below)' }).getAttribute('aria-expanded'), 'false');
    await page.getByRole('button', { name: 'Expand charge (1 below)' }).click();
    await underCharge.first().waitFor();
    await page.getByRole('button', { name: 'Collapse all' }).click();
    await page.getByRole('list', { name: 'Scheduled by start' }).waitFor({ state: 'detached' });
    assert.equal(await tree.locator('.run-node').count(), 1, 'collapsed, only the root is shown');
    await page.getByRole('button', { name: 'Expand all' }).click();
    await underCharge.first().waitFor();

    await page.getByRole('button', { name: 'Details of receipt' }).click();
    const details = page.getByRole('list', { name: 'Attempts of receipt' });
    await details.getByText(/\[(info|log)\] receipt sent for 12/).waitFor();

    await page.getByRole('button', { name: 'Timeline', exact: true }).click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    assert.equal(await page.getByRole('list', { name: 'Executions in order' }).locator(':scope > li').count(), 4, 'the flat timeline on demand: one item per execution');
    assert.equal(await page.getByRole('button', { name: 'Timeline', exact: true }).getAttribute('aria-pressed'), 'true');
  });
});
