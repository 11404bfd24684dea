/**
 * The JsWorkflows run as pure functions: a `jsworkflows` action is a run of steps (methods of
 * the Workflow class), each its own execution. A step's result carries the next steps it asked
 * for (`api.scheduleNextStep`); each becomes a branch, scheduled as a `StepScheduled` timer. The
 * action is done (the workflow goes on, or completes) once every branch has finished.
 *
 * Which branches are open is the one piece of state a result alone does not tell: the
 * {@link RunState} of the enrollment, kept by the enrollment service (a projection of the log,
 * written under compare-and-set so concurrent results see each other). Every change to it is a
 * set union (branches started, branches finished), so applying a result twice changes nothing,
 * and a result's children are derived from the result itself: applying it starts them and
 * finishes its own branch in one write, so no other branch can see the run empty in between.
 *
 * A wait (`api.waitForEvent`) is a branch too: `WaitStarted` when its step's result is decided,
 * then either `WaitResumed` (its resume URL was called: its step is requested on that branch) or
 * `WaitTimedOut` (its timeout came: the branch finishes there). Which of the two happens is
 * decided once, outside (the enrollment service reserves one outcome per wait); both are keyed
 * by the execution the wait resumes, so a wait's events stay in order.
 */
import type { ActionContext, ErrorInfo, WaitRequest, WorkflowDefinition, WorkflowStep } from '@codestep/contracts';
import { deterministicId, type RunBounds } from '@codestep/core';
import { envelope, type Envelope } from '@codestep/events';
import { actionRequested, advance, enrollmentFailed, executionIdFor, onActionResult, requireContext, type RetryPolicy } from './enrollment.decider.ts';

/** The root branch: the run's `start`. */
export const ROOT_BRANCH = 'root';

/** The branches of one JsWorkflows action of an enrollment. */
export interface StepRun {
  started: string[];
  finished: string[];
}

/** What the enrollment service keeps per enrollment that runs JsWorkflows actions. */
export interface RunState {
  tenantId: string;
  /** By action index (`ActionContext.stepIndex`). */
  runs: Record<string, StepRun>;
  /** The event id of the result whose decision failed the enrollment: later results are ignored. */
  failedBy?: string;
  /** The manual retry round (`ActionContext.retryRound`) of that failure (absent: 0). */
  failedRound?: number;
  /** The latest manual retry of the enrollment (`EnrollmentRetried.round`; absent: none): a failure of an earlier round no longer ends the run. */
  retried?: number;
  /** The enrollment completed: nothing more is kept (its runs are dropped). */
  completed?: boolean;
}

export function emptyRunState(tenantId: string): RunState {
  return { tenantId, runs: {} };
}

/** A step's branch id (`root` for start). */
export function branchOf(ctx: ActionContext): string {
  return ctx.step?.branchId || ROOT_BRANCH;
}

/** The branch of the `index`-th next step scheduled by `executionId`. */
export function childBranchId(executionId: string, index: number): string {
  return deterministicId('br', executionId, index);
}

/**
 * Where `x` is in the sorted array `a`, or would be inserted. A run's branch sets are always
 * sorted (only {@link union} builds them), so a membership test is a binary search, not a scan:
 * a run of 10,000 branches decides each of its results without walking them.
 */
