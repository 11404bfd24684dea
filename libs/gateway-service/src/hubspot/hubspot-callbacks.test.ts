import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { envelope, toRecord } from '@codestep/events';
import { SqliteStore } from '@codestep/store-sqlite';
import { tenantScoped } from '@codestep/store';
import { CALLBACKS, ensureCallbackCollection, startCallbackCompleter, type CallbackDoc } from './hubspot-callbacks.ts';

interface Seen {
  path: string;
  body: any;
}

/** A HubSpot callbacks API of our own: records each request, answers as `answer` says. */
async function callbacksApi(answer: (path: string) => number): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body: JSON.parse(text) });
      const status = answer(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 204 ? '' : JSON.stringify({ status: 'error', message: 'callback cb-x was already completed' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

async function completeThree(answer: (path: string) => number) {
  const api = await callbacksApi(answer);
  const store = new SqliteStore({ path: ':memory:' });
  const eventLog = new SqliteEventLog({ path: ':memory:', pollIntervalMs: 20 });
  await ensureCallbackCollection(store, eventLog);
  const ids = ['cb-1', 'cb-2', 'cb-3'];
  for (const callbackId of ids) {
    const doc: CallbackDoc = { callbackId, enrollmentId: `enr-${callbackId}`, portalId: 62515, handle: 'hubspot', state: 'blocked', receivedAt: 0, answerBy: 0, leaseUntil: 0, attempts: 0 };
    await tenantScoped(store, 't1').insertIfAbsent(CALLBACKS, callbackId, doc);
  }
  // Three enrollments finished together: one consumed batch.
  await eventLog.append(
    ids.map((callbackId, i) =>
      toRecord(
        envelope(
          { eventId: `evt-${callbackId}`, tenantId: 't1', aggregateId: `enr-${callbackId}`, occurredAt: 1 },
          {
            $case: 'enrollmentCompleted',
            value: {
              enrollmentId: `enr-${callbackId}`,
              outputs: { a: { fields: { score: { kind: { $case: 'numberValue', value: i } } } } },
              hubspot: {
                portalId: 62515,
                connectionHandle: 'hubspot',
                callbackId,
                actionDefinitionId: '1',
                actionDefinitionVersion: 1,
                source: 'WORKFLOWS',
                workflowId: '9',
                subscriptionType: '',
                eventId: '',
              },
            },
          },
        ),
      ),
    ),
  );
  const tokens: string[] = [];
  const completer = await startCallbackCompleter({
    store,
    eventLog,
    apiBaseUrl: api.url,
    clock: Date.now,
    logger: silentLogger,
    tokenOf: async (_tenantId, handle) => (tokens.push(handle), { token: 'pat-test' }),
  });
  const states = async () => Promise.all(ids.map(async (id) => (await tenantScoped(store, 't1').get<CallbackDoc>(CALLBACKS, id))?.doc.state));
  for (let i = 0; i < 500 && (await states()).some((s) => s !== 'completed'); i++) await new Promise((r) => setTimeout(r, 20));
  await completer.stop();
  await new Promise<void>((r) => api.server.close(() => r()));
  return { seen: api.seen, states: await states(), tokens, close: () => eventLog.close() };
}

describe('HubSpot callbacks completer', () => {
  const closers: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of closers) await c();
  });

  it('completes callbacks ready together with one batch request, with their outputs', async () => {
    const out = await completeThree(() => 204);
    closers.push(out.close);
    assert.deepEqual(out.states, ['completed', 'completed', 'completed']);
    assert.deepEqual(
      out.seen.map((s) => s.path),
      ['/automation/v4/actions/callbacks/complete'],
    );
    assert.deepEqual(
      out.seen[0]!.body.inputs.map((i: { callbackId: string; outputFields: unknown }) => [i.callbackId, i.outputFields]),
      [
        ['cb-1', { score: 0 }],
        ['cb-2', { score: 1 }],
        ['cb-3', { score: 2 }],
      ],
    );
    assert.equal(out.tokens.length, 1, 'one token for the connection');
  });

  it('completes them one by one when HubSpot refuses the batch (one already completed counts as done)', async () => {
    const out = await completeThree((path) => (path.endsWith('/callbacks/complete') || path.includes('cb-2') ? 400 : 204));
    closers.push(out.close);
    assert.deepEqual(out.states, ['completed', 'completed', 'completed']);
    assert.deepEqual(
      out.seen.map((s) => s.path),
      [
        '/automation/v4/actions/callbacks/complete',
        '/automation/v4/actions/callbacks/cb-1/complete',
        '/automation/v4/actions/callbacks/cb-2/complete',
        '/automation/v4/actions/callbacks/cb-3/complete',
      ],
    );
  });
});
