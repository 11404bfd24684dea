import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { CrmPropertiesRead } from '@codestep/contracts';
import { silentLogger } from '@codestep/core';
import { SqliteStore } from '@codestep/store-sqlite';
import type { ApiClients } from './api.routes.ts';
import { MAX_BATCH_ROWS, enrollmentBatches, parseBatch } from './enrollment-batch.ts';
import { createCrmPrefetcher, createCrmPropertiesFetcher, type CrmObjectInput } from './hubspot/crm-properties.ts';
import { createHubSpotBatchReader, createHubSpotObjectReader } from './hubspot/hubspot-object.reader.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

describe('parsing an enrollment batch', () => {
  it('given NDJSON with bad lines, then each bad line is an error with its line number and reason, and the good rows are kept', () => {
    const text = [
      '{"objectId": 1, "properties": {"email": "a@b.c"}}',
      '',
      '{not json',
      '{"properties": {}}',
      '{"object": {"objectId": "7", "objectType": "deal"}, "idempotencyKey": "k7"}',
      '{"objectId": 2, "colour": "red"}',
    ].join('\n');
    const out = parseBatch(text, 'bat_1');
    assert.equal(out.format, 'ndjson');
    assert.equal(out.total, 5);
    assert.deepEqual(
      out.rows.map((r) => [r.line, r.key, r.object.objectType, r.object.objectId]),
      [
        [1, 'bat_1:1', '', '1'],
        [5, 'k7', 'DEAL', '7'],
      ],
    );
    assert.deepEqual(
      out.errors.map((e) => e.line),
      [3, 4, 6],
    );
    assert.match(out.errors[0]!.reason, /not valid JSON/);
    assert.match(out.errors[1]!.reason, /objectId is required/);
    assert.match(out.errors[2]!.reason, /"colour" is not a field of a row/);
  });

  it('given a JSON array, then rows are numbered from 1; a body that is not JSON nor too many rows is refused as a whole', () => {
    const out = parseBatch('[{"objectId": "a"}, 5, {"objectId": "b", "properties": {"n": 3, "x": null}}]', 'bat_2');
    assert.deepEqual([out.format, out.total, out.rows.length, out.errors[0]?.line], ['json', 3, 2, 2]);
    assert.deepEqual(out.rows[1]!.object.properties, { n: '3' });
    assert.throws(() => parseBatch('[{"objectId": 1},', 'b'), { code: 'INVALID_ARGUMENT', message: /not valid JSON/ });
    const many = Array.from({ length: MAX_BATCH_ROWS + 1 }, (_, i) => `{"objectId":${i}}`).join('\n');
    assert.throws(() => parseBatch(many, 'b'), { code: 'INVALID_ARGUMENT', message: /at most 100000 objects, got 100001/ });
  });
});

/**
 * A bulk enrollment into a workflow with `crmProperties`, on the embedded store, against a real
 * HTTP server playing HubSpot: the rows lacking properties are read in one batch read and each
 * enrollment carries its read, as a single enrollment does.
 */
describe('a bulk enrollment into a workflow with crmProperties', () => {
  it('reads what the rows lack from HubSpot in one batch read, each enrollment carrying its crmRead; a row sent whole reads nothing', async () => {
    const records: Record<string, Record<string, string>> = { '11': { email: 'ada@example.com', firstname: 'Ada' }, '12': { email: 'alan@example.com', firstname: 'Alan' } };
    const requests: string[] = [];
    const hubspot = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url} ${body}`);
        const ids = (JSON.parse(body || '{"inputs": []}') as { inputs: Array<{ id: string }> }).inputs.map((i) => i.id);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'COMPLETE', results: ids.filter((id) => records[id]).map((id) => ({ id, properties: records[id] })) }));
      });
    });
    await new Promise<void>((r) => hubspot.listen(0, '127.0.0.1', r));
    const apiBaseUrl = `http://127.0.0.1:${(hubspot.address() as AddressInfo).port}`;
    const enrolled: Array<{ object: CrmObjectInput; crmRead?: CrmPropertiesRead }> = [];
    const credentials = {
      listConnections: async () => ({ connections: [{ handle: 'hubspot', provider: 'hubspot', status: 'active' }] }),
      getConnectionToken: async () => ({ token: 'pat-token', error: '' }),
    } as unknown as NonNullable<ApiClients['credentials']>;
    const clients = {
      workflows: { getWorkflow: async () => ({ workflowId: 'wf-1', version: 1, objectType: 'CONTACT', crmProperties: { names: ['email', 'firstname'] } }) },
      enrollments: {
        enroll: async (req: { object: CrmObjectInput; crmRead?: CrmPropertiesRead }) => (enrolled.push({ object: req.object, crmRead: req.crmRead }), { enrollmentId: `enr-${enrolled.length}` }),
      },
      credentials,
    } as unknown as ApiClients;
    const store = new SqliteStore({ path: ':memory:' });
    const crm = {
      fetch: createCrmPropertiesFetcher({ clients, readObject: createHubSpotObjectReader({ credentials, apiBaseUrl }), clock: () => 7 }),
      prefetch: createCrmPrefetcher({ clients, readBatch: createHubSpotBatchReader({ credentials, apiBaseUrl }) }),
    };
    const batches = enrollmentBatches(clients, { store, clock: () => 7, logger: silentLogger, limitsOf: (async () => ({ policy: undefined })) as unknown as TenantLimitsOf, crm });
    try {
      await batches.start();
      const route = batches.routes.find((r) => r.path === '/v1/workflows/:id/enrollments:batch')!;
      const body = [
        '{"objectId": "11"}',
        '{"objectId": "12", "properties": {"email": "sent@example.org"}}',
        '{"objectId": "13"}',
        '{"objectId": "14", "properties": {"email": "e", "firstname": "f"}}',
      ].join('\n');
      const res = await route.handle({ tenantId: 't-1', params: { id: 'wf-1' }, query: new URLSearchParams(), headers: {}, body });
      assert.equal(res.status, 202);
      await batches.idle();

      assert.equal(requests.length, 1, requests.join('\n'));
      assert.match(requests[0]!, /^POST \/crm\/v3\/objects\/contacts\/batch\/read /);
      const byId = new Map(enrolled.map((e) => [e.object.objectId, e]));
      assert.deepEqual(byId.get('11')?.object.properties, { email: 'ada@example.com', firstname: 'Ada' });
      assert.deepEqual(byId.get('11')?.crmRead, { connection: 'hubspot', names: ['email', 'firstname'], values: { email: 'ada@example.com', firstname: 'Ada' }, readAt: 7, error: '' });
      assert.deepEqual(byId.get('12')?.object.properties, { email: 'sent@example.org', firstname: 'Alan' }, 'what the row sent stays');
      assert.deepEqual(byId.get('12')?.crmRead?.names, ['firstname']);
      assert.match(byId.get('13')?.crmRead?.error ?? '', /HubSpot has no CONTACT record 13/);
      assert.equal(byId.get('14')?.crmRead, undefined, 'a row sent whole reads nothing');
    } finally {
      await batches.stop();
      await new Promise<void>((r) => hubspot.close(() => r()));
    }
  });
});