function sortedIndex(a: readonly string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const has = (a: readonly string[], x: string): boolean => a[sortedIndex(a, x)] === x;

/** Sorted, so that the same sets give the same document whatever order they were built in. `a` is returned as it is when it holds `b` already. */
function union(a: string[], b: string[]): string[] {
  if (b.length === 1) {
    const x = b[0]!;
    const i = sortedIndex(a, x);
    if (a[i] === x) return a;
    const out = a.slice();
    out.splice(i, 0, x);
    return out;
  }
  return b.every((x) => has(a, x)) ? a : [...new Set([...a, ...b])].sort();
}

/**
 * How many branches of a {@link StepRun} are open, kept beside the (immutable) runs this module
 * made: {@link withBranches} derives a run's count from its predecessor's in O(log n) instead of
 * comparing the two sets again, so deciding the 1,000th timeout of a run stays as cheap as the first.
 * A run read from the store (not made here) is counted once, on first use.
 */
const openCounts = new WeakMap<StepRun, number>();

/** `run` with `started` and then `finished` added (unions), its open count carried over when known. */
function withBranches(run: StepRun, started: string[], finished: string[]): StepRun {
  const next: StepRun = { started: union(run.started, started), finished: union(run.finished, finished) };
  if (next.started === run.started && next.finished === run.finished) return run;
  const before = openCounts.get(run);
  if (before !== undefined) {
    let open = before;
    for (const b of new Set(started)) if (!has(run.started, b) && !has(run.finished, b)) open++;
    for (const b of new Set(finished)) if (!has(run.finished, b) && has(next.started, b)) open--;
    openCounts.set(next, open);
  }
  return next;
}

/**
 * The run has failed, and no manual retry (`POST /v1/enrollments/{id}/retry`) came after that
 * failure. `round`: the retry round of the result being decided, proof of a retry even before its
 * `EnrollmentRetried` (another topic) has reached the state.
 */
export function runHasFailed(state: RunState, round = 0): boolean {
  return !!state.failedBy && (state.failedRound ?? 0) >= Math.max(state.retried ?? 0, round);
}

/** The state marked failed by `failedBy` in retry round `round` (the latest round's failure is kept, whatever the order). */
function failedIn(state: RunState, failedBy: string, round: number): RunState {
  if (state.failedBy && (state.failedRound ?? 0) >= round) return state;
  return round ? { ...state, failedBy, failedRound: round } : { ...state, failedBy };
}

/** The branches still running in `run`. */
export function openBranches(run: StepRun): number {
  let open = openCounts.get(run);
  if (open === undefined) {
    open = run.started.filter((b) => !has(run.finished, b)).length;
    openCounts.set(run, open);
  }
  return open;
}

/**
 * Applies an event to the run state (idempotent, and the same in any order): a step's success
 * finishes its branch and starts its children; the enrollment's failure marks the run failed
 * (by the result that decided it), its completion drops the runs. A failed step changes no
 * branch: it is retried on the same branch, or it fails the enrollment.
 */
export function applyToRunState(state: RunState, env: Envelope): RunState {
  const body = env.event;
  if (body.$case === 'enrollmentCompleted') return { tenantId: state.tenantId, runs: {}, completed: true };
  if (body.$case === 'enrollmentFailed') return failedIn(state, env.causationId || env.eventId, body.value.context?.retryRound ?? 0);
  // A manual retry runs the failed step again: the failure of an earlier round no longer ends the run.
  if (body.$case === 'enrollmentRetried') return (state.retried ?? 0) >= body.value.round ? state : { ...state, retried: body.value.round };
  if (state.completed) return state;
  // A wait that timed out ends its branch (its step never runs).
  if (body.$case === 'waitTimedOut') {
    const ctx = body.value.context;
    if (!ctx?.step) return state;
    const key = String(ctx.stepIndex);
    const run = state.runs[key] ?? { started: [ROOT_BRANCH], finished: [] };
    const next = withBranches(run, [branchOf(ctx)], [branchOf(ctx)]);
    return next === state.runs[key] ? state : { ...state, runs: { ...state.runs, [key]: next } };
  }
  if (body.$case !== 'actionSucceeded') return state;
  const ctx = body.value.context;
  if (!ctx?.step) return state;
  const key = String(ctx.stepIndex);
  const run = state.runs[key] ?? { started: [ROOT_BRANCH], finished: [] };
  const children = childBranches(body.value.executionId, body.value.nextSteps.length + body.value.waits.length);
  const next = withBranches(run, children, [branchOf(ctx)]);
  return next === state.runs[key] ? state : { ...state, runs: { ...state.runs, [key]: next } };
}

/** The branches a step's result starts: its next steps', then its waits' (in call order). */
function childBranches(executionId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => childBranchId(executionId, i));
}

/** What {@link decideStepResult} returns: the state to write and the events to append. */
export interface StepDecision {
  state: RunState;
  events: Envelope[];
}

/** The lifecycle hooks of the Workflow class: run once, at the end of the run, with a restricted `api`. */
export const WORKFLOW_HOOKS = ['onWorkflowComplete', 'onWorkflowError'] as const;
export type WorkflowHook = (typeof WORKFLOW_HOOKS)[number];

/**
 * Whether the action's code defines the hook (a method of that name). Read from the source: a
 * false positive costs one execution that finds no such method and does nothing.
 */
