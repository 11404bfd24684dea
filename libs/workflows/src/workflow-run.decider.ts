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
 */
import type { ActionContext, ErrorInfo, WorkflowDefinition, WorkflowStep } from '@codestep/contracts';
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

/** Sorted, so that the same sets give the same document whatever order they were built in. */
const union = (a: string[], b: string[]): string[] => (b.every((x) => a.includes(x)) ? a : [...new Set([...a, ...b])].sort());

/** The branches still running in `run`. */
export function openBranches(run: StepRun): number {
  const finished = new Set(run.finished);
  return run.started.filter((b) => !finished.has(b)).length;
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
  if (body.$case === 'enrollmentFailed') return state.failedBy ? state : { ...state, failedBy: env.causationId || env.eventId };
  if (body.$case !== 'actionSucceeded' || state.completed) return state;
  const ctx = body.value.context;
  if (!ctx?.step) return state;
  const key = String(ctx.stepIndex);
  const run = state.runs[key] ?? { started: [ROOT_BRANCH], finished: [] };
  const children = body.value.nextSteps.map((_, i) => childBranchId(body.value.executionId, i));
  const next: StepRun = { started: union(run.started, children), finished: union(run.finished, [branchOf(ctx)]) };
  return { ...state, runs: { ...state.runs, [key]: next } };
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
  if ((before.failedBy && before.failedBy !== result.eventId) || before.completed) return { state, events: [] };
  if (body.$case === 'actionFailed') {
    const events = onActionResult(wf, tenantId, result, retry, now);
    return { state: events.some((e) => e.event.$case === 'enrollmentFailed') ? { ...state, failedBy: result.eventId } : state, events };
  }
  const succeeded = body.value;
  const run = state.runs[String(ctx.stepIndex)]!;
  const depth = (ctx.step?.depth ?? 0) + 1;
  const fail = (message: string): StepDecision => ({
    state: { ...state, failedBy: result.eventId },
    events: [enrollmentFailed(tenantId, ctx, { code: 'WORKFLOW_LIMIT', message, retryable: false, retryAfterMs: 0 } satisfies ErrorInfo, result.eventId, now)],
  });
  if (succeeded.nextSteps.length) {
    if (depth > bounds.maxDepth) {
      return fail(
        `step ${ctx.step?.name ?? 'start'} scheduled ${succeeded.nextSteps[0]!.action} at chain depth ${depth}, over the cap of ${bounds.maxDepth} (CODESTEP_STEP_MAX_DEPTH): a step that schedules itself must stop at some point`,
      );
    }
    if (run.started.length - 1 > bounds.maxBranches) {
      return fail(`the run scheduled ${run.started.length - 1} steps in all, over the cap of ${bounds.maxBranches} (CODESTEP_STEP_MAX_BRANCHES)`);
    }
    // Due times count from when the step finished (its result's time), so a redelivered result schedules the same timers.
    return { state, events: succeeded.nextSteps.map((next, i) => stepScheduled(tenantId, ctx, succeeded.executionId, i, next, depth, result.eventId, result.occurredAt, now)) };
  }
  if (openBranches(run) > 0) return { state, events: [] };
  return { state, events: advance(wf, tenantId, { ...ctx, step: undefined }, succeeded.outputFields, result.eventId, now), completes: true };
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
  const executionId = executionIdFor(parent.enrollmentId, parent.stepIndex, 1, branchId);
  return envelope(
    { eventId: deterministicId('evt', 'step-scheduled', executionId), tenantId, aggregateId: executionId, occurredAt: now, causationId, correlationId: parent.enrollmentId },
    { $case: 'stepScheduled', value: { executionId, context, dueAt, scheduledBy: parentExecutionId } },
  );
}
