import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import type { EventLog, LogRecord } from '@codestep/event-log';
import { RETRY_LANE_HEADER, Topics, envelope, type Envelope } from '@codestep/events';
import { RETRY_TIMERS, applyToRetryTimers, ensureRetryTimers, type TimerDoc } from './retry-timers.projection.ts';
import { createRetryTimersScheduler } from './retry-timers.scheduler.ts';
import { decode, failingOnce, logger, openFixture, removeDir, stampGrants, type Fixture } from './testing.fixtures.ts';
import { firstRequest, retryScheduled, seedWorkflow } from './testing.steps.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import type { DocumentStore } from '@codestep/store';

const dueAt = (e: Envelope) => (e.event.$case === 'actionRetryScheduled' ? e.event.value.dueAt : NaN);
/** What was appended to the actions topic (a retry's request is in the retry lane too). */
const inActions = (f: Fixture) => f.eventLog.appended.filter((r) => r.topic === Topics.actions);

describe('retry timers scheduler', () => {
  let f: Fixture;
  let wf: WorkflowDefinition;
  let now: number;
  const dirs: string[] = [];
  const schedulerOver = (store: DocumentStore = f.store) =>
    createRetryTimersScheduler({ store, eventLog: f.eventLog, clock: () => now, logger, repository: createWorkflowRepository(store), stampGrants, timeOutWaits: async () => [] });

  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await ensureRetryTimers(f.store);
    await f.eventLog.ensureTopics([Topics.actions, Topics.actionRetries]);
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
    const fired = decode(inActions(f));
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

  it('given due retries, then each request is appended to the retry lane (in the partition of it that the retry asks for, if any) and to the actions topic by key, marked as laned', async () => {
    const routed = retryScheduled(wf, firstRequest(wf, 'routed'));
    if (routed.event.$case === 'actionRetryScheduled') routed.event.value.lanePartition = 2;
    const plain = retryScheduled(wf, firstRequest(wf, 'plain'));
    await applyToRetryTimers(f.store, [routed, plain]);
    now = Math.max(dueAt(routed), dueAt(plain));
    await schedulerOver().runDue();
    const seen = f.eventLog.appended.map((r) => [decode([r])[0]!.correlationId, r.topic, r.targetPartition, r.headers[RETRY_LANE_HEADER]]);
    assert.deepEqual(seen.sort(), [
      ['plain', Topics.actionRetries, undefined, undefined],
      ['plain', Topics.actions, undefined, 'retries'],
      ['routed', Topics.actionRetries, 2, undefined],
      ['routed', Topics.actions, undefined, 'retries'],
    ]);
    const [lane, copy] = [f.eventLog.appended.find((r) => r.topic === Topics.actionRetries)!, f.eventLog.appended.find((r) => r.topic === Topics.actions)!];
    assert.equal(decode([lane])[0]!.eventId, decode([copy])[0]!.eventId, 'one event, twice: consumers of both topics drop the second');
  });

  it('given a retry scheduled before the retry lane (a partition of the actions topic asked for), then its request is appended there only, as then', async () => {
    const legacy = retryScheduled(wf, firstRequest(wf, 'legacy'));
    if (legacy.event.$case === 'actionRetryScheduled') legacy.event.value.requestPartition = 1;
    await applyToRetryTimers(f.store, [legacy]);
    now = dueAt(legacy);
    await schedulerOver().runDue();
    assert.deepEqual(
      f.eventLog.appended.map((r) => [r.topic, r.targetPartition, r.headers[RETRY_LANE_HEADER]]),
      [[Topics.actions, 1, undefined]],
    );
  });

  it('given a crash between the append and marking the timer fired, when it fires again later, then the same record is appended', async () => {
    const scheduled = retryScheduled(wf, firstRequest(wf, 'enr1'));
    await applyToRetryTimers(f.store, [scheduled]);
    now = dueAt(scheduled) + 10;
    await assert.rejects(schedulerOver(failingOnce(f.store, 'getMany', RETRY_TIMERS)).runDue(), /injected crash/);
    now += 60_000;
    await schedulerOver().runDue();
    const values = inActions(f).map((r) => Buffer.from(r.value).toString('hex'));
    assert.equal(values.length, 2);
    assert.equal(values[0], values[1]);
    assert.equal(decode(inActions(f))[0]!.occurredAt, dueAt(scheduled), 'stamped with the due time');
    assert.equal((await f.store.get<TimerDoc>(RETRY_TIMERS, scheduled.eventId))?.doc.kind, 'fired');
  });

  it('given more due timers than a batch, then they fire a batch at a time (one append each), earliest first, the event loop getting a turn between batches', async () => {
    const scheduled = Array.from({ length: 450 }, (_, i) => retryScheduled(wf, firstRequest(wf, `enr${i}`), 100 + i));
    await applyToRetryTimers(f.store, scheduled);
    now = Math.max(...scheduled.map(dueAt));
    // A log that answers at once, so only the scheduler can give the event loop its turns.
    const appends: LogRecord[][] = [];
    const immediate: EventLog = { ...f.eventLog, append: async (records) => void appends.push(records) };
    const turns: number[] = [];
    const ticking = setInterval(() => turns.push(appends.length), 0);
    await createRetryTimersScheduler({
      store: f.store,
      eventLog: immediate,
      clock: () => now,
      logger,
      repository: createWorkflowRepository(f.store),
      stampGrants,
      timeOutWaits: async () => [],
      batchSize: 200,
    }).runDue();
    clearInterval(ticking);
    assert.deepEqual(
      appends.map((records) => records.length),
      [400, 400, 100],
      'two records per retry (the lane and the actions topic)',
    );
    const fired = appends
      .flat()
      .filter((r) => r.topic === Topics.actions)
      .flatMap((r) => decode([r]));
    assert.deepEqual(
      fired.map((e) => e.causationId),
      [...scheduled].sort((a, b) => dueAt(a) - dueAt(b)).map((e) => e.eventId),
    );
    assert.ok(
      turns.some((n) => n > 0 && n < 3),
      `a timer ran between batches (after appends: ${turns.join(', ')})`,
    );
    assert.equal((await f.store.find<TimerDoc>(RETRY_TIMERS, { where: { kind: 'retry' } })).length, 0);
  });

  it('given due waits and retries together, then the waits go to the wait commands as one batch and the retries are appended apart', async () => {
    const retry = retryScheduled(wf, firstRequest(wf, 'enr-r'));
    const request = firstRequest(wf, 'enr-w');
    if (request.event.$case !== 'actionRequested') return assert.fail('expected a request');
    const context = { ...request.event.value.context!, step: { name: 'never', branchId: 'br_w', depth: 1, dataJson: '{}', parentExecutionId: 'exe_start' } };
    const waits = [1, 2, 3].map((i) =>
      envelope(
        { eventId: `evt_wait_${i}`, tenantId: 't1', aggregateId: `exe_wait_${i}`, occurredAt: 100 },
        { $case: 'waitStarted', value: { executionId: `exe_wait_${i}`, context, dueAt: 150 + i, tokenHash: `h${i}`, redirectUrl: '', startedBy: 'exe_start' } },
      ),
    );
    await applyToRetryTimers(f.store, [retry, ...waits]);
    now = Math.max(dueAt(retry), 200);
    const batches: string[][] = [];
    await createRetryTimersScheduler({
      store: f.store,
      eventLog: f.eventLog,
      clock: () => now,
      logger,
      repository: createWorkflowRepository(f.store),
      stampGrants,
      timeOutWaits: async (started) => (batches.push(started.map((e) => e.eventId)), []),
    }).runDue();
    assert.deepEqual(batches, [waits.map((w) => w.eventId)]);
    assert.deepEqual(
      decode(inActions(f)).map((e) => e.causationId),
      [retry.eventId],
    );
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