export function definesHook(code: string, hook: WorkflowHook): boolean {
  return new RegExp(`\\b${hook}\\s*\\(`).test(code);
}

/** What an `onWorkflowError` hook's step carries: the failure that ends the run, applied once the hook has run. */
interface HookErrorData {
  error: ErrorInfo;
  failedActionId: string;
  /** The result whose failure ended the run: the cause of the enrollment's failure (as without a hook). */
  failedBy: string;
}

/**
 * Decides what follows a JsWorkflows step's result, given the run state before it (the caller
 * writes `state` under compare-and-set and decides again if it lost). The end of a run goes
 * through its lifecycle hook when the class defines one: `onWorkflowComplete` once every branch
 * has finished, `onWorkflowError` on the failure that ends it; the hook's own result (whatever
 * it is: a hook that throws changes nothing) then completes or fails the run as decided. An
 * execution whose executor died under it (`EXECUTOR_LOST`), a step's or a hook's, is retried at
 * once the first time, its request asked for on the partition of the executor that reported it
 * (see `onActionResult`), so a lost step does not wait for the dead executor's partitions.
 */
export function decideStepResult(wf: WorkflowDefinition, tenantId: string, result: Envelope, retryPolicy: RetryPolicy, bounds: RunBounds, before: RunState, now: number): StepDecision {
  const body = result.event;
  if (body.$case === 'waitResumed' || body.$case === 'waitTimedOut') return decideWaitEnd(wf, tenantId, result, before, now);
  if (body.$case !== 'actionSucceeded' && body.$case !== 'actionFailed') return { state: before, events: [] };
  const ctx = requireContext(body.value.context);
  const hook = ctx.step?.name;
  // A hook whose executor died under it never ran: retried as any lost step is (at once the first
  // time, where the reporting executor consumes), rather than the run ending without it.
  if ((hook === 'onWorkflowComplete' || hook === 'onWorkflowError') && body.$case === 'actionFailed' && body.value.error?.code === 'EXECUTOR_LOST') {
    const retry = onActionResult(wf, tenantId, result, retryPolicy, now).filter((e) => e.event.$case === 'actionRetryScheduled');
    if (retry.length) return { state: before, events: retry };
  }
  if (hook === 'onWorkflowComplete') return { state: applyToRunState(before, result), events: advance(wf, tenantId, { ...ctx, step: undefined }, {}, result.eventId, now) };
  if (hook === 'onWorkflowError') {
    const { error, failedActionId, failedBy } = JSON.parse(ctx.step?.dataJson || '{}') as HookErrorData;
    return { state: applyToRunState(before, result), events: [enrollmentFailed(tenantId, { ...ctx, actionId: failedActionId }, error, failedBy || result.eventId, now)] };
  }
  const decision = decideStep(wf, tenantId, result, retryPolicy, bounds, before, now);
  const code = wf.actions[ctx.stepIndex]?.code ?? '';
  const [only] = decision.events;
  if (decision.events.length === 1 && only?.event.$case === 'enrollmentFailed' && definesHook(code, 'onWorkflowError')) {
    const failed = only.event.value;
    const data: HookErrorData = { error: failed.error!, failedActionId: failed.failedActionId, failedBy: result.eventId };
    return { state: decision.state, events: [hookRequest(wf, tenantId, ctx, 'onWorkflowError', data, result, now)] };
  }
  if (decision.completes && definesHook(code, 'onWorkflowComplete')) return { state: decision.state, events: [hookRequest(wf, tenantId, ctx, 'onWorkflowComplete', null, result, now)] };
  return decision;
}

/** The hook's execution (one per run: its branch and id are fixed, so deciding it twice appends it once). */
function hookRequest(wf: WorkflowDefinition, tenantId: string, ctx: ActionContext, hook: WorkflowHook, data: unknown, result: Envelope, now: number): Envelope {
  const step: WorkflowStep = { name: hook, branchId: `hook-${hook}`, depth: ctx.step?.depth ?? 0, dataJson: JSON.stringify(data), parentExecutionId: result.aggregateId };
  return actionRequested(wf, tenantId, { ...ctx, attempt: 1, firstAttemptAt: now, step }, result.eventId, now);
}

