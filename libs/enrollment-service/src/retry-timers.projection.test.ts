import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { envelope, toRecord, type Envelope } from '@codestep/events';
import { onRetryDue } from '@codestep/workflows';
import type { WorkflowDefinition } from '@codestep/contracts';
import { RETRY_TIMERS, applyToRetryTimers, retryTimersProjection, type TimerDoc } from './retry-timers.projection.ts';
import { openFixture, removeDir, type Fixture } from './testing.fixtures.ts';
import { firstRequest, retryScheduled, seedWorkflow } from './testing.steps.ts';

const records = (envs: Envelope[]) => envs.map((e, offset) => ({ ...toRecord(e), partition: 0, offset }));

describe('retry timers projection', () => {
  let f: Fixture;
  let wf: WorkflowDefinition;
  let scheduled: Envelope;
  let retried: Envelope;
  const dirs: string[] = [];
  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await retryTimersProjection.ensure(f.store);
    wf = await seedWorkflow(f.store);
    scheduled = retryScheduled(wf, firstRequest(wf, 'enr1'));
    [retried] = onRetryDue(wf, 't1', scheduled, 5_000) as [Envelope];
  });
  after(() => dirs.forEach(removeDir));

  it('given a scheduled retry, when applied, then a pending timer holds it until its due time', async () => {
    await retryTimersProjection.apply(f.store, records([scheduled]));
    const timer = await f.store.get<TimerDoc>(RETRY_TIMERS, scheduled.eventId);
    assert.equal(timer?.doc.kind, 'retry');
    assert.equal(timer?.doc.kind === 'retry' && timer.doc.dueAt, scheduled.event.$case === 'actionRetryScheduled' && scheduled.event.value.dueAt);
  });

  it("given the retry's request after it, when applied, then the timer is fired", async () => {
    await retryTimersProjection.apply(f.store, records([scheduled, retried]));
    assert.deepEqual((await f.store.get<TimerDoc>(RETRY_TIMERS, scheduled.eventId))?.doc, { kind: 'fired', tenantId: 't1' });
  });

  it('given the two events in the other order or delivered again, when applied, then the timer ends fired all the same', async () => {
    await retryTimersProjection.apply(f.store, records([retried, scheduled]));
    await retryTimersProjection.apply(f.store, records([scheduled]));
    assert.deepEqual((await f.store.get<TimerDoc>(RETRY_TIMERS, scheduled.eventId))?.doc, { kind: 'fired', tenantId: 't1' });
  });

  it('given the timer set and fired by two writers at once (the scheduler and the consumer, or two replicas), then it ends fired whichever lands first', async () => {
    for (const order of [
      [[scheduled], [retried]],
      [[retried], [scheduled]],
    ]) {
      await f.store.clear(RETRY_TIMERS);
      await Promise.all(order.map((envs) => applyToRetryTimers(f.store, envs)));
      assert.deepEqual((await f.store.get<TimerDoc>(RETRY_TIMERS, scheduled.eventId))?.doc, { kind: 'fired', tenantId: 't1' });
    }
  });

  it('given a batch of 300 timers set and some fired in it, then each is read and written once, and the batch says a timer was set', async () => {
    const requests = Array.from({ length: 300 }, (_, i) => firstRequest(wf, `enr-${i}`));
    const timers = requests.map((r) => retryScheduled(wf, r));
    const fired = timers.filter((_, i) => i % 3 === 0).flatMap((t) => onRetryDue(wf, 't1', t, 5_000));
    const calls: string[] = [];
    const counting = new Proxy(f.store, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (...args: unknown[]) => (calls.push(String(prop)), (value as (...a: unknown[]) => unknown).apply(target, args)) : value;
      },
    });
    assert.equal(await applyToRetryTimers(counting, [...timers, ...fired]), true);
    assert.deepEqual(calls, ['getMany', 'writeVersioned']);
    const kinds = await Promise.all(timers.map(async (t) => (await f.store.get<TimerDoc>(RETRY_TIMERS, t.eventId))?.doc.kind));
    assert.deepEqual(
      kinds,
      timers.map((_, i) => (i % 3 === 0 ? 'fired' : 'retry')),
    );
    assert.equal(await applyToRetryTimers(f.store, timers), false, 'set again: nothing new');
  });

  it('given first attempts only, when applied, then no timer is written', async () => {
    await retryTimersProjection.apply(f.store, records([firstRequest(wf, 'enr2')]));
    assert.equal((await f.store.find(RETRY_TIMERS, {})).length, 0);
  });

  it('given a JsWorkflows step scheduled, holds it as a pending timer until its request fires it; a hook request leaves no marker', async () => {
    const request = firstRequest(wf, 'enr3');
    if (request.event.$case !== 'actionRequested') return assert.fail('expected a request');
    const context = { ...request.event.value.context!, step: { name: 'later', branchId: 'br_1', depth: 1, dataJson: '{}', parentExecutionId: request.event.value.executionId } };
    const step = envelope(
      { eventId: 'evt-step', tenantId: 't1', aggregateId: 'exe-step', occurredAt: 1_000 },
      { $case: 'stepScheduled', value: { executionId: 'exe-step', context, dueAt: 61_000, scheduledBy: request.event.value.executionId } },
    );
    await retryTimersProjection.apply(f.store, records([step]));
    assert.deepEqual((await f.store.get<TimerDoc>(RETRY_TIMERS, 'evt-step'))?.doc, { kind: 'retry', tenantId: 't1', dueAt: 61_000, envelope: JSON.stringify(step) });
    const [due] = onRetryDue(wf, 't1', step, 61_000);
    await retryTimersProjection.apply(f.store, records([due!]));
    assert.deepEqual((await f.store.get<TimerDoc>(RETRY_TIMERS, 'evt-step'))?.doc, { kind: 'fired', tenantId: 't1' });
    const hook = envelope(
      { eventId: 'evt-hook', tenantId: 't1', aggregateId: 'exe-hook', occurredAt: 1_000, causationId: 'evt-result' },
      {
        $case: 'actionRequested',
        value: {
          executionId: 'exe-hook',
          context: { ...context, step: { ...context.step, name: 'onWorkflowComplete', branchId: 'hook-onWorkflowComplete' } },
          inputFields: {},
          callbackId: '',
          limits: undefined,
        },
      },
    );
    await retryTimersProjection.apply(f.store, records([hook]));
    assert.equal(await f.store.get(RETRY_TIMERS, 'evt-result'), null);
  });
});
