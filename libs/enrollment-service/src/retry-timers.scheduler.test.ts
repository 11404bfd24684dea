import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { Topics, type Envelope } from '@codestep/events';
import { RETRY_TIMERS, applyToRetryTimers, ensureRetryTimers, type TimerDoc } from './retry-timers.projection.ts';
import { createRetryTimersScheduler } from './retry-timers.scheduler.ts';
import { decode, failingOnce, logger, openFixture, removeDir, stampGrants, type Fixture } from './testing.fixtures.ts';
import { firstRequest, retryScheduled, seedWorkflow } from './testing.steps.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import type { DocumentStore } from '@codestep/store';

const dueAt = (e: Envelope) => (e.event.$case === 'actionRetryScheduled' ? e.event.value.dueAt : NaN);

describe('retry timers scheduler', () => {
  let f: Fixture;
  let wf: WorkflowDefinition;
  let now: number;
  const dirs: string[] = [];
  const schedulerOver = (store: DocumentStore = f.store) =>
    createRetryTimersScheduler({ store, eventLog: f.eventLog, clock: () => now, logger, repository: createWorkflowRepository(store), stampGrants, timeOutWait: async () => [] });

  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await ensureRetryTimers(f.store);
    await f.eventLog.ensureTopics([Topics.actions]);
    wf = await seedWorkflow(f.store);
  });
  after(() => dirs.forEach(removeDir));

  it('given timers due at different times, when the clock passes some, then those fire earliest first and the rest wait', async () => {
    const late = retryScheduled(wf, firstRequest(wf, 'late'), 900);
    const early = retryScheduled(wf, firstRequest(wf, 'early'), 100);
    const later = retryScheduled(wf, firstRequest(wf, 'later'), 5_000);
    await applyToRetryTimers(f.store, [late, early, later]);
    now = dueAt(late);
    await schedulerOver().runDue();
    const fired = decode(f.eventLog.appended);
    assert.deepEqual(
      fired.map((e) => e.correlationId),
      ['early', 'late'],
    );
    assert.deepEqual(
      fired.map((e) => e.causationId),
      [early.eventId, late.eventId],
    );
    assert.equal((await f.store.get<TimerDoc>(RETRY_TIMERS, later.eventId))?.doc.kind, 'retry');
    assert.equal((await f.store.get<TimerDoc>(RETRY_TIMERS, early.eventId))?.doc.kind, 'fired');
  });

  it('given a retry that asks for a partition (its execution reported lost by a live executor), then its request is appended there, and one that does not asks for none', async () => {
    const routed = retryScheduled(wf, firstRequest(wf, 'routed'));
    if (routed.event.$case === 'actionRetryScheduled') routed.event.value.requestPartition = 2;
    const plain = retryScheduled(wf, firstRequest(wf, 'plain'));
    await applyToRetryTimers(f.store, [routed, plain]);
    now = Math.max(dueAt(routed), dueAt(plain));
    await schedulerOver().runDue();
    const byEnrollment = new Map(f.eventLog.appended.map((r) => [decode([r])[0]!.correlationId, r.targetPartition]));
    assert.deepEqual(Object.fromEntries(byEnrollment), { routed: 2, plain: undefined });
  });

  it('given a crash between the append and marking the timer fired, when it fires again later, then the same record is appended', async () => {
    const scheduled = retryScheduled(wf, firstRequest(wf, 'enr1'));
    await applyToRetryTimers(f.store, [scheduled]);
    now = dueAt(scheduled) + 10;
    await assert.rejects(schedulerOver(failingOnce(f.store, 'get', RETRY_TIMERS)).runDue(), /injected crash/);
    now += 60_000;
    await schedulerOver().runDue();
    const values = f.eventLog.appended.map((r) => Buffer.from(r.value).toString('hex'));
    assert.equal(values.length, 2);
    assert.equal(values[0], values[1]);
    assert.equal(decode(f.eventLog.appended)[0]!.occurredAt, dueAt(scheduled), 'stamped with the due time');
    assert.equal((await f.store.get<TimerDoc>(RETRY_TIMERS, scheduled.eventId))?.doc.kind, 'fired');
  });

  it('given a started scheduler, when a timer is due, then it fires without being asked', async () => {
    const scheduled = retryScheduled(wf, firstRequest(wf, 'enr1'));
    await applyToRetryTimers(f.store, [scheduled]);
    now = dueAt(scheduled);
    const scheduler = schedulerOver();
    scheduler.start(10);
    const deadline = Date.now() + 5_000;
    while (f.eventLog.appended.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await scheduler.stop();
    assert.equal(decode(f.eventLog.appended)[0]?.event.$case, 'actionRequested');
  });
});
