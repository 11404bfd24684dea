/**
 * JsWorkflows' run state on a real store: run-scoped values, push and increment correct under
 * concurrent writers, the size cap, dedupe within its window, and removal when the run ends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envelope, toRecord } from '@codestep/events';
import type { ConsumedRecord } from '@codestep/event-log';
import { SqliteStore } from '@codestep/store-sqlite';
import { RUN_STORES, createRunStateStore, removeEndedRunStores } from './run-state.store.ts';

const run = { tenantId: 't1', workflowId: 'wf1', enrollmentId: 'enr1' };
const req = (op: string, key: string, value?: unknown) => JSON.stringify(value === undefined ? { op, key } : { op, key, value });

async function opened(settings = { maxChars: 10_000, dedupeWindowMs: 60_000 }, clock = () => 1_000) {
  const store = new SqliteStore({ path: ':memory:' });
  const state = createRunStateStore(store, clock, settings);
  await state.ensureCollections();
  return { store, state };
}

describe('run state store', () => {
  it('given nothing stored, gets null; set, get and delete a JSON value', async () => {
    const { state } = await opened();
    assert.deepEqual(await state.apply(run, req('get', 'order')), { value: null });
    assert.deepEqual(await state.apply(run, req('set', 'order', { id: 7, tags: ['a'] })), { value: null });
    assert.deepEqual(await state.apply(run, req('get', 'order')), { value: { id: 7, tags: ['a'] } });
    await state.apply(run, req('delete', 'order'));
    assert.deepEqual(await state.apply(run, req('get', 'order')), { value: null });
  });

  it('keeps each run to itself, and each tenant', async () => {
    const { state } = await opened();
    await state.apply(run, req('set', 'k', 1));
    assert.deepEqual(await state.apply({ ...run, enrollmentId: 'enr2' }, req('get', 'k')), { value: null });
    assert.deepEqual(await state.apply({ ...run, tenantId: 't2' }, req('get', 'k')), { value: null });
  });

  it('given 100 concurrent increments of one counter, ends at exactly 100, each answered with a distinct new value', async () => {
    const { state } = await opened();
    const answers = await Promise.all(Array.from({ length: 100 }, () => state.apply(run, req('increment', 'done', 1))));
    assert.deepEqual(await state.apply(run, req('get', 'done')), { value: 100 });
    assert.deepEqual(
      answers.map((a) => a.value as number).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });

  it('given 50 concurrent pushes, keeps every item', async () => {
    const { state } = await opened();
    await Promise.all(Array.from({ length: 50 }, (_, i) => state.apply(run, req('push', 'items', { i }))));
    const { value } = await state.apply(run, req('get', 'items'));
    assert.deepEqual(
      (value as Array<{ i: number }>).map((x) => x.i).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('refuses push onto a non-array, increment of a non-number, and a store over its cap, saying which', async () => {
    const { state } = await opened({ maxChars: 100, dedupeWindowMs: 1 });
    await state.apply(run, req('set', 'name', 'x'));
    assert.match((await state.apply(run, req('push', 'name', 1))).error ?? '', /"name" holds a string, not an array/);
    assert.match((await state.apply(run, req('increment', 'name', 1))).error ?? '', /"name" holds a string, not a number/);
    assert.match((await state.apply(run, req('set', 'big', 'y'.repeat(200)))).error ?? '', /over the cap of 100 \(CODESTEP_RUN_STORE_MAX_CHARS\)/);
    assert.deepEqual(await state.apply(run, req('get', 'big')), { value: null }, 'a refused write changes nothing');
    assert.deepEqual(await state.apply(run, req('get', '__proto__')), { value: null });
  });

  it('dedupes a key per workflow within its window, and lets it through again after', async () => {
    let now = 1_000;
    const { state } = await opened({ maxChars: 1000, dedupeWindowMs: 60_000 }, () => now);
    const first = await Promise.all(Array.from({ length: 10 }, () => state.apply(run, req('dedupe', 'order-7'))));
    assert.equal(first.filter((a) => (a.value as { locked: boolean }).locked === false).length, 1, 'exactly one of ten concurrent callers gets it');
    assert.deepEqual(await state.apply({ ...run, enrollmentId: 'enr9' }, req('dedupe', 'order-7')), { value: { locked: true } }, 'another run of the same workflow');
    assert.deepEqual(await state.apply({ ...run, workflowId: 'wf2' }, req('dedupe', 'order-7')), { value: { locked: false } }, 'another workflow');
    now += 60_001;
    assert.deepEqual(await state.apply(run, req('dedupe', 'order-7')), { value: { locked: false } });
    assert.deepEqual(await state.apply(run, req('dedupe', 'order-7')), { value: { locked: true } });
  });

  it('removes a run store when its enrollment completes or fails', async () => {
    const { store, state } = await opened();
    await state.apply(run, req('set', 'k', 1));
    await state.apply({ ...run, enrollmentId: 'enr2' }, req('set', 'k', 2));
    const ended = (id: string, failed: boolean): ConsumedRecord => {
      const env = envelope(
        { eventId: `end-${id}`, tenantId: 't1', aggregateId: id, occurredAt: 1 },
        failed ? { $case: 'enrollmentFailed', value: { enrollmentId: id, failedActionId: 'a', error: undefined } } : { $case: 'enrollmentCompleted', value: { enrollmentId: id, outputs: {} } },
      );
      return { ...toRecord(env), partition: 0, offset: 0 } as ConsumedRecord;
    };
    await removeEndedRunStores(store, [ended('enr1', false), ended('enr2', true)]);
    assert.deepEqual(await store.find(RUN_STORES, {}), []);
  });

  it("looks the batch's run stores up at once and deletes only those that exist, per tenant", async () => {
    const { store, state } = await opened();
    await state.apply(run, req('set', 'k', 1));
    await state.apply({ ...run, tenantId: 't2' }, req('set', 'k', 2));
    await state.apply({ ...run, enrollmentId: 'running' }, req('set', 'k', 3));
    const ended = (tenantId: string, id: string): ConsumedRecord => {
      const env = envelope({ eventId: `end-${tenantId}-${id}`, tenantId, aggregateId: id, occurredAt: 1 }, { $case: 'enrollmentCompleted', value: { enrollmentId: id, outputs: {} } });
      return { ...toRecord(env), partition: 0, offset: 0 } as ConsumedRecord;
    };
    const calls: string[] = [];
    const counted = new Proxy(store, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${String(name)} ${JSON.stringify(args[1])}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    // enr1 of t1 twice (a redelivery), three enrollments that never had a store, enr1 of t2.
    await removeEndedRunStores(counted, [ended('t1', 'enr1'), ended('t1', 'enr1'), ended('t1', 'none1'), ended('t1', 'none2'), ended('t2', 'none3'), ended('t2', 'enr1')]);
    assert.deepEqual(calls, ['getMany ["t1/enr1","t1/none1","t1/none2"]', 'delete "t1/enr1"', 'getMany ["t2/none3","t2/enr1"]', 'delete "t2/enr1"']);
    assert.deepEqual(
      (await store.find<{ enrollmentId: string }>(RUN_STORES, {})).map((d) => d.id),
      ['t1/running'],
      "a running enrollment's store stays",
    );
  });
});
