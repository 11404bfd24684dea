import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { DEFAULT_STEP_POLICY } from '@codestep/core';
import type { ConsumedRecord } from '@codestep/event-log';
import { envelope, toRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { applyToRunState, emptyRunState, waitTimedOut, type RunState } from '@codestep/workflows';
import { createActionResultsConsumer } from './action-results.consumer.ts';
import { RETRY_TIMERS, ensureRetryTimers, type TimerDoc } from './retry-timers.projection.ts';
import { decode, logger, openFixture, stampGrants, removeDir, type Fixture } from './testing.fixtures.ts';
import { RETRY, failedRetryably, firstRequest, retryScheduled, seedJsWorkflow, seedWorkflow, startedWaits, succeeded } from './testing.steps.ts';
import { WORKFLOW_RUNS } from './workflow-runs.projection.ts';
import { createWorkflowRepository } from './workflow.repository.ts';

const batchOf = (envs: Envelope[]): ConsumedRecord[] => envs.map((e, offset) => ({ ...toRecord(e), partition: 0, offset }));

describe('action results consumer', () => {
  let f: Fixture;
  let wf: WorkflowDefinition;
  let woken: number;
  const dirs: string[] = [];
  const consumer = (store: DocumentStore = f.store) =>
    createActionResultsConsumer({
      store,
      clock: () => 300,
      logger,
      retryPolicy: RETRY,
      runBounds: DEFAULT_STEP_POLICY,
      repository: createWorkflowRepository(store),
      onTimersScheduled: () => woken++,
      stampGrants,
    });

  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await ensureRetryTimers(f.store);
    wf = await seedWorkflow(f.store);
    woken = 0;
  });
  after(() => dirs.forEach(removeDir));

  it('given the first action succeeded, when the batch is handled, then the second action is requested', async () => {
    const out = decode(await consumer()(batchOf([succeeded(firstRequest(wf, 'enr1'))])));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.event.$case === 'actionRequested' && out[0]!.event.value.context?.actionId, 'b');
  });

  it('given the last action succeeded, when the batch is handled, then the enrollment completes', async () => {
    const [second] = decode(await consumer()(batchOf([succeeded(firstRequest(wf, 'enr1'))])));
    const out = decode(await consumer()(batchOf([succeeded(second!)])));
    assert.deepEqual(
      out.map((e) => e.event.$case),
      ['enrollmentCompleted'],
    );
  });

  it('given a retryable failure, when handled, then a retry is scheduled; and given that event, a timer is set and the scheduler woken', async () => {
    const requested = firstRequest(wf, 'enr1');
    const out = decode(await consumer()(batchOf([failedRetryably(requested)])));
    assert.deepEqual(
      out.map((e) => e.event.$case),
      ['actionRetryScheduled'],
    );
    assert.equal(woken, 0);
    const scheduled = retryScheduled(wf, requested, 300);
    assert.deepEqual(await consumer()(batchOf([scheduled])), []);
    assert.equal(woken, 1);
    assert.equal((await f.store.get<TimerDoc>(RETRY_TIMERS, scheduled.eventId))?.doc.kind, 'retry');
  });

  it("given results consumed from a partition, what follows about the same execution goes to that partition, and the next step's request to its own key's", async () => {
    const fromPartition2 = (e: Envelope) => batchOf([e]).map((r) => ({ ...r, partition: 2 }));
    const [retry] = await consumer()(fromPartition2(failedRetryably(firstRequest(wf, 'enr1'))));
    assert.deepEqual([decode([retry!])[0]!.event.$case, retry!.targetPartition], ['actionRetryScheduled', 2]);
    const [next] = await consumer()(fromPartition2(succeeded(firstRequest(wf, 'enr2'))));
    assert.ok(['enrollmentCompleted', 'actionRequested'].includes(decode([next!])[0]!.event.$case), 'the next step or the end');
    assert.equal(next!.targetPartition, undefined, 'another aggregate: its key decides');
  });

  it('given a result for an unknown workflow version or an event it does not decide on, when handled, then nothing follows', async () => {
    const requested = firstRequest({ ...wf, version: 9 }, 'enr1');
    const other = envelope(
      { eventId: 'e', tenantId: 't1', aggregateId: 'x', occurredAt: 1 },
      { $case: 'actionStarted', value: { executionId: 'x', context: undefined, executorId: 'ex', traceId: '' } },
    );
    assert.deepEqual(await consumer()(batchOf([succeeded(requested), requested, other])), []);
  });

  it("given the timeouts of two runs' waits interleaved over batches, then each batch writes each run's state once, and each run goes on exactly once, after its last timeout", async () => {
    const js = await seedJsWorkflow(f.store);
    let runWrites = 0;
    const counting = new Proxy(f.store, {
      get: (target, prop, receiver) =>
        prop === 'compareAndSet'
          ? (collection: string, ...rest: [string, number, unknown]) => ((runWrites += collection === WORKFLOW_RUNS ? 1 : 0), target.compareAndSet(collection, ...rest))
          : (Reflect.get(target, prop, receiver) as unknown),
    });
    const starts = [startedWaits(firstRequest(js, 'run-a'), 150), startedWaits(firstRequest(js, 'run-b'), 150)];
    const started = decode(await consumer(counting)(batchOf(starts)));
    assert.equal(started.filter((e) => e.event.$case === 'waitStarted').length, 300);
    assert.equal(runWrites, 2, 'one write per run for its start');
    const timeouts = started.slice(0, 150).flatMap((a, i) => [waitTimedOut(a), waitTimedOut(started[150 + i]!)]);
    const outcomes: string[][] = [];
    for (let i = 0; i < timeouts.length; i += 100) {
      const out = decode(await consumer(counting)(batchOf(timeouts.slice(i, i + 100))));
      outcomes.push(out.map((e) => `${e.event.$case} ${e.aggregateId}`));
    }
    assert.deepEqual(outcomes, [[], [], ['enrollmentCompleted run-a', 'enrollmentCompleted run-b']]);
    assert.equal(runWrites, 2 + 3 * 2, 'one write per run per batch');
    for (const [run, envs] of [
      ['run-a', [starts[0]!, ...timeouts.filter((_, i) => i % 2 === 0)]],
      ['run-b', [starts[1]!, ...timeouts.filter((_, i) => i % 2 === 1)]],
    ] as const) {
      assert.deepEqual((await f.store.get<RunState>(WORKFLOW_RUNS, run))?.doc, envs.reduce(applyToRunState, emptyRunState('t1')), 'the state the results give one at a time');
    }
    // Delivered again (after a crash before the commit): the same decisions, each once, and nothing written.
    const again = decode(await consumer(counting)(batchOf(timeouts.slice(200))));
    assert.deepEqual(
      again.map((e) => `${e.event.$case} ${e.aggregateId}`),
      outcomes[2],
    );
    assert.equal(runWrites, 8);
  });
});
