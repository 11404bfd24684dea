import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, beforeEach, describe, it } from 'node:test';
import type { ActionContext } from '@codestep/contracts';
import { isCodestepError } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { Topics, envelope, type Envelope } from '@codestep/events';
import { RETRY_TIMERS, applyToRetryTimers, ensureRetryTimers, type TimerDoc } from './retry-timers.projection.ts';
import { decode, logger, openFixture, removeDir, type Fixture } from './testing.fixtures.ts';
import { createWaitCommands, ensureWaitOutbox } from './wait.commands.ts';
import { ensureWorkflowRuns } from './workflow-runs.projection.ts';
import { WORKFLOW_WAITS, applyToWorkflowWaits, ensureWorkflowWaits, type WaitDoc } from './workflow-waits.projection.ts';

const TOKEN = `rt_${'a'.repeat(32)}`;
const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** A wait of enrollment `enr1`, started at 1000, timing out at `dueAt`, resuming `onApproved` with `{ orderId: 7 }`. */
function waitStarted(dueAt: number, token = TOKEN): Envelope {
  const context: ActionContext = {
    enrollmentId: 'enr1',
    workflowId: 'wf1',
    workflowVersion: 1,
    stepIndex: 0,
    actionId: 'flow',
    attempt: 1,
    object: undefined,
    priorOutputs: {},
    firstAttemptAt: 1000,
    trigger: undefined,
    limits: undefined,
    step: { name: 'onApproved', branchId: 'br_1', depth: 1, dataJson: '{"orderId":7,"by":null}', parentExecutionId: 'exe_start' },
  };
  return envelope(
    { eventId: `evt_wait_${token.slice(-4)}`, tenantId: 't1', aggregateId: `exe_wait_${token.slice(-4)}`, occurredAt: 1000, correlationId: 'enr1' },
    { $case: 'waitStarted', value: { executionId: `exe_wait_${token.slice(-4)}`, context, dueAt, tokenHash: hash(token), redirectUrl: '', startedBy: 'exe_start' } },
  );
}

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isCodestepError(error) ? error.code : String(error);
  }
};