function decideStep(wf: WorkflowDefinition, tenantId: string, result: Envelope, retry: RetryPolicy, bounds: RunBounds, before: RunState, now: number): StepDecision & { completes?: boolean } {
  const body = result.event;
  if (body.$case !== 'actionSucceeded' && body.$case !== 'actionFailed') return { state: before, events: [] };
  const ctx = requireContext(body.value.context);
  const state = applyToRunState(before, result);
  // A run that failed ends there: what its other branches still report schedules nothing.
  const round = ctx.retryRound ?? 0;
  if ((runHasFailed(before, round) && before.failedBy !== result.eventId) || before.completed) return { state, events: [] };
  if (body.$case === 'actionFailed') {
    const events = onActionResult(wf, tenantId, result, retry, now);
    return { state: events.some((e) => e.event.$case === 'enrollmentFailed') ? failedIn(state, result.eventId, round) : state, events };
  }
  const succeeded = body.value;
  const run = state.runs[String(ctx.stepIndex)]!;
  const depth = (ctx.step?.depth ?? 0) + 1;
  const fail = (message: string): StepDecision => ({
    state: failedIn(state, result.eventId, round),
    events: [enrollmentFailed(tenantId, ctx, { code: 'WORKFLOW_LIMIT', message, retryable: false, retryAfterMs: 0 } satisfies ErrorInfo, result.eventId, now)],
  });
  if (succeeded.nextSteps.length || succeeded.waits.length) {
    if (depth > bounds.maxDepth) {
      const first = succeeded.nextSteps[0]?.action ?? `a wait for ${succeeded.waits[0]!.action}`;
      return fail(
        `step ${ctx.step?.name ?? 'start'} scheduled ${first} at chain depth ${depth}, over the cap of ${bounds.maxDepth} (CODESTEP_STEP_MAX_DEPTH): a step that schedules itself must stop at some point`,
      );
    }
    if (run.started.length - 1 > bounds.maxBranches) {
      return fail(`the run scheduled ${run.started.length - 1} steps in all, over the cap of ${bounds.maxBranches} (CODESTEP_STEP_MAX_BRANCHES)`);
    }
    // Due times count from when the step finished (its result's time), so a redelivered result schedules the same timers.
    const from = result.occurredAt;
    const scheduled = succeeded.nextSteps.map((next, i) => stepScheduled(tenantId, ctx, succeeded.executionId, i, next, depth, result.eventId, from, now));
    const waits = succeeded.waits.map((wait, i) => waitStarted(tenantId, ctx, succeeded.executionId, succeeded.nextSteps.length + i, wait, depth, result.eventId, from, now));
    return { state, events: [...scheduled, ...waits] };
  }
  if (openBranches(run) > 0) return { state, events: [] };
  return { state, events: advance(wf, tenantId, { ...ctx, step: undefined }, succeeded.outputFields, result.eventId, now), completes: true };
}

/**
 * A wait ended. Resumed: its step is requested on the wait's branch (unless the run has ended).
 * Timed out: its branch finishes there, and the run completes if it was the last one open
 * (through `onWorkflowComplete` when the class defines it).
 */
function decideWaitEnd(wf: WorkflowDefinition, tenantId: string, ended: Envelope, before: RunState, now: number): StepDecision {
  const body = ended.event;
  if (body.$case !== 'waitResumed' && body.$case !== 'waitTimedOut') return { state: before, events: [] };
  const ctx = requireContext(body.value.context);
  const state = applyToRunState(before, ended);
  if (runHasFailed(before, ctx.retryRound ?? 0) || before.completed) return { state, events: [] };
  const run = state.runs[String(ctx.stepIndex)];
  if (body.$case === 'waitResumed') {
    // A branch already finished (it cannot be: one outcome per wait) schedules nothing.
    if (run && has(run.finished, branchOf(ctx))) return { state, events: [] };
    return { state, events: [actionRequested(wf, tenantId, { ...ctx, attempt: 1, firstAttemptAt: ended.occurredAt }, ended.eventId, now)] };
  }
  if (run && openBranches(run) > 0) return { state, events: [] };
  const code = wf.actions[ctx.stepIndex]?.code ?? '';
  if (definesHook(code, 'onWorkflowComplete')) return { state, events: [hookRequest(wf, tenantId, ctx, 'onWorkflowComplete', null, ended, now)] };
  return { state, events: advance(wf, tenantId, { ...ctx, step: undefined }, {}, ended.eventId, now) };
}

