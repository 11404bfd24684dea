/**
 * Reading records from HubSpot when HubSpot pushes back: a 429 or 5XX is tried again after the
 * wait its `Retry-After` asks for (else a short backoff), a bounded number of times; then the
 * read fails with HubSpot's answer, and a workflow's crmProperties read records that failure
 * without refusing the enrollment. Against a real HTTP server playing HubSpot's answers; the
 * waits go through an injected sleep that records them, so nothing here sleeps.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ApiClients } from '../api.routes.ts';
import { createCrmPropertiesFetcher } from './crm-properties.ts';
import { createHubSpotBatchReader, createHubSpotObjectReader, type HubSpotObjectReaderDeps } from './hubspot-object.reader.ts';

type Answer = { status: number; headers?: Record<string, string>; body: unknown };

describe('reading CRM records when HubSpot answers 429 or 5XX', () => {
  let server: Server;
  let base = '';
  let answers: Answer[] = [];
  let requests: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      const a = answers.length > 1 ? answers.shift()! : answers[0]!;
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  function deps(waits: number[]): HubSpotObjectReaderDeps {
    requests = [];
    const credentials = {
      listConnections: async () => ({ connections: [{ handle: 'hubspot', provider: 'hubspot', status: 'active' }] }),
      getConnectionToken: async () => ({ token: 'pat-token', error: '' }),
    } as unknown as HubSpotObjectReaderDeps['credentials'];
    return { credentials, apiBaseUrl: base, retry: { sleep: async (ms) => void waits.push(ms) } };
  }
  const read = { tenantId: 't-1', objectType: 'CONTACT', objectId: '501', properties: ['email'], purpose: 'test' };
  const limited = (retryAfter?: string): Answer => ({ status: 429, ...(retryAfter ? { headers: { 'retry-after': retryAfter } } : {}), body: { status: 'error', category: 'RATE_LIMITS' } });

  it('reads the record after two 429s, having waited as Retry-After asked each time', async () => {
    const waits: number[] = [];
    answers = [limited('1'), limited('1'), { status: 200, body: { id: '501', properties: { email: 'ada@example.com' } } }];
    const got = await createHubSpotObjectReader(deps(waits))(read);
    assert.deepEqual(got.properties, { email: 'ada@example.com' });
    assert.deepEqual(waits, [1000, 1000]);
    assert.equal(requests.length, 3);
  });

  it('batch-reads after a 503 without Retry-After, waiting the first backoff step', async () => {
    const waits: number[] = [];
    answers = [
      { status: 503, body: { message: 'down' } },
      { status: 200, body: { results: [{ id: '7', properties: { email: 'x@y.z' } }] } },
    ];
    const got = await createHubSpotBatchReader(deps(waits))({ ...read, objectIds: ['7', '8'], connection: 'hubspot' });
    assert.deepEqual([...got], [['7', { email: 'x@y.z' }]]);
    assert.deepEqual(waits, [250]);
    assert.deepEqual(requests, ['POST /crm/v3/objects/contacts/batch/read', 'POST /crm/v3/objects/contacts/batch/read']);
  });

  it('gives up after the bounded attempts, and the crmProperties read records the failure instead of refusing the enrollment', async () => {
    const waits: number[] = [];
    answers = [{ status: 500, body: { message: 'internal error' } }];
    const d = deps(waits);
    await assert.rejects(createHubSpotObjectReader(d)(read), { code: 'UNAVAILABLE', message: /HubSpot answered 500 reading contacts 501 \(after 4 attempts\)/ });
    assert.deepEqual(waits, [250, 500, 1000]);
    assert.equal(requests.length, 4);

    const clients = {
      workflows: { getWorkflow: async () => ({ workflowId: 'wf-1', objectType: 'CONTACT', crmProperties: { names: ['email'] } }) },
      credentials: d.credentials,
    } as unknown as Pick<ApiClients, 'workflows' | 'credentials'>;
    const fetcher = createCrmPropertiesFetcher({ clients, readObject: createHubSpotObjectReader(d), clock: () => 42 });
    const out = await fetcher({ tenantId: 't-1', workflowId: 'wf-1', object: { objectType: 'CONTACT', objectId: '501', properties: {} } });
    assert.deepEqual(out.object.properties, {});
    assert.equal(out.crmRead?.readAt, 42);
    assert.match(out.crmRead?.error ?? '', /HubSpot answered 500 reading contacts 501 \(after 4 attempts\)/);
  });

  it('does not wait out a Retry-After longer than the cap (a daily limit): the read fails at once saying so', async () => {
    const waits: number[] = [];
    answers = [limited('3600')];
    await assert.rejects(createHubSpotObjectReader(deps(waits))(read), { code: 'UNAVAILABLE', message: /HubSpot answered 429 reading contacts 501 \(HubSpot asks to wait 3600 s/ });
    assert.deepEqual(waits, []);
    assert.equal(requests.length, 1);
  });

  it("stops within the caller's deadline (a webhook answer's budget): no wait past it, no request after it, and the crmProperties read says so", async () => {
    const waits: number[] = [];
    answers = [limited('1')];
    const d = deps(waits);
    await assert.rejects(createHubSpotObjectReader(d)({ ...read, deadline: Date.now() + 500 }), {
      code: 'UNAVAILABLE',
      message: /HubSpot answered 429 reading contacts 501 \(after 1 attempt\(s\): no time left to try again before answering HubSpot\)/,
    });
    assert.deepEqual([waits, requests.length], [[], 1], 'the 1 s Retry-After would pass the deadline: not waited');

    answers = [{ status: 503, body: { message: 'down' } }];
    await assert.rejects(createHubSpotBatchReader(deps(waits))({ ...read, objectIds: ['7', '8'], connection: 'hubspot', deadline: Date.now() + 600 }), {
      message: /HubSpot answered 503 to a batch read of contacts \(after 3 attempt\(s\): no time left/,
    });
    assert.deepEqual(waits, [250, 500], 'the backoff steps that fit before the deadline, then no more');

    const clients = {
      workflows: { getWorkflow: async () => ({ workflowId: 'wf-1', objectType: 'CONTACT', crmProperties: { names: ['email'] } }) },
      credentials: d.credentials,
    } as unknown as Pick<ApiClients, 'workflows' | 'credentials'>;
    const fetcher = createCrmPropertiesFetcher({ clients, readObject: createHubSpotObjectReader(deps(waits)), clock: () => 42 });
    const out = await fetcher({
      tenantId: 't-1',
      workflowId: 'wf-1',
      object: { objectType: 'CONTACT', objectId: '501', properties: { firstname: 'Ada' } },
      connection: 'hubspot',
      deadline: Date.now() - 1,
    });
    assert.equal(requests.length, 0, 'the deadline had passed: HubSpot not asked');
    assert.deepEqual(out.object.properties, { firstname: 'Ada' }, 'the enrollment goes ahead with the object as it came');
    assert.match(out.crmRead?.error ?? '', /HubSpot not asked reading contacts 501 \(not read: no time left before answering HubSpot\)/);
  });
});
