import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NextStep, WaitRequest, WorkflowDefinition } from '@codestep/contracts';
import { DEFAULT_STEP_POLICY, type RunBounds } from '@codestep/core';
import { envelope, type Envelope } from '@codestep/events';
import { DEFAULT_RETRY_POLICY, onRetryDue, retryFailedEnrollment, startEnrollment } from './enrollment.decider.ts';
import { applyToRunState, decideStepResult, definesHook, emptyRunState, mergeWaitData, waitResumed, waitTimedOut, type RunState, type StepDecision } from './workflow-run.decider.ts';
import { parseWorkflowInput } from './workflow-definition.ts';

const input = parseWorkflowInput({
  name: 'steps then a hubspot action',
  actions: [
    { id: 'flow', runtime: 'jsworkflows', code: 'class Workflow { async start() {} async next() {} }' },
    { id: 'after', code: 'exports.main = async () => ({ outputFields: {} })' },
  ],
});
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };
const BOUNDS: RunBounds = { maxDepth: DEFAULT_STEP_POLICY.maxDepth, maxBranches: DEFAULT_STEP_POLICY.maxBranches };

function started(): Envelope {
  const events = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr1', object: { objectType: 'WEBHOOK', objectId: 'h1', properties: {} }, portalId: 0 }, 1000);
  return events[1]!;
}

/** The success of the execution `request` asked for, scheduling `next`. */
function succeeded(request: Envelope, next: Array<Partial<NextStep>> = [], at = 2000, waitsFor: Array<Partial<WaitRequest>> = []): Envelope {
  if (request.event.$case !== 'actionRequested') throw new Error('not a request');
  const { executionId, context } = request.event.value;
  const nextSteps = next.map((n) => ({ action: n.action ?? 'next', delayMs: n.delayMs ?? 10_000, payloadJson: n.payloadJson ?? 'null' }));
  const waits = waitsFor.map((w, i) => ({
    action: w.action ?? 'next',
    payloadJson: w.payloadJson ?? '{}',
    timeoutMs: w.timeoutMs ?? 86_400_000,
    redirectUrl: w.redirectUrl ?? '',
    tokenHash: `hash-${i}`,
  }));
  return envelope(
    { eventId: `ok-${executionId}`, tenantId: 't1', aggregateId: executionId, occurredAt: at },
    { $case: 'actionSucceeded', value: { executionId, context, outputFields: {}, durationMs: 1, returnValueJson: '', nextSteps, waits, httpResponseJson: '' } },
  );
}

function failed(request: Envelope, retryable: boolean): Envelope {
  if (request.event.$case !== 'actionRequested') throw new Error('not a request');
  const { executionId, context } = request.event.value;
  return envelope(
    { eventId: `ko-${executionId}`, tenantId: 't1', aggregateId: executionId, occurredAt: 2000 },
    {
      $case: 'actionFailed',
      value: { executionId, context, error: { code: 'USER_CODE_ERROR', message: 'boom', retryable, retryAfterMs: 0 }, durationMs: 1, continueEnrollment: false, outputFields: {} },
    },
  );
}

/** The executor running `request` died under it: reported lost by a live one consuming `partition` of the retry lane. */
function lost(request: Envelope, partition: number): Envelope {
  const report = failed(request, true);
  if (report.event.$case !== 'actionFailed') throw new Error('not a failure');
  report.event.value.error = { code: 'EXECUTOR_LOST', message: 'the executor stopped', retryable: true, retryAfterMs: 0 };
  report.event.value.retryLanePartition = partition;
  return report;
}

/** Decides `result` against `state`, as the enrollment service does. */
function decide(state: RunState, result: Envelope, bounds = BOUNDS): StepDecision {
  return decideStepResult(wf, 't1', result, DEFAULT_RETRY_POLICY, bounds, state, 5000);
}

/** The scheduled steps' requests, when their timers fire. */
const fire = (scheduled: Envelope[]): Envelope[] => scheduled.flatMap((s) => onRetryDue(wf, 't1', s, 9000));
const cases = (events: Envelope[]) => events.map((e) => e.event.$case);

