/**
 * codestep as a HubSpot app, end to end against the HubSpot fake playing HubSpot's side: the app
 * is installed through the OAuth connection (the portal is recorded), its workflow action is
 * published with `codestep hubspot publish-action`, a "HubSpot workflow" in the fake runs it for
 * 200 contacts with signed requests (fast ones answered synchronously, slow ones BLOCKed and
 * completed through the callbacks API with the right outputs), the action reads and writes each
 * contact through `@hubspot/api-client` with the installing portal's token, a contact created in
 * the fake enrolls through a webhook trigger, and every badly signed request enrolls nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signatureHeaders, startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { hubspotCommand } from '../commands/hubspot.ts';
import { api, differing, freeLoopbackPort, replayVerified, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

const APP = { clientId: 'codestep-app', clientSecret: 'app-secret-7f3a', appId: 8100001 };
const CONTACTS = 200;
const SLOW_EVERY = 20;

// Seed-style HubSpot code, unchanged: the token comes from process.env, the client from the library.
const SCORE_CONTACT = `const hubspot = require('@hubspot/api-client');
exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_ACCESS_TOKEN });
  const id = String(event.object.objectId);
  const contact = await client.crm.contacts.basicApi.getById(id, ['email', 'firstname']);
  if (event.inputFields.slow === 'yes') await new Promise((r) => setTimeout(r, 5000));
  const score = contact.properties.email.endsWith('@example.com') ? 87 : 10;
  await client.crm.contacts.basicApi.update(id, { properties: { hs_lead_status: 'codestep-' + score } });
  return { outputFields: { score, portal: event.origin.portalId, callback: event.callbackId } };
};`;

const GREET_NEW_CONTACT = `const hubspot = require('@hubspot/api-client');
exports.main = async (event) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_ACCESS_TOKEN });
  await client.crm.contacts.basicApi.update(String(event.object.objectId), { properties: { lifecyclestage: 'lead' } });
  return { outputFields: { done: true } };
};`;

describe('codestep as a HubSpot app (workflow action, callbacks, webhooks, the portal’s token)', () => {
  let fake: HubSpotFake;
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  let env: Record<string, string>;
  let definitionId = '';
  let scoreWf = '';

  before(async () => {
    const port = await freeLoopbackPort();
    const publicUrl = `http://127.0.0.1:${port}`;
    fake = await startHubSpotFake({ oauthClients: [{ ...APP, redirectUris: [`${publicUrl}/oauth/callback`] }], developerApiKey: 'dev-key', rateLimitPerSecond: 0 });
    env = {
      CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-hsapp-')),
      CODESTEP_HTTP_PORT: String(port),
      CODESTEP_PUBLIC_URL: publicUrl,
      HUBSPOT_APP_ID: String(APP.appId),
      HUBSPOT_CLIENT_ID: APP.clientId,
      HUBSPOT_CLIENT_SECRET: APP.clientSecret,
      HUBSPOT_DEVELOPER_API_KEY: 'dev-key',
      HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
      HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
      HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
      HUBSPOT_API_BASE_URL: fake.url,
      HUBSPOT_ACTION_ANSWER_MS: '4000',
      CODESTEP_EGRESS_MAP_HOSTS: `api.hubapi.com=${fake.url}`,
    };
    platform = await startPlatform(env);
    call = api(platform.url, platform.apiKey);
  });

  after(async () => {
    await platform?.stop();
    await fake?.close();
  });

  const enrollmentsOf = async (workflowId: string) => (await call('GET', `/v1/enrollments?workflowId=${workflowId}&limit=5000`)).body.enrollments as Array<{ id: string; status: string }>;

  it('installs the app: the connection records the portal it was installed in', async () => {
    const created = await call('POST', '/v1/connections', { handle: 'hubspot', provider: 'hubspot', permissions: ['contacts.write', 'automation'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
    const callback = await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
    assert.equal(callback.status, 200, await callback.text());
    const connection = await call('GET', '/v1/connections/hubspot');
    assert.deepEqual([connection.body.status, connection.body.accountId], ['active', '62515']);
  });

  it('publishes the workflow action through the automation v4 definitions API', async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) } } as never;
    assert.equal(await hubspotCommand(['publish-action', '--output', 'score:number', '--output', 'portal:number', '--output', 'callback:string'], env, io), 0, out.join(''));
    assert.match(out.join(''), /Created action definition (\d+)/);
    definitionId = /Created action definition (\d+)/.exec(out.join(''))![1]!;
    // Publishing again updates the same definition.
    assert.equal(await hubspotCommand(['publish-action', '--output', 'score:number', '--output', 'portal:number', '--output', 'callback:string'], env, io), 0);
    assert.match(out.join(''), new RegExp(`Updated action definition ${definitionId}`));
  });

  it('serves the installing account’s workflows as the options of the workflow field', async () => {
    const wf = await call('POST', '/v1/workflows', {
      name: 'score contact',
      objectType: 'CONTACT',
      actions: [
        {
          id: 'score',
          code: SCORE_CONTACT,
          inputFields: [{ name: 'slow', property: 'slow' }],
          outputFields: [
            { name: 'score', type: 'number' },
            { name: 'portal', type: 'number' },
            { name: 'callback', type: 'string' },
          ],
          secrets: ['HUBSPOT_ACCESS_TOKEN'],
        },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    scoreWf = wf.body.id;
    // HubSpot fetches the options with a signed POST when a user edits the action.
    const url = `${env.CODESTEP_PUBLIC_URL}/integrations/hubspot/actions/workflow-options`;
    const body = JSON.stringify({ origin: { portalId: 62515 }, inputFieldName: 'codestep_workflow', fetchOptions: { q: 'score' } });
    const headers = signatureHeaders({ clientSecret: APP.clientSecret, method: 'POST', url, body, timestamp: Date.now() }, 'v2');
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    assert.equal(res.status, 200);
    assert.deepEqual(
      ((await res.json()) as { options: Array<{ value: string }> }).options.map((o) => o.value),
      [scoreWf],
    );
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(unsigned.status, 401);
  });

  it('runs the action for 200 contacts: fast ones answer synchronously, slow ones BLOCK and complete by callback with the right outputs', async () => {
    const ids = Array.from({ length: CONTACTS }, (_, i) => fake.seed('contacts', { email: i % 2 ? `c${i}@example.com` : `c${i}@other.org`, firstname: `C${i}` }).id);
    const results: Array<{ id: string; slow: boolean; callbackId: string; status: number; body: any }> = [];
    // The fast ones first, 10 at a time, then the slow ones (an executor commits a batch's results
    // together, so a slow action in a batch would hold back the answers of the fast ones with it).
    const order = [...ids.filter((_, i) => i % SLOW_EVERY !== 0), ...ids.filter((_, i) => i % SLOW_EVERY === 0)];
    for (let i = 0; i < order.length; i += 10) {
      const batch = order.slice(i, i + 10).map(async (id) => {
        const slow = ids.indexOf(id) % SLOW_EVERY === 0;
        const r = await fake.app.executeAction({ definitionId, objectId: Number(id), inputFields: { codestep_workflow: scoreWf, slow: slow ? 'yes' : 'no' } });
        return { id, slow, callbackId: r.callbackId, status: r.status, body: r.body as any };
      });
      results.push(...(await Promise.all(batch)));
    }
    assert.ok(
      results.every((r) => r.status === 200),
      JSON.stringify(results.find((r) => r.status !== 200)),
    );
    const blocked = results.filter((r) => r.body.outputFields?.hs_execution_state === 'BLOCK');
    assert.ok(
      results.filter((r) => r.slow).every((r) => blocked.includes(r)),
      'every slow one answered BLOCK',
    );
    await waitFor('every BLOCKed callback completed', async () => (blocked.every((r) => fake.app.callback(r.callbackId)!.completions.length === 1) ? true : undefined), 90_000);
    for (const r of results) {
      const cb = fake.app.callback(r.callbackId)!;
      const outputs = blocked.includes(r) ? cb.completions[0]!.outputFields : r.body.outputFields;
      const score = Number(id(r)) % 2 ? 87 : 10;
      assert.deepEqual(outputs, { score, portal: 62515, callback: r.callbackId }, `outputs of contact ${r.id}`);
      assert.equal(cb.completions.length, blocked.includes(r) ? 1 : 0, `callback ${r.callbackId} completed only when BLOCKed`);
      assert.equal(cb.refused, 0);
      assert.equal(fake.get('contacts', r.id)?.properties.hs_lead_status, `codestep-${score}`);
    }
    function id(r: { id: string }) {
      return ids.indexOf(r.id);
    }
    const synchronous = results.length - blocked.length;
    console.log(`# HubSpot action: ${synchronous} of ${CONTACTS} answered synchronously, ${blocked.length} BLOCKed and completed by callback`);
    assert.ok(synchronous > 0, 'fast ones are answered synchronously');
    assert.equal((await enrollmentsOf(scoreWf)).length, CONTACTS);
  });

  it('enrolls a retried execution (same callbackId) once, and refuses bad signatures, stale timestamps, unknown portals and workflows, enrolling nothing', async () => {
    const contact = fake.seed('contacts', { email: 'retry@example.com' });
    const before = (await enrollmentsOf(scoreWf)).length;
    const first = await fake.app.executeAction({ definitionId, objectId: Number(contact.id), inputFields: { codestep_workflow: scoreWf, slow: 'no' } });
    const again = await fake.app.executeAction({ definitionId, objectId: Number(contact.id), callbackId: first.callbackId, inputFields: { codestep_workflow: scoreWf, slow: 'no' } });
    assert.deepEqual((again.body as any).outputFields, (first.body as any).outputFields);
    await waitFor('the retried execution’s one enrollment listed', async () => ((await enrollmentsOf(scoreWf)).length === before + 1 ? true : undefined));
    const bad = fake.seed('contacts', { email: 'bad@example.com' });
    for (const tamper of ['bad-signature', 'stale-timestamp', 'unsigned', 'v3-only-bad'] as const) {
      const r = await fake.app.executeAction({ definitionId, objectId: Number(bad.id), inputFields: { codestep_workflow: scoreWf }, tamper });
      assert.equal(r.status, 401, tamper);
      assert.match((r.body as any).error.message, /HubSpot signature refused: .*Nothing was enrolled/, tamper);
    }
    const stale = await fake.app.executeAction({ definitionId, objectId: Number(bad.id), inputFields: { codestep_workflow: scoreWf }, tamper: 'stale-timestamp' });
    assert.match((stale.body as any).error.message, /accepted for 5 minutes/);
    const unknownPortal = await fake.app.executeAction({ definitionId, objectId: Number(bad.id), portalId: 999001, inputFields: { codestep_workflow: scoreWf } });
    assert.equal(unknownPortal.status, 404);
    assert.match((unknownPortal.body as any).error.message, /no codestep account has installed the HubSpot app in account 999001: connect it/);
    const unknownWorkflow = await fake.app.executeAction({ definitionId, objectId: Number(bad.id), inputFields: { codestep_workflow: 'wf_nope' } });
    assert.equal(unknownWorkflow.status, 404);
    assert.match((unknownWorkflow.body as any).error.message, /workflow wf_nope chosen in the HubSpot action does not exist/);
    assert.equal((await enrollmentsOf(scoreWf)).length, before + 1, 'the retry enrolled nothing more, and no refused request enrolled');
    assert.equal(fake.get('contacts', bad.id)?.properties.hs_lead_status, undefined);
  });

  it('answers a failed workflow with FAIL_CONTINUE and the error, so HubSpot’s history shows why', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'fails', actions: [{ id: 'boom', code: 'exports.main = async () => { throw new Error("no credit left for this contact"); };' }] });
    const contact = fake.seed('contacts', { email: 'fail@example.com' });
    const r = await fake.app.executeAction({ definitionId, objectId: Number(contact.id), inputFields: { codestep_workflow: wf.body.id } });
    const outputs =
      (r.body as any).outputFields.hs_execution_state === 'BLOCK'
        ? await waitFor('the failure callback', async () => fake.app.callback(r.callbackId)?.completions[0]?.outputFields)
        : (r.body as any).outputFields;
    assert.equal(outputs.hs_execution_state, 'FAIL_CONTINUE');
    assert.match(String(outputs.codestep_error), /no credit left for this contact/);
  });

  it('enrolls a contact created in HubSpot through the webhook trigger, once per event, with the portal’s token', async () => {
    const wf = await call('POST', '/v1/workflows', {
      name: 'new contact',
      actions: [{ id: 'greet', code: GREET_NEW_CONTACT, outputFields: [{ name: 'done', type: 'boolean' }], secrets: ['HUBSPOT_ACCESS_TOKEN'] }],
    });
    const trigger = await call('PUT', `/v1/workflows/${wf.body.id}/hubspot-trigger`, { subscription: 'contact.creation' });
    assert.equal(trigger.status, 200, JSON.stringify(trigger.body));
    assert.equal((await call('PUT', `/v1/workflows/${wf.body.id}/hubspot-trigger`, { subscription: 'contact.wobble' })).status, 400);
    fake.app.subscribeWebhooks({ clientId: APP.clientId, targetUrl: `${platform.url}/integrations/hubspot/webhooks`, subscriptions: ['contact.creation'] });
    const token = fake.issueAccessToken({ clientId: APP.clientId }).accessToken;
    const created = await fetch(`${fake.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { email: 'new@example.com' } }),
    });
    const { id } = (await created.json()) as { id: string };
    await fake.app.webhooksSettled();
    assert.equal(fake.app.webhookDeliveries.at(-1)?.status, 200);
    await waitFor('the new contact updated by its workflow', async () => (fake.get('contacts', id)?.properties.lifecyclestage === 'lead' ? true : undefined), 30_000);
    const event = fake.app.webhookDeliveries.at(-1)!.events[0]!;
    const duplicate = await fake.app.sendWebhooks(`${platform.url}/integrations/hubspot/webhooks`, [{ ...event, attemptNumber: 1 }], { clientId: APP.clientId });
    assert.equal(duplicate.status, 200);
    const forged = await fake.app.sendWebhooks(`${platform.url}/integrations/hubspot/webhooks`, [fake.app.webhookEvent({ subscriptionType: 'contact.creation', objectId: 424242 })], {
      clientId: APP.clientId,
      tamper: 'bad-signature',
    });
    assert.equal(forged.status, 401);
    const tooMany = await fake.app.sendWebhooks(
      `${platform.url}/integrations/hubspot/webhooks`,
      Array.from({ length: 101 }, () => fake.app.webhookEvent({ subscriptionType: 'contact.creation', objectId: 1 })),
      { clientId: APP.clientId },
    );
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body, /at most 100 events/);
    const enrolled = await enrollmentsOf(wf.body.id);
    assert.equal(enrolled.length, 1, 'one enrollment for the event, however often it was delivered');
  });

  it('reads the workflow’s crmProperties from HubSpot before the first action (action URL, webhook trigger, API), recorded in the enrollment', async () => {
    const wf = await call('POST', '/v1/workflows', {
      name: 'greet by name',
      crmProperties: ['email', 'firstname'],
      actions: [
        {
          id: 'echo',
          code: 'exports.main = async (event) => ({ outputFields: { email: event.inputFields.email ?? "", firstname: event.inputFields.firstname ?? "" } });',
          inputFields: [
            { name: 'email', property: 'email' },
            { name: 'firstname', property: 'firstname' },
          ],
          outputFields: [
            { name: 'email', type: 'string' },
            { name: 'firstname', type: 'string' },
          ],
        },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    assert.deepEqual(wf.body.crmProperties, ['email', 'firstname']);
    const refused = await call('POST', '/v1/workflows', { name: 'bad', crmProperties: ['first name'], actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} })' }] });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /crmProperties\[0\]: must be a HubSpot property's internal name/);
    const enrollmentOf = async (enrollmentId: string) =>
      waitFor('the enrollment finished', async () => {
        const r = await call('GET', `/v1/enrollments/${enrollmentId}`);
        return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
      });

    const enrolledFor = (objectId: string) =>
      waitFor(`contact ${objectId} enrolled`, async () => {
        const list = (await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&objectId=${objectId}`)).body.enrollments as Array<{ id: string }>;
        return list.length ? list : undefined;
      });

    // The action URL: HubSpot sent no property; codestep read both with the portal's connection.
    const ada = fake.seed('contacts', { email: 'ada@example.com', firstname: 'Ada' });
    const r = await fake.app.executeAction({ definitionId, objectId: Number(ada.id), inputFields: { codestep_workflow: wf.body.id } });
    assert.equal(r.status, 200);
    const viaAction = await enrollmentOf((await enrolledFor(ada.id))[0]!.id);
    assert.equal(viaAction.status, 'completed', JSON.stringify(viaAction));
    assert.deepEqual(viaAction.crmRead.values, { email: 'ada@example.com', firstname: 'Ada' });
    assert.deepEqual([viaAction.crmRead.connection, viaAction.crmRead.properties], ['hubspot', ['email', 'firstname']]);
    assert.deepEqual(viaAction.executions[0].outputFields, { email: 'ada@example.com', firstname: 'Ada' });

    // The API: only what the object lacks is read; what was sent stays.
    const grace = fake.seed('contacts', { email: 'grace@example.com', firstname: 'Grace' });
    const viaApi = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: grace.id, properties: { email: 'sent@example.org' } } });
    assert.equal(viaApi.status, 202, JSON.stringify(viaApi.body));
    const apiView = await enrollmentOf(viaApi.body.id);
    assert.deepEqual(apiView.crmRead.properties, ['firstname']);
    assert.deepEqual(apiView.object.properties, { email: 'sent@example.org', firstname: 'Grace' });
    // A record HubSpot does not have: the enrollment runs as sent, the read's error in its history.
    const missing = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: '987654321' } });
    const missingView = await enrollmentOf(missing.body.id);
    assert.match(missingView.crmRead.error, /HubSpot has no contacts record 987654321/);
    assert.deepEqual(missingView.crmRead.values, {});
    // Everything sent: nothing read.
    const full = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: grace.id, properties: { email: 'a@b.c', firstname: 'A' } } });
    assert.equal((await enrollmentOf(full.body.id)).crmRead, undefined);

    // The webhook trigger: the event carries no property; both read before the action.
    assert.equal((await call('PUT', `/v1/workflows/${wf.body.id}/hubspot-trigger`, { subscription: 'contact.creation' })).status, 200);
    const token = fake.issueAccessToken({ clientId: APP.clientId }).accessToken;
    const created = await fetch(`${fake.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { email: 'linus@example.com', firstname: 'Linus' } }),
    });
    const { id } = (await created.json()) as { id: string };
    await fake.app.webhooksSettled();
    const viaWebhook = await enrollmentOf((await enrolledFor(id))[0]!.id);
    assert.deepEqual(viaWebhook.crmRead.values, { email: 'linus@example.com', firstname: 'Linus' });
    assert.deepEqual(viaWebhook.executions[0].outputFields, { email: 'linus@example.com', firstname: 'Linus' });

    // A delivery of several events: their records read in one batch read, not one GET each.
    const trio = ['Ken', 'Barbara', 'Edsger'].map((firstname) => fake.seed('contacts', { email: `${firstname.toLowerCase()}@example.com`, firstname }));
    const readsBefore = fake.requests.filter((q) => q.path.startsWith('/crm/v3/objects/contacts')).length;
    const delivery = await fake.app.sendWebhooks(
      `${platform.url}/integrations/hubspot/webhooks`,
      trio.map((c) => fake.app.webhookEvent({ subscriptionType: 'contact.creation', objectId: Number(c.id) })),
      { clientId: APP.clientId },
    );
    assert.equal(delivery.status, 200, delivery.body);
    const reads = fake.requests.filter((q) => q.path.startsWith('/crm/v3/objects/contacts')).slice(readsBefore);
    assert.deepEqual(
      reads.map((q) => `${q.method} ${q.path}`),
      ['POST /crm/v3/objects/contacts/batch/read'],
    );
    for (const c of trio) {
      const view = await enrollmentOf((await enrolledFor(c.id))[0]!.id);
      assert.deepEqual(view.crmRead.values, { email: c.properties.email, firstname: c.properties.firstname });
    }
  });

  it('reads crmProperties for a bulk enrollment in one batch read (asked again after a 429), and a trigger that re-enrolls after 60 minutes skips the object meanwhile', async () => {
    const wf = await call('POST', '/v1/workflows', {
      name: 'bulk greet',
      crmProperties: ['email', 'firstname'],
      actions: [
        {
          id: 'echo',
          code: 'exports.main = async (event) => ({ outputFields: { firstname: event.inputFields.firstname ?? "" } });',
          inputFields: [{ name: 'firstname', property: 'firstname' }],
          outputFields: [{ name: 'firstname', type: 'string' }],
        },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const pair = ['Hedy', 'Radia'].map((firstname) => fake.seed('contacts', { email: `${firstname.toLowerCase()}@example.com`, firstname }));
    // Seeding is a creation HubSpot reports to the subscribed webhooks: those enrollments (and their reads) first.
    await fake.app.webhooksSettled();
    const reads = () => fake.requests.filter((q) => q.path.startsWith('/crm/v3/objects/contacts') && q.method !== 'PATCH');
    const readsBefore = reads().length;
    // HubSpot's secondly limit hit once: the batch read is asked again, not given up.
    fake.failNext(429, 1, { pathPrefix: '/crm/v3/objects/contacts/batch/read' });
    const job = await call(
      'POST',
      `/v1/workflows/${wf.body.id}/enrollments:batch`,
      pair.map((c) => ({ objectId: c.id })),
    );
    assert.equal(job.status, 202, JSON.stringify(job.body));
    await waitFor('the bulk enrollment done', async () => ((await call('GET', `/v1/enrollment-batches/${job.body.jobId}`)).body.status === 'done' ? true : undefined));
    assert.deepEqual(
      reads()
        .slice(readsBefore)
        .map((q) => `${q.status} ${q.method} ${q.path}`),
      ['429 POST /crm/v3/objects/contacts/batch/read', '200 POST /crm/v3/objects/contacts/batch/read'],
    );
    for (const c of pair) {
      const [listed] = (await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&objectId=${c.id}`)).body.enrollments as Array<{ id: string }>;
      const view = (await call('GET', `/v1/enrollments/${listed!.id}`)).body;
      assert.deepEqual(view.crmRead.values, { email: c.properties.email, firstname: c.properties.firstname });
    }

    const trigger = await call('PUT', `/v1/workflows/${wf.body.id}/hubspot-trigger`, {
      subscription: 'contact.propertyChange',
      propertyName: 'lifecyclestage',
      reenroll: 'after',
      reenrollAfterMinutes: 60,
    });
    assert.deepEqual([trigger.status, trigger.body.reenroll, trigger.body.reenrollAfterMinutes], [200, 'after', 60]);
    const changed = (objectId: string) =>
      fake.app.sendWebhooks(
        `${platform.url}/integrations/hubspot/webhooks`,
        [fake.app.webhookEvent({ subscriptionType: 'contact.propertyChange', objectId: Number(objectId), propertyName: 'lifecyclestage', propertyValue: 'lead' })],
        { clientId: APP.clientId },
      );
    const [hedy] = pair;
    const first = await changed(hedy!.id);
    assert.equal(JSON.parse(first.body).enrolled, 1, first.body);
    // Once the gateway's projection has that enrollment, later changes within the hour are skipped, saying why.
    const skipped = await waitFor('a change within the hour skipped', async () => {
      const again = JSON.parse((await changed(hedy!.id)).body) as { enrolled: number; skipped: Array<{ reason: string }> };
      return again.skipped[0] ? again : undefined;
    });
    assert.equal(skipped.enrolled, 0);
    assert.match(skipped.skipped[0]!.reason, /re-enrolls an object 60 minutes after its last enrollment/);
    const enrollmentsOfHedy = async () => ((await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&objectId=${hedy!.id}`)).body.enrollments as unknown[]).length;
    await waitFor('the trigger’s enrollment listed', async () => ((await enrollmentsOfHedy()) >= 2 ? true : undefined));
    assert.equal(await enrollmentsOfHedy(), 2, 'the bulk enrollment and one by the trigger');
  });

  it('refuses the portal once its connection is removed (the gateway forgets the portal at the change), enrolling nothing', async () => {
    const contact = fake.seed('contacts', { email: 'removed@example.com' });
    // Answered while installed: the gateway now keeps the portal's owner.
    const ok = await fake.app.executeAction({ definitionId, objectId: Number(contact.id), inputFields: { codestep_workflow: scoreWf, slow: 'no' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(((ok.body as any).outputFields as Record<string, unknown>).score, 87);
    const before = (await enrollmentsOf(scoreWf)).length;
    const removed = await call('DELETE', '/v1/connections/hubspot');
    assert.ok(removed.status < 300, JSON.stringify(removed.body));
    // The connection's event reaches the gateway shortly after the DELETE is answered (the log
    // resolves an append before its consumers run): the options call (which enrolls nothing) is
    // asked until the portal is refused, for a bounded time.
    const options = `${env.CODESTEP_PUBLIC_URL}/integrations/hubspot/actions/workflow-options`;
    const body = JSON.stringify({ origin: { portalId: 62515 }, inputFieldName: 'codestep_workflow' });
    const askOptions = () =>
      fetch(options, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signatureHeaders({ clientSecret: APP.clientSecret, method: 'POST', url: options, body, timestamp: Date.now() }, 'v2') },
        body,
      });
    await waitFor('the options of the removed portal refused', async () => ((await askOptions()).status === 404 ? true : undefined), 10_000);
    const refused = await fake.app.executeAction({ definitionId, objectId: Number(contact.id), inputFields: { codestep_workflow: scoreWf, slow: 'no' } });
    assert.equal(refused.status, 404, JSON.stringify(refused.body));
    assert.match((refused.body as any).error.message, /no codestep account has installed the HubSpot app in account 62515/);
    assert.equal((await enrollmentsOf(scoreWf)).length, before, 'the refused execution enrolled nothing');
  });

  it('rebuilds the portal index and the HubSpot triggers (with every other projection) from the log, equal to the live ones', async () => {
    const report = await replayVerified(env);
    assert.equal(report.equal, true, differing(report));
    await platform.stop('SIGTERM');
    assert.equal(report.collections['broker/credential_provider_accounts']?.live, 1);
    assert.equal(report.collections['gateway/hubspot_triggers']?.live, 3);
    assert.ok((report.collections['gateway/hubspot_trigger_enrollments']?.live ?? 0) > 0, 'the objects the triggers enrolled, rebuilt equal');
  });
});
