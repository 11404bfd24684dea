import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { historyV1 } from '@codestep/contracts';
import { TEST_DONE_EVENTS, actionTestRoutes, linesArrived, parseTestInput } from './action-test.routes.ts';
import type { ApiClients } from './api.routes.ts';
import { createHistoryChangesHub, tailHistoryChanges } from './history-changes.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

describe('the body of a test', () => {
  it('reads dryRun, a draft action and a record to read from HubSpot', () => {
    const input = parseTestInput({ dryRun: true, action: { code: 'exports.main = 1' }, object: { objectType: 'contacts', objectId: 7, connection: 'my-hubspot' } });
    assert.equal(input.dryRun, true);
    assert.deepEqual(input.draft, { code: 'exports.main = 1' });
    assert.deepEqual([input.readRecord, input.connection, input.object.objectId, input.object.objectType], [true, 'my-hubspot', '7', 'CONTACTS']);
  });

  it('uses the properties sent instead of reading the record, and is no dry run unless asked', () => {
    const input = parseTestInput({ object: { objectId: '7', properties: { email: 'a@b.c' } } });
    assert.deepEqual([input.readRecord, input.dryRun, input.draft], [false, false, undefined]);
    assert.equal(parseTestInput(undefined).readRecord, false);
  });

  it('refuses a dryRun that is not a boolean, an action that is not an object, an unknown object field and a bad connection, naming each', () => {
    assert.throws(() => parseTestInput({ dryRun: 'yes' }), { message: 'dryRun must be true or false' });
    assert.throws(() => parseTestInput({ action: 'exports.main = 1' }), { message: /^action must be the draft action/ });
    assert.throws(() => parseTestInput({ object: { objectId: 1, conection: 'x' } }), { message: /^object\.conection is not a field of the object; use objectType, objectId, properties, connection/ });
    assert.throws(() => parseTestInput({ object: { objectId: 1, connection: 'Not Valid' } }), { message: /^object\.connection must be the handle of a HubSpot connection/ });
  });
});

/**
 * The history views as a finished test's route sees them: the result applied, then its console
 * lines (another topic) when the test publishes them. Reads are counted: a route that waited for
 * lines it was not owed reads again (told of nothing, it reads after FALLBACK_READ_MS).
 */
function finishedTest(linesLogged: number | undefined) {
  const hub = createHistoryChangesHub();
  const lines: historyV1.ExecutionView['logs'] = [];
  let reads = 0;
  const view = (): historyV1.ExecutionView =>
    ({
      ...historyV1.ExecutionView.fromPartial({ executionId: 'exe_1', actionId: 'a1', status: 'succeeded', durationMs: 3 }),
      logs: [...lines],
      logsTotal: lines.length,
      ...(linesLogged !== undefined ? { linesLogged } : {}),
    }) as historyV1.ExecutionView;
  const clients = {
    enrollments: { testAction: async () => ({ testId: 'tst_1', executionId: 'exe_1', workflowVersion: 1 }) },
    history: {
      getExecution: async () => {
        reads += 1;
        return view();
      },
    },
    changes: hub,
  } as unknown as ApiClients;
  const route = actionTestRoutes(clients, { limitsOf: async () => ({}) as Awaited<ReturnType<TenantLimitsOf>> })[0]!;
  const run = () => route.handle({ tenantId: 't1', params: { id: 'wf_1', actionId: 'a1' }, query: new URLSearchParams(), body: {}, headers: {} });
  /** The console lines arrive: the views hold them, then tell the waiting request. */
  const logged = (...messages: string[]) => {
    lines.push(...messages.map((message, i) => ({ level: 'info', message, at: i + 1 })));
    hub.publish([{ tenantId: 't1', runId: 'tst_1', type: 'ActionLogged' }]);
  };
  return { run, logged, reads: () => reads };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

describe('a finished test and its console lines', () => {
  it('answers at once, reading once, when its result says it logged nothing', async () => {
    const t = finishedTest(0);
    const res = await t.run();
    assert.equal(res.status, 200);
    assert.deepEqual((res.body as { logs: unknown[] }).logs, []);
    assert.equal(t.reads(), 1, 'no second read: it did not wait for lines');
  });

  it('waits until as many lines as its result counted are there, however they come', async () => {
    const t = finishedTest(3);
    let answered = false;
    const answer = t.run().finally(() => (answered = true));
    await until(() => t.reads() === 2); // the result, then its lines (none yet)
    t.logged('one', 'two');
    await until(() => t.reads() === 3);
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'two lines of three: still waiting');
    t.logged('three');
    const res = await answer;
    assert.equal(res.status, 200);
    assert.deepEqual(
      (res.body as { logs: Array<{ message: string }> }).logs.map((l) => l.message),
      ['one', 'two', 'three'],
    );
  });

  it('keeps the old wait for a result without the count: lines when some come', async () => {
    const t = finishedTest(undefined);
    const answer = t.run();
    await until(() => t.reads() >= 2);
    t.logged('late');
    const res = await answer;
    assert.deepEqual(
      (res.body as { logs: Array<{ message: string }> }).logs.map((l) => l.message),
      ['late'],
    );
  });
});

describe('whether the console lines are all there', () => {
  it('is true without a count, with as many as counted, or when the console document was truncated', () => {
    assert.equal(linesArrived({ logsTotal: 0, logsTruncated: false }), true);
    assert.equal(linesArrived({ linesLogged: 2, logsTotal: 1, logsTruncated: false }), false);
    assert.equal(linesArrived({ linesLogged: 2, logsTotal: 2, logsTruncated: false }), true);
    assert.equal(linesArrived({ linesLogged: 3000, logsTotal: 2000, logsTruncated: true }), true);
  });
});

describe('the changes a waiting test is woken by', () => {
  it('include its console lines as the history tail sends them (distributed mode: one `log` event per line)', async () => {
    const tail = Object.assign(new EventEmitter(), { cancel: () => {} });
    const changes = tailHistoryChanges({ tail: () => tail } as unknown as Pick<historyV1.HistoryClient, 'tail'>);
    const watch = changes.watch('t1', 'tst_1', TEST_DONE_EVENTS);
    tail.emit('data', { type: 'log', enrollmentId: 'tst_1', executionId: 'exe_1', line: { level: 'info', message: 'hi', at: 1 }, status: '' });
    assert.equal(await watch.changed(0), true);
    watch.close();
  });
});