describe('wait commands: a wait ends once, resumed or timed out', () => {
  let f: Fixture;
  let now: number;
  const dirs: string[] = [];
  const commands = (eventLog: EventLog = f.eventLog) => createWaitCommands({ store: f.store, eventLog, clock: () => now, logger, maxPayloadChars: 200, lookupMs: 50 });
  const kinds = () => decode(f.eventLog.appended).map((e) => e.event.$case);
  const waitDoc = async (started: Envelope) => (await f.store.get<WaitDoc>(WORKFLOW_WAITS, started.aggregateId))?.doc;

  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    for (const ensure of [ensureRetryTimers, ensureWorkflowWaits, ensureWaitOutbox, ensureWorkflowRuns]) await ensure(f.store);
    await f.eventLog.ensureTopics([Topics.actions]);
    now = 2000;
  });
  after(() => dirs.forEach(removeDir));

  async function start(dueAt = 10_000, token = TOKEN): Promise<Envelope> {
    const started = waitStarted(dueAt, token);
    await applyToWorkflowWaits(f.store, [started]);
    await applyToRetryTimers(f.store, [started]);
    return started;
  }

  it('given a waiting wait, when its URL is called, then WaitResumed carries the payload merged with the data, the wait is resumed and its timer done', async () => {
    const started = await start();
    const out = await commands().resume({ token: TOKEN, method: 'POST', dataJson: '{"by":"ada"}' });
    assert.deepEqual([out.tenantId, out.enrollmentId, out.executionId, out.action], ['t1', 'enr1', started.aggregateId, 'onApproved']);
    const [resumed] = decode(f.eventLog.appended);
    if (resumed?.event.$case !== 'waitResumed') return assert.fail('expected a WaitResumed');
    assert.deepEqual(JSON.parse(resumed.event.value.context?.step?.dataJson ?? ''), { orderId: 7, by: 'ada' });
    assert.equal(resumed.causationId, started.eventId);
    assert.deepEqual([(await waitDoc(started))?.state, (await waitDoc(started))?.method], ['resumed', 'POST']);
    assert.equal((await f.store.get<TimerDoc>(RETRY_TIMERS, started.eventId))?.doc.kind, 'fired');
  });

  it('given a resumed wait, when its URL is called again, then WAIT_ALREADY_RESUMED and no second outcome; its timeout appends nothing new', async () => {
    const started = await start();
    await commands().resume({ token: TOKEN, method: 'POST', dataJson: '{}' });
    assert.equal(await codeOf(commands().resume({ token: TOKEN, method: 'GET', dataJson: '{}' })), 'WAIT_ALREADY_RESUMED');
    now = 20_000;
    await commands().timeOut(started);
    assert.deepEqual(new Set(kinds()), new Set(['waitResumed']));
    assert.equal(new Set(f.eventLog.appended.map((r) => r.id)).size, 1, 'the one WaitResumed, appended again');
  });

  it('given five calls at once, then exactly one resumes', async () => {
    await start();
    const codes = await Promise.all(Array.from({ length: 5 }, (_, i) => codeOf(commands().resume({ token: TOKEN, method: 'POST', dataJson: JSON.stringify({ i }) }))));
    assert.deepEqual(codes.sort(), ['WAIT_ALREADY_RESUMED', 'WAIT_ALREADY_RESUMED', 'WAIT_ALREADY_RESUMED', 'WAIT_ALREADY_RESUMED', 'resolved']);
    assert.equal(new Set(f.eventLog.appended.map((r) => r.id)).size, 1);
  });

  it('given a wait whose timeout came, then it ends as WaitTimedOut at its due time and its URL answers WAIT_EXPIRED', async () => {
    const started = await start(5000);
    now = 5000;
    const [timedOut] = await commands().timeOut(started);
    assert.equal(timedOut?.event.$case, 'waitTimedOut');
    assert.equal(timedOut?.occurredAt, 5000);
    assert.equal((await waitDoc(started))?.state, 'timed_out');
    assert.equal(await codeOf(commands().resume({ token: TOKEN, method: 'POST', dataJson: '{}' })), 'WAIT_EXPIRED');
  });

  it('given many waits due at once, one of them resumed first, when timed out as a batch, then one append holds each outcome once, the resumed one as it was, and every wait ends', async () => {
    const tokens = Array.from({ length: 40 }, (_, i) => `rt_${'c'.repeat(28)}${String(i).padStart(4, '0')}`);
    const starteds = [];
    for (const token of tokens) starteds.push(await start(5000, token));
    await commands().resume({ token: tokens[3]!, method: 'POST', dataJson: '{}' });
    let appends = 0;
    const counting: EventLog = { ...f.eventLog, append: async (records) => (appends++, f.eventLog.append(records)) };
    now = 5000;
    const out = await commands(counting).timeOutMany(starteds);
    assert.equal(appends, 1);
    assert.deepEqual(
      out.map((e) => [e.aggregateId, e.event.$case]),
      starteds.map((s, i) => [s.aggregateId, i === 3 ? 'waitResumed' : 'waitTimedOut']),
    );
    assert.deepEqual(new Set(await Promise.all(starteds.map(async (s) => (await waitDoc(s))?.state))), new Set(['timed_out', 'resumed']));
    assert.deepEqual(new Set(await Promise.all(starteds.map(async (s) => (await f.store.get<TimerDoc>(RETRY_TIMERS, s.eventId))?.doc.kind))), new Set(['fired']));
    // Again (a crash before the timers were marked fired): the very same records, nothing decided anew.
    const again = await commands().timeOutMany(starteds);
    assert.deepEqual(
      again.map((e) => e.eventId),
      out.map((e) => e.eventId),
    );
    assert.equal(await codeOf(commands().resume({ token: tokens[0]!, method: 'POST', dataJson: '{}' })), 'WAIT_EXPIRED');
  });

  it('given a wait past its due time whose timer has not fired yet, then its URL already answers WAIT_EXPIRED and nothing is appended', async () => {
    await start(3000);
    now = 3000;
    assert.equal(await codeOf(commands().resume({ token: TOKEN, method: 'POST', dataJson: '{}' })), 'WAIT_EXPIRED');
    assert.deepEqual(kinds(), []);
  });

  it('given a crash between reserving the resume and appending it, then the next call appends it (and answers 409), as would the timeout', async () => {
    const started = await start();
    let crash = true;
    const crashing: EventLog = {
      ...f.eventLog,
      append: async (records) => {
        if (crash) {
          crash = false;
          throw new Error('injected crash before the append');
        }
        await f.eventLog.append(records);
      },
    };
    assert.match(await codeOf(commands(crashing).resume({ token: TOKEN, method: 'POST', dataJson: '{"by":"ada"}' })), /injected crash/);
    assert.deepEqual(kinds(), []);
    assert.equal(await codeOf(commands().resume({ token: TOKEN, method: 'POST', dataJson: '{"by":"bob"}' })), 'WAIT_ALREADY_RESUMED');
    const [resumed] = decode(f.eventLog.appended);
    if (resumed?.event.$case !== 'waitResumed') return assert.fail('expected the reserved WaitResumed');
    assert.equal(JSON.parse(resumed.event.value.context?.step?.dataJson ?? '').by, 'ada', "the first call's data, as reserved");
    assert.equal((await waitDoc(started))?.state, 'resumed');
  });

  it('refuses data over the cap, data that is not an object, and a token no wait has (after waiting a little for it)', async () => {
    await start();
    assert.equal(await codeOf(commands().resume({ token: TOKEN, method: 'POST', dataJson: JSON.stringify({ x: 'x'.repeat(300) }) })), 'PAYLOAD_TOO_LARGE');
    assert.equal(await codeOf(commands().resume({ token: TOKEN, method: 'POST', dataJson: '[1]' })), 'INVALID_ARGUMENT');
    assert.equal(await codeOf(commands().resume({ token: `rt_${'b'.repeat(32)}`, method: 'POST', dataJson: '{}' })), 'NOT_FOUND');
    assert.equal(await codeOf(commands().resume({ token: 'not-a-token', method: 'POST', dataJson: '{}' })), 'NOT_FOUND');
    assert.deepEqual(kinds(), []);
  });

  it('waits for a wait whose WaitStarted arrives just after its URL was called', async () => {
    const later = waitStarted(10_000);
    setTimeout(() => void applyToWorkflowWaits(f.store, [later]), 20);
    const out = await createWaitCommands({ store: f.store, eventLog: f.eventLog, clock: () => now, logger, maxPayloadChars: 200, lookupMs: 2000 }).resume({
      token: TOKEN,
      method: 'GET',
      dataJson: '{}',
    });
    assert.equal(out.executionId, later.aggregateId);
  });
});
