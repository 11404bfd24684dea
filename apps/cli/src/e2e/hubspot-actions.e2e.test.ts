/**
 * Real HubSpot custom code, unchanged, on the platform and in `codestep run`, against the
 * HubSpot API fake: the seed's getById example (current client), and retries after a 429 or a
 * 5XX, re-run by the enrollment service with backoff, every attempt in the history.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { api, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

// The seed's sample, written for the current client (accessToken, contact.properties).
const GET_BY_ID = `const hubspot = require('@hubspot/api-client');
exports.main = async (event) => {
  const hubspotClient = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const contact = await hubspotClient.crm.contacts.basicApi.getById(event.object.objectId, ['email', 'phone']);
  console.log('fetched contact', contact.id);
  return { outputFields: { email: contact.properties.email, phone: contact.properties.phone } };
};`;

describe('HubSpot custom code against the HubSpot API fake', () => {
  let fake: HubSpotFake;
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  let contactId: string;
  let workflowId: string;
  const TOKEN = 'pat-na1-codestep-test';

  before(async () => {
    fake = await startHubSpotFake({ accessTokens: { [TOKEN]: {} } });
    contactId = fake.seed('contacts', { email: 'ada@example.com', phone: '+44 20 7946 0000' }).id;
    platform = await startPlatform({
      CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-hs-')),
      CODESTEP_EGRESS_MAP_HOSTS: `api.hubapi.com=${fake.url}`,
      CODESTEP_RETRY_INITIAL_MS: '300',
    });
    call = api(platform.url, platform.apiKey);
    await call('PUT', '/v1/secrets/HUBSPOT_TOKEN', { value: TOKEN });
    const wf = await call('POST', '/v1/workflows', {
      name: 'enrich',
      actions: [
        {
          id: 'fetch',
          code: GET_BY_ID,
          secrets: ['HUBSPOT_TOKEN'],
          outputFields: [
            { name: 'email', type: 'string' },
            { name: 'phone', type: 'phone_number' },
          ],
        },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    workflowId = wf.body.id;
  });

  after(async () => {
    await platform?.stop();
    await fake?.close();
  });

  async function enrollAndWait(): Promise<any> {
    const enrolled = await call('POST', `/v1/workflows/${workflowId}/enrollments`, { object: { objectType: 'CONTACT', objectId: contactId } });
    return waitFor('the enrollment to finish', async () => {
      const r = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return r.body.status !== 'running' ? r.body : undefined;
    });
  }

  it('runs the seed getById example unchanged and outputs the contact email and phone', async () => {
    const done = await enrollAndWait();
    assert.equal(done.status, 'completed', JSON.stringify(done, null, 2));
    assert.deepEqual(done.executions[0].outputFields, { email: 'ada@example.com', phone: '+44 20 7946 0000' });
    assert.match(done.executions[0].logs[0].message, new RegExp(`fetched contact ${contactId}`));
    const calls = fake.requests.filter((r) => r.path.startsWith(`/crm/v3/objects/contacts/${contactId}`));
    assert.ok(calls.length >= 1);
    assert.ok(!done.executions[0].logs.some((l: { message: string }) => l.message.includes(TOKEN)), 'the token never shows in logs');
  });

  for (const status of [429, 503]) {
    it(`retries an action that failed after a ${status} from HubSpot, and records every attempt`, async () => {
      fake.failNext(status, 1, { pathPrefix: '/crm/v3/objects/contacts' });
      const done = await enrollAndWait();
      assert.equal(done.status, 'completed', JSON.stringify(done, null, 2));
      assert.equal(done.executions.length, 2);
      const [first, second] = done.executions;
      assert.equal(first.attempt, 1);
      assert.equal(first.status, 'retry_scheduled');
      assert.equal(first.error.retryable, true);
      assert.equal(second.attempt, 2);
      assert.equal(second.status, 'succeeded');
      assert.ok(Date.parse(second.requestedAt) - Date.parse(first.finishedAt) >= 250, 'the retry waited for its backoff');
    });
  }

  it('runs the same file with codestep run --map-host and a secret, printing the JSON contract', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codestep-run-'));
    writeFileSync(join(dir, 'action.js'), GET_BY_ID);
    writeFileSync(
      join(dir, 'event.json'),
      JSON.stringify({ origin: { portalId: 1, actionDefinitionId: 2 }, object: { objectType: 'CONTACT', objectId: Number(contactId) }, inputFields: {}, callbackId: 'ap-1-2-3' }),
    );
    // Asynchronously: the fake answers from this process's event loop.
    const child = spawn(process.execPath, [
      'apps/cli/src/main.ts',
      'run',
      join(dir, 'action.js'),
      '--event',
      join(dir, 'event.json'),
      '--secret',
      `HUBSPOT_TOKEN=${TOKEN}`,
      '--map-host',
      `api.hubapi.com=${fake.url}`,
      '--json',
    ]);
    const out = { stdout: '', stderr: '', status: null as number | null };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    out.status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(out.status, 0, out.stdout + out.stderr);
    const result = JSON.parse(out.stdout) as { status: string; outputFields: Record<string, unknown>; error: unknown };
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.outputFields, { email: 'ada@example.com', phone: '+44 20 7946 0000' });
    assert.equal(result.error, null);
  });
});