describe('JsWorkflows run decider', () => {
  it('given a JsWorkflows action, its first request runs start on the root branch', () => {
    const request = started();
    assert.equal(request.event.$case, 'actionRequested');
    if (request.event.$case === 'actionRequested') assert.deepEqual(request.event.value.context?.step, { name: 'start', branchId: '', depth: 0, dataJson: '', parentExecutionId: '' });
  });

  it('given start schedules nothing, the action is done and the workflow goes on', () => {
    const { events } = decide(emptyRunState('t1'), succeeded(started()));
    assert.deepEqual(cases(events), ['actionRequested']);
    if (events[0]?.event.$case === 'actionRequested') {
      assert.equal(events[0].event.value.context?.actionId, 'after');
      assert.equal(events[0].event.value.context?.step, undefined);
    }
  });

  it('given start fans out three steps, schedules each as its own branch, due after its delay from when start finished', () => {
    const start = succeeded(started(), [{ payloadJson: '{"i":0}' }, { payloadJson: '{"i":1}', delayMs: 60_000 }, { payloadJson: '{"i":2}' }]);
    const { state, events } = decide(emptyRunState('t1'), start);
    assert.deepEqual(cases(events), ['stepScheduled', 'stepScheduled', 'stepScheduled']);
    const values = events.map((e) => (e.event.$case === 'stepScheduled' ? e.event.value : undefined)!);
    assert.deepEqual(
      values.map((v) => [v.dueAt, v.context?.step?.name, v.context?.step?.depth, v.context?.step?.dataJson]),
      [
        [12_000, 'next', 1, '{"i":0}'],
        [62_000, 'next', 1, '{"i":1}'],
        [12_000, 'next', 1, '{"i":2}'],
      ],
    );
    assert.equal(new Set(values.map((v) => v.executionId)).size, 3);
    assert.equal(state.runs['0']?.started.length, 4);
  });

  it('given a fan-out, completes only when the last branch finishes, in any order', () => {
    const first = decide(emptyRunState('t1'), succeeded(started(), [{}, {}, {}]));
    const requests = fire(first.events);
    assert.deepEqual(cases(requests), ['actionRequested', 'actionRequested', 'actionRequested']);
    let state = first.state;
    const outcomes: string[][] = [];
    for (const request of [requests[2]!, requests[0]!, requests[1]!]) {
      const d = decide(state, succeeded(request));
      state = d.state;
      outcomes.push(cases(d.events));
    }
    assert.deepEqual(outcomes, [[], [], ['actionRequested']]);
  });

  it('given a result delivered twice, decides the same events and leaves the state as it was', () => {
    const first = decide(emptyRunState('t1'), succeeded(started(), [{}, {}]));
    const [a, b] = fire(first.events);
    const afterA = decide(first.state, succeeded(a!));
    const afterB = decide(afterA.state, succeeded(b!));
    const again = decide(afterB.state, succeeded(b!));
    assert.deepEqual(again.events, afterB.events);
    assert.deepEqual(again.state, afterB.state);
    const startAgain = decide(afterB.state, succeeded(started(), [{}, {}]));
    assert.deepEqual(startAgain.state, afterB.state);
  });

  it('given a chain deeper than the cap, fails the run with WORKFLOW_LIMIT naming the cap', () => {
    const bounds = { ...BOUNDS, maxDepth: 2 };
    let d = decide(emptyRunState('t1'), succeeded(started(), [{}]), bounds);
    let [request] = fire(d.events);
    d = decide(d.state, succeeded(request!, [{}]), bounds);
    assert.deepEqual(cases(d.events), ['stepScheduled']);
    [request] = fire(d.events);
    d = decide(d.state, succeeded(request!, [{}]), bounds);
    assert.deepEqual(cases(d.events), ['enrollmentFailed']);
    if (d.events[0]?.event.$case === 'enrollmentFailed') {
      assert.equal(d.events[0].event.value.error?.code, 'WORKFLOW_LIMIT');
      assert.match(d.events[0].event.value.error?.message ?? '', /chain depth 3, over the cap of 2 \(CODESTEP_STEP_MAX_DEPTH\)/);
    }
  });

  it('given more branches than the cap over the run, fails it with WORKFLOW_LIMIT', () => {
    const d = decide(emptyRunState('t1'), succeeded(started(), [{}, {}, {}]), { ...BOUNDS, maxBranches: 2 });
    assert.deepEqual(cases(d.events), ['enrollmentFailed']);
    if (d.events[0]?.event.$case === 'enrollmentFailed') assert.match(d.events[0].event.value.error?.message ?? '', /3 steps in all, over the cap of 2/);
  });

  it('given a branch fails for good, fails the run once; what other branches report later schedules nothing', () => {
    const first = decide(emptyRunState('t1'), succeeded(started(), [{}, {}]));
    const [a, b] = fire(first.events);
    const failure = decide(first.state, failed(a!, false));
    assert.deepEqual(cases(failure.events), ['enrollmentFailed']);
    const late = decide(failure.state, succeeded(b!, [{}]));
    assert.deepEqual(late.events, []);
    const redelivered = decide(late.state, failed(a!, false));
    assert.deepEqual(cases(redelivered.events), ['enrollmentFailed']);
  });

  it('given a branch fails retryably, retries it on its own branch and keeps the run open', () => {
    const first = decide(emptyRunState('t1'), succeeded(started(), [{}]));
    const [a] = fire(first.events);
    const d = decide(first.state, failed(a!, true));
    assert.deepEqual(cases(d.events), ['actionRetryScheduled']);
    const [retry] = fire(d.events);
    if (retry?.event.$case !== 'actionRequested' || a?.event.$case !== 'actionRequested') return assert.fail('expected requests');
    assert.equal(retry.event.value.context?.attempt, 2);
    assert.equal(retry.event.value.context?.step?.branchId, a.event.value.context?.step?.branchId);
    assert.notEqual(retry.event.value.executionId, a.event.value.executionId);
    assert.deepEqual(cases(decide(d.state, succeeded(retry)).events), ['actionRequested']);
  });

  it('given a failed run retried by hand, the retried step goes on, whether its EnrollmentRetried reached the state before its result or not', () => {
    const request = started();
    const failure = decide(emptyRunState('t1'), failed(request, false));
    const failedState = failure.events.reduce(applyToRunState, failure.state);
    assert.deepEqual(decide(failedState, succeeded(request)).events, [], 'a late result of the failed round runs nothing');
    if (request.event.$case !== 'actionRequested') return assert.fail('expected a request');
    const [retried, again] = retryFailedEnrollment(wf, request.event.value.context!, { tenantId: 't1' }, 3000);
    for (const state of [applyToRunState(failedState, retried!), failedState]) {
      const d = decide(state, succeeded(again!));
      assert.equal(d.events[0]?.event.$case === 'actionRequested' && d.events[0].event.value.context?.actionId, 'after');
    }
    // Replayed in either order, the failure and the retry give the same state.
    const log = [failed(request, false), ...failure.events, retried!];
    assert.deepEqual(log.reduce(applyToRunState, emptyRunState('t1')), [...log].reverse().reduce(applyToRunState, emptyRunState('t1')));
  });

  it('given a step whose executor died under it, retries it at once on its own branch, its request asked for where the reporting executor consumes', () => {
    const first = decide(emptyRunState('t1'), succeeded(started(), [{}]));
    const [a] = fire(first.events);
    const d = decide(first.state, lost(a!, 2));
    const [scheduled] = d.events;
    if (scheduled?.event.$case !== 'actionRetryScheduled') return assert.fail(`expected a retry, got ${cases(d.events).join()}`);
    assert.equal(scheduled.event.value.dueAt, 5000, 'no back-off for the first loss');
    assert.equal(scheduled.event.value.lanePartition, 2);
    const [retry] = fire(d.events);
    if (retry?.event.$case !== 'actionRequested' || a?.event.$case !== 'actionRequested') return assert.fail('expected requests');
    assert.equal(retry.event.value.context?.step?.branchId, a.event.value.context?.step?.branchId);
    const again = decide(d.state, lost(retry, 1));
    if (again.events[0]?.event.$case !== 'actionRetryScheduled') return assert.fail(`expected a retry, got ${cases(again.events).join()}`);
    assert.ok(again.events[0].event.value.dueAt > 5000, 'lost again, it backs off (it may be what kills executors)');
  });

  it('gives the same run state whatever order its events are applied in (replay)', () => {
    const first = decide(emptyRunState('t1'), succeeded(started(), [{}, {}]));
    const [a, b] = fire(first.events);
    const events = [succeeded(started(), [{}, {}]), succeeded(a!), succeeded(b!, [{}])];
    const forward = events.reduce(applyToRunState, emptyRunState('t1'));
    const backward = [...events].reverse().reduce(applyToRunState, emptyRunState('t1'));
    assert.deepEqual(forward, backward);
    const end = envelope({ eventId: 'done', tenantId: 't1', aggregateId: 'enr1', occurredAt: 1 }, { $case: 'enrollmentCompleted', value: { enrollmentId: 'enr1', outputs: {} } });
    assert.deepEqual([...events, end].reduce(applyToRunState, emptyRunState('t1')), [end, ...events].reduce(applyToRunState, emptyRunState('t1')));
  });

  describe('lifecycle hooks', () => {
    const hooked = (code: string): WorkflowDefinition => ({ ...wf, actions: [{ ...wf.actions[0]!, code }, wf.actions[1]!] });
    const withHooks = hooked('class Workflow { async start() {} async next() {} async onWorkflowComplete(api) {} async onWorkflowError(err, api) {} }');
    const decideIn = (w: WorkflowDefinition, state: RunState, result: Envelope) => decideStepResult(w, 't1', result, DEFAULT_RETRY_POLICY, BOUNDS, state, 5000);
    const requestOf = (e: Envelope | undefined) => (e?.event.$case === 'actionRequested' ? e.event.value : assert.fail(`expected a request, got ${e?.event.$case}`));

    it('finds a hook method in the source, not a mere mention', () => {
      assert.equal(definesHook('class Workflow { async onWorkflowComplete(api) {} }', 'onWorkflowComplete'), true);
      assert.equal(definesHook('class Workflow { onWorkflowError (err, api) {} }', 'onWorkflowError'), true);
      assert.equal(definesHook('class Workflow { async start() { /* onWorkflowCompleted */ } }', 'onWorkflowComplete'), false);
    });

    it('given the last branch finishes, runs onWorkflowComplete once, then goes on when it has run, even if it failed', () => {
      const first = decideIn(withHooks, emptyRunState('t1'), succeeded(started(), [{}]));
      const [branch] = fire(first.events);
      const last = decideIn(withHooks, first.state, succeeded(branch!));
      const hook = requestOf(last.events[0]);
      assert.equal(last.events.length, 1);
      assert.equal(hook.context?.step?.name, 'onWorkflowComplete');
      const again = decideIn(withHooks, last.state, succeeded(branch!));
      assert.equal(requestOf(again.events[0]).executionId, hook.executionId, 'decided twice, the same hook execution');
      const hookRequest = last.events[0]!;
      const afterHook = decideIn(withHooks, last.state, failed(hookRequest, true));
      assert.equal(requestOf(afterHook.events[0]).context?.actionId, 'after');
    });

    it('given a failure that ends the run, runs onWorkflowError with it, then fails the run with the original error', () => {
      const first = decideIn(withHooks, emptyRunState('t1'), succeeded(started(), [{}, {}]));
      const [a, b] = fire(first.events);
      const failure = decideIn(withHooks, first.state, failed(a!, false));
      const hook = requestOf(failure.events[0]);
      assert.equal(hook.context?.step?.name, 'onWorkflowError');
      assert.deepEqual(JSON.parse(hook.context?.step?.dataJson ?? ''), {
        error: { code: 'USER_CODE_ERROR', message: 'boom', retryable: false, retryAfterMs: 0 },
        failedActionId: 'flow',
        failedBy: failed(a!, false).eventId,
      });
      const late = decideIn(withHooks, failure.state, succeeded(b!));
      assert.deepEqual(late.events, [], 'another branch reporting later schedules nothing');
      const ended = decideIn(withHooks, late.state, succeeded(failure.events[0]!));
      assert.deepEqual(cases(ended.events), ['enrollmentFailed']);
      if (ended.events[0]?.event.$case === 'enrollmentFailed') {
        assert.equal(ended.events[0].event.value.error?.message, 'boom');
        assert.equal(ended.events[0].event.value.failedActionId, 'flow');
      }
      // Replayed from the log in either order, the run state is the one the decisions wrote.
      const log = [succeeded(started(), [{}, {}]), failed(a!, false), succeeded(b!), succeeded(failure.events[0]!), ...ended.events];
      assert.deepEqual(log.reduce(applyToRunState, emptyRunState('t1')), ended.state);
      assert.deepEqual([...log].reverse().reduce(applyToRunState, emptyRunState('t1')), ended.state);
    });

    it('given a hook whose executor died under it, retries it at once where the reporting executor consumes, then goes on once it ran', () => {
      const first = decideIn(withHooks, emptyRunState('t1'), succeeded(started()));
      const hookRequest = first.events[0]!;
      assert.equal(requestOf(hookRequest).context?.step?.name, 'onWorkflowComplete');
      const report = decideIn(withHooks, first.state, lost(hookRequest, 2));
      const [retry] = report.events;
      if (retry?.event.$case !== 'actionRetryScheduled') return assert.fail(`expected the hook's retry, got ${cases(report.events).join()}`);
      assert.equal(report.events.length, 1, 'the run neither goes on nor fails while its hook has not run');
      assert.equal(retry.event.value.dueAt, 5000, 'no back-off for the first loss');
      assert.equal(retry.event.value.lanePartition, 2);
      const [again] = onRetryDue(withHooks, 't1', retry, 5000);
      assert.equal(requestOf(again).context?.step?.name, 'onWorkflowComplete');
      assert.equal(requestOf(again).context?.attempt, 2);
      const done = decideIn(withHooks, report.state, succeeded(again!));
      assert.equal(requestOf(done.events[0]).context?.actionId, 'after');
    });

    it('given onWorkflowError lost, retries it at once and then fails the run with the original error', () => {
      const first = decideIn(withHooks, emptyRunState('t1'), succeeded(started(), [{}]));
      const [branch] = fire(first.events);
      const failure = decideIn(withHooks, first.state, failed(branch!, false));
      const report = decideIn(withHooks, failure.state, lost(failure.events[0]!, 1));
      const [retry] = report.events;
      if (retry?.event.$case !== 'actionRetryScheduled') return assert.fail(`expected the hook's retry, got ${cases(report.events).join()}`);
      assert.equal(retry.event.value.lanePartition, 1);
      const [again] = onRetryDue(withHooks, 't1', retry, 5000);
      const ended = decideIn(withHooks, report.state, succeeded(again!));
      assert.deepEqual(cases(ended.events), ['enrollmentFailed']);
      if (ended.events[0]?.event.$case === 'enrollmentFailed') assert.equal(ended.events[0].event.value.error?.message, 'boom');
    });

    it('given a class without hooks, ends the run directly', () => {
      const first = decideIn(wf, emptyRunState('t1'), succeeded(started()));
      assert.equal(requestOf(first.events[0]).context?.actionId, 'after');
    });
  });

  describe('waits (api.waitForEvent)', () => {
    const waitOf = (e: Envelope | undefined) => (e?.event.$case === 'waitStarted' ? e.event.value : assert.fail(`expected a WaitStarted, got ${e?.event.$case}`));
    const requestOf = (e: Envelope | undefined) => (e?.event.$case === 'actionRequested' ? e.event.value : assert.fail(`expected a request, got ${e?.event.$case}`));

    it('given start waits for an event, starts the wait on a branch of its own, timing out after its timeout from when start finished; the run stays open', () => {
      const { state, events } = decide(emptyRunState('t1'), succeeded(started(), [], 2000, [{ payloadJson: '{"orderId":7}', timeoutMs: 60_000 }]));
      assert.deepEqual(cases(events), ['waitStarted']);
      const wait = waitOf(events[0]);
      assert.deepEqual([wait.dueAt, wait.tokenHash, wait.context?.step?.name, wait.context?.step?.depth, wait.context?.step?.dataJson], [62_000, 'hash-0', 'next', 1, '{"orderId":7}']);
      assert.equal(events[0]!.aggregateId, wait.executionId, 'keyed by the execution it resumes');
      assert.equal(state.runs['0']?.started.length, 2);
    });

    it('given the wait is resumed, runs its step on the wait branch with the merged data; its success ends the action', () => {
      const first = decide(emptyRunState('t1'), succeeded(started(), [], 2000, [{ payloadJson: '{"orderId":7,"by":"nobody"}' }]));
      const resumed = waitResumed(first.events[0]!, JSON.stringify(mergeWaitData('{"orderId":7,"by":"nobody"}', { by: 'ada', approved: true })), 'POST', 3000);
      const d = decide(first.state, resumed);
      const request = requestOf(d.events[0]);
      assert.equal(request.executionId, waitOf(first.events[0]).executionId);
      assert.deepEqual(JSON.parse(request.context?.step?.dataJson ?? ''), { orderId: 7, by: 'ada', approved: true });
      assert.deepEqual(cases(decide(d.state, succeeded(d.events[0]!)).events), ['actionRequested'], 'the next action of the workflow');
    });

    it('given the wait times out, ends its branch there: the run goes on once no other branch is open', () => {
      const first = decide(emptyRunState('t1'), succeeded(started(), [{}], 2000, [{}]));
      assert.deepEqual(cases(first.events), ['stepScheduled', 'waitStarted']);
      const timedOut = waitTimedOut(first.events[1]!);
      assert.equal(timedOut.occurredAt, waitOf(first.events[1]).dueAt);
      const afterTimeout = decide(first.state, timedOut);
      assert.deepEqual(afterTimeout.events, [], 'the scheduled branch is still open');
      const [branch] = fire([first.events[0]!]);
      const last = decide(afterTimeout.state, succeeded(branch!));
      assert.equal(requestOf(last.events[0]).context?.actionId, 'after');
      // A redelivered timeout changes nothing, and the state is the same in any order.
      assert.deepEqual(decide(last.state, timedOut).state, last.state);
      const log = [succeeded(started(), [{}], 2000, [{}]), timedOut, succeeded(branch!)];
      assert.deepEqual([...log].reverse().reduce(applyToRunState, emptyRunState('t1')), last.state);
    });

    it('given the last wait times out and the class has onWorkflowComplete, runs the hook', () => {
      const w: WorkflowDefinition = { ...wf, actions: [{ ...wf.actions[0]!, code: 'class Workflow { async start() {} async next() {} async onWorkflowComplete(api) {} }' }, wf.actions[1]!] };
      const first = decideStepResult(w, 't1', succeeded(started(), [], 2000, [{}]), DEFAULT_RETRY_POLICY, BOUNDS, emptyRunState('t1'), 5000);
      const d = decideStepResult(w, 't1', waitTimedOut(first.events[0]!), DEFAULT_RETRY_POLICY, BOUNDS, first.state, 5000);
      assert.equal(requestOf(d.events[0]).context?.step?.name, 'onWorkflowComplete');
    });

    it('given the run failed meanwhile, a resumed wait runs nothing', () => {
      const first = decide(emptyRunState('t1'), succeeded(started(), [{}], 2000, [{}]));
      const [branch] = fire([first.events[0]!]);
      const failure = decide(first.state, failed(branch!, false));
      assert.deepEqual(decide(failure.state, waitResumed(first.events[1]!, '{}', 'GET', 3000)).events, []);
    });

    it('given 300 waits timing out in a shuffled order, some twice, the state sometimes read back from JSON, the run goes on exactly once, at the last', () => {
      const first = decide(
        emptyRunState('t1'),
        succeeded(
          started(),
          [],
          2000,
          Array.from({ length: 300 }, () => ({})),
        ),
      );
      assert.equal(first.events.length, 300);
      let seed = 7;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const order = first.events
        .map((e) => ({ e, k: random() }))
        .sort((a, b) => a.k - b.k)
        .map((x) => x.e);
      const deliveries = order.flatMap((e, i) => (i % 7 === 0 ? [e, e] : [e])).map(waitTimedOut);
      let state = first.state;
      const advanced: number[] = [];
      deliveries.forEach((timedOut, i) => {
        // A state read back from the store is a new object: its open branches are counted afresh.
        if (i % 50 === 0) state = JSON.parse(JSON.stringify(state)) as RunState;
        const d = decide(state, timedOut);
        state = d.state;
        if (d.events.length) advanced.push(i);
      });
      assert.deepEqual(advanced, [deliveries.length - 1]);
      assert.deepEqual(
        state,
        [
          ...deliveries,
          succeeded(
            started(),
            [],
            2000,
            Array.from({ length: 300 }, () => ({})),
          ),
        ]
          .reverse()
          .reduce(applyToRunState, emptyRunState('t1')),
      );
      assert.deepEqual(state.runs['0']?.finished, [...state.runs['0']!.started].sort());
    });

    it('merges the payload with the request data, the request winning', () => {
      assert.deepEqual(mergeWaitData('{"a":1,"b":1}', { b: 2 }), { a: 1, b: 2 });
      assert.deepEqual(mergeWaitData('null', { b: 2 }), { b: 2 });
      assert.deepEqual(mergeWaitData('{"a":1}', {}), { a: 1 });
    });
  });
});