/** The step a wait resumes: its execution id and context (attempt 1 on the wait's own branch). */
function waitStep(parent: ActionContext, parentExecutionId: string, index: number, wait: WaitRequest, depth: number, from: number): { executionId: string; context: ActionContext } {
  const branchId = childBranchId(parentExecutionId, index);
  const step: WorkflowStep = { name: wait.action, branchId, depth, dataJson: wait.payloadJson, parentExecutionId };
  return { executionId: executionIdFor(parent.enrollmentId, parent.stepIndex, 1, branchId, parent.retryRound ?? 0), context: { ...parent, attempt: 1, firstAttemptAt: from, step } };
}

function waitStarted(tenantId: string, parent: ActionContext, parentExecutionId: string, index: number, wait: WaitRequest, depth: number, causationId: string, from: number, now: number): Envelope {
  const dueAt = from + Math.max(0, wait.timeoutMs);
  const { executionId, context } = waitStep(parent, parentExecutionId, index, wait, depth, from);
  return envelope(
    { eventId: deterministicId('evt', 'wait-started', executionId), tenantId, aggregateId: executionId, occurredAt: now, causationId, correlationId: parent.enrollmentId },
    { $case: 'waitStarted', value: { executionId, context, dueAt, tokenHash: wait.tokenHash, redirectUrl: wait.redirectUrl, startedBy: parentExecutionId } },
  );
}

/**
 * A wait's data once resumed: its payload with the request's fields over it (an object), or the
 * request's data alone when the payload is not an object.
 */
export function mergeWaitData(payloadJson: string, data: Record<string, unknown>): unknown {
  const payload = JSON.parse(payloadJson || 'null') as unknown;
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
    ? { ...(payload as Record<string, unknown>), ...data }
    : Object.keys(data).length || payload === null
      ? data
      : payload;
}

/** The wait `started` was resumed with `dataJson` (the step's data, merged) by a `method` request. */
export function waitResumed(started: Envelope, dataJson: string, method: string, now: number): Envelope {
  if (started.event.$case !== 'waitStarted') throw new Error('not a WaitStarted');
  const { executionId, context } = started.event.value;
  const ctx = requireContext(context);
  const step = { ...ctx.step!, dataJson };
  return envelope(
    {
      eventId: deterministicId('evt', 'wait-resumed', executionId),
      tenantId: started.tenantId,
      aggregateId: executionId,
      occurredAt: now,
      causationId: started.eventId,
      correlationId: ctx.enrollmentId,
    },
    { $case: 'waitResumed', value: { executionId, context: { ...ctx, step }, method } },
  );
}

/** The wait `started` timed out (stamped with its due time, so deciding it twice gives the same record). */
export function waitTimedOut(started: Envelope): Envelope {
  if (started.event.$case !== 'waitStarted') throw new Error('not a WaitStarted');
  const { executionId, context, dueAt } = started.event.value;
  const ctx = requireContext(context);
  return envelope(
    {
      eventId: deterministicId('evt', 'wait-timed-out', executionId),
      tenantId: started.tenantId,
      aggregateId: executionId,
      occurredAt: dueAt,
      causationId: started.eventId,
      correlationId: ctx.enrollmentId,
    },
    { $case: 'waitTimedOut', value: { executionId, context: ctx, dueAt } },
  );
}

function stepScheduled(
  tenantId: string,
  parent: ActionContext,
  parentExecutionId: string,
  index: number,
  next: { action: string; delayMs: number; payloadJson: string },
  depth: number,
  causationId: string,
  from: number,
  now: number,
): Envelope {
  const branchId = childBranchId(parentExecutionId, index);
  const dueAt = from + Math.max(0, next.delayMs);
  const step: WorkflowStep = { name: next.action, branchId, depth, dataJson: next.payloadJson, parentExecutionId };
  const context: ActionContext = { ...parent, attempt: 1, firstAttemptAt: dueAt, step };
  // The id its request will have (a manual retry's round is part of it).
  const executionId = executionIdFor(parent.enrollmentId, parent.stepIndex, 1, branchId, parent.retryRound ?? 0);
  return envelope(
    { eventId: deterministicId('evt', 'step-scheduled', executionId), tenantId, aggregateId: executionId, occurredAt: now, causationId, correlationId: parent.enrollmentId },
    { $case: 'stepScheduled', value: { executionId, context, dueAt, scheduledBy: parentExecutionId } },
  );
}
