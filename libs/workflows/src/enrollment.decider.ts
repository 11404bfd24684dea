/**
 * The enrollment step machine, as pure functions: given the (immutable) workflow version and
 * one event, which events follow. Every action event carries its `ActionContext` (step, attempt,
 * earlier outputs), so no other state is needed, and every id is derived from its inputs, so a
 * redelivered input yields the very same events (downstream deduplicates by event id).
 */
import type {
  ActionContext,
  ActionDefinition,
  CrmObject,
  CrmPropertiesRead,
  ErrorInfo,
  FieldMap,
  FieldValue,
  HubSpotOrigin,
  LimitPolicy,
  TriggerPayload,
  WorkflowDefinition,
} from '@codestep/contracts';
import { CodestepError, deterministicId } from '@codestep/core';
import { envelope, fieldValue, type Envelope, type EventOf } from '@codestep/events';
import { effectiveLimits } from './execution-limits.ts';

export interface RetryPolicy {
  /** Delay before the first retry, ms. @default 60000 (HubSpot: 1 minute) */
  initialDelayMs: number;
  /** Growth factor between retries. @default 2 */
  multiplier: number;
  /** Longest delay between two attempts, ms. @default 28800000 (8 hours) */
  maxDelayMs: number;
  /** Give up when the next attempt would start this long after the first, ms. @default 259200000 (3 days) */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 60_000,
  multiplier: 2,
  maxDelayMs: 8 * 3600_000,
  giveUpAfterMs: 3 * 24 * 3600_000,
};

export interface StartCommand {
  tenantId: string;
  enrollmentId: string;
  object: CrmObject;
  portalId: number;
  /** A webhook's payload (JsWorkflows `data`/`headers`), carried to every action. */
  trigger?: TriggerPayload | undefined;
  /**
   * The tenant's limits (resolved within the operator's bounds), carried by every action event of
   * the enrollment so each request states the limits it runs with. Unset: the executor's own.
   */
  limits?: LimitPolicy | undefined;
  /** The caller's idempotency key, carried by EnrollmentStarted (the request records are its projection). */
  requestId?: string | undefined;
  /** Where in HubSpot the enrollment came from (the app's workflow action or a webhook), carried by every event. */
  hubspot?: HubSpotOrigin | undefined;
  /** A dry run (`?dryRun=true`): marked on EnrollmentStarted and on every action's context. */
  dryRun?: boolean | undefined;
  /** The workflow's `crmProperties` read from HubSpot before the start, carried by EnrollmentStarted. */
  crmRead?: CrmPropertiesRead | undefined;
}

/**
 * An execution's id. `branchId`: a JsWorkflows step's branch ('' for the root: start, and every
 * HubSpot action); `round`: a manual retry's (> 0) are their own, whatever step and attempt they
 * share with earlier ones. Both unset give the ids of before either existed.
 */
export function executionIdFor(enrollmentId: string, stepIndex: number, attempt: number, branchId = '', round = 0): string {
  const parts: (string | number)[] = branchId ? [enrollmentId, stepIndex, branchId, attempt] : [enrollmentId, stepIndex, attempt];
  if (round) parts.push(`round-${round}`);
  return deterministicId('exe', ...parts);
}

/** EnrollmentStarted, then the first action's request (or completion for an empty workflow). */
export function startEnrollment(wf: WorkflowDefinition, cmd: StartCommand, now: number): Envelope[] {
  const started = envelope(
    { eventId: deterministicId('evt', 'started', cmd.enrollmentId), tenantId: cmd.tenantId, aggregateId: cmd.enrollmentId, occurredAt: now, correlationId: cmd.enrollmentId },
    {
      $case: 'enrollmentStarted',
      value: {
        enrollmentId: cmd.enrollmentId,
        workflowId: wf.workflowId,
        workflowVersion: wf.version,
        object: cmd.object,
        actionCount: wf.actions.length,
        trigger: cmd.trigger,
        ...(cmd.requestId ? { requestId: cmd.requestId } : {}),
        hubspot: cmd.hubspot,
        ...(cmd.dryRun ? { dryRun: true } : {}),
        ...(cmd.crmRead ? { crmRead: cmd.crmRead } : {}),
      },
    },
  );
  const ctx: ActionContext = {
    enrollmentId: cmd.enrollmentId,
    workflowId: wf.workflowId,
    workflowVersion: wf.version,
    stepIndex: 0,
    actionId: '',
    attempt: 1,
    object: cmd.object,
    priorOutputs: {},
    firstAttemptAt: now,
    trigger: cmd.trigger,
    limits: cmd.limits,
    hubspot: cmd.hubspot,
    step: undefined,
    ...(cmd.dryRun ? { dryRun: true } : {}),
  };
  return [started, ...nextStep(wf, cmd.tenantId, ctx, 0, started.eventId, now)];
}

/** Decides what follows an action's result. */
export function onActionResult(wf: WorkflowDefinition, tenantId: string, result: Envelope, retry: RetryPolicy, now: number): Envelope[] {
  const body = result.event;
  // A test run of one action (see ./action-test.ts): nothing follows it.
  if ((body.$case === 'actionSucceeded' || body.$case === 'actionFailed') && body.value.context?.test) return [];
  if (body.$case === 'actionSucceeded') {
    const ctx = requireContext(body.value.context);
    return advance(wf, tenantId, ctx, body.value.outputFields, result.eventId, now);
  }
  if (body.$case !== 'actionFailed') return [];
  const failed = body.value;
  const ctx = requireContext(failed.context);
  if (failed.continueEnrollment) return advance(wf, tenantId, ctx, failed.outputFields, result.eventId, now);
  const error = failed.error ?? { code: 'UNKNOWN', message: 'the action failed', retryable: false, retryAfterMs: 0 };
  if (error.retryable) {
    // An executor that died under the first attempt says nothing about the action: retried at once.
    const delay = error.code === 'EXECUTOR_LOST' && ctx.attempt === 1 ? 0 : retryDelay(retry, ctx.attempt, error.retryAfterMs);
    const dueAt = now + delay;
    if (dueAt - ctx.firstAttemptAt <= retry.giveUpAfterMs) {
      const next: ActionContext = { ...ctx, attempt: ctx.attempt + 1 };
      return [
        envelope(
          { eventId: deterministicId('evt', 'retry', failed.executionId), tenantId, aggregateId: failed.executionId, occurredAt: now, causationId: result.eventId, correlationId: ctx.enrollmentId },
          {
            $case: 'actionRetryScheduled',
            value: {
              executionId: failed.executionId,
              context: next,
              dueAt,
              error,
              nextExecutionId: executionIdFor(ctx.enrollmentId, ctx.stepIndex, next.attempt, ctx.step?.branchId, ctx.retryRound ?? 0),
              // Where the live executor that reported it lost consumes the retry lane: the retry need not wait for a rebalance.
              ...(failed.retryLanePartition !== undefined ? { lanePartition: failed.retryLanePartition } : {}),
              // A failure reported before the retry lane: its retry goes to the actions topic's partition it named.
              ...(failed.retryPartition !== undefined ? { requestPartition: failed.retryPartition } : {}),
            },
          },
        ),
      ];
    }
    return [enrollmentFailed(tenantId, ctx, { ...error, message: `${error.message} (gave up after ${ctx.attempt} attempts)` }, result.eventId, now)];
  }
  return [enrollmentFailed(tenantId, ctx, error, result.eventId, now)];
}

/** A due timer (a retry, or a JsWorkflows step scheduled with `api.scheduleNextStep`) becomes its request. */
export function onRetryDue(wf: WorkflowDefinition, tenantId: string, scheduled: Envelope, now: number): Envelope[] {
  const body = scheduled.event;
  if (body.$case !== 'actionRetryScheduled' && body.$case !== 'stepScheduled') return [];
  const ctx = requireContext(body.value.context);
  return [actionRequested(wf, tenantId, ctx, scheduled.eventId, now)];
}

export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs: number): number {
  const exp = policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1);
  return Math.min(Math.max(exp, retryAfterMs), policy.maxDelayMs);
}

/** The action of `ctx` is done with `outputs`: the next action's request, or the enrollment's completion. */
export function advance(wf: WorkflowDefinition, tenantId: string, ctx: ActionContext, outputs: Record<string, FieldValue>, causationId: string, now: number): Envelope[] {
  const priorOutputs: Record<string, FieldMap> = { ...ctx.priorOutputs, [ctx.actionId]: { fields: outputs } };
  const next: ActionContext = { ...ctx, priorOutputs };
  return nextStep(wf, tenantId, next, ctx.stepIndex + 1, causationId, now);
}

function nextStep(wf: WorkflowDefinition, tenantId: string, ctx: ActionContext, stepIndex: number, causationId: string, now: number): Envelope[] {
  const action = wf.actions[stepIndex];
  if (!action) {
    return [
      envelope(
        { eventId: deterministicId('evt', 'completed', ctx.enrollmentId), tenantId, aggregateId: ctx.enrollmentId, occurredAt: now, causationId, correlationId: ctx.enrollmentId },
        { $case: 'enrollmentCompleted', value: { enrollmentId: ctx.enrollmentId, outputs: ctx.priorOutputs, hubspot: ctx.hubspot } },
      ),
    ];
  }
  // A JsWorkflows action starts as its `start` step on the root branch.
  const step = action.runtime === 'jsworkflows' ? { name: 'start', branchId: '', depth: 0, dataJson: '', parentExecutionId: '' } : undefined;
  const stepCtx: ActionContext = { ...ctx, stepIndex, actionId: action.actionId, attempt: 1, firstAttemptAt: now, step };
  // Edited inputs belong to the retried step only.
  delete stepCtx.inputOverrides;
  return [actionRequested(wf, tenantId, stepCtx, causationId, now)];
}

export function actionRequested(wf: WorkflowDefinition, tenantId: string, ctx: ActionContext, causationId: string, now: number): Envelope {
  const action = wf.actions[ctx.stepIndex];
  if (!action) throw new Error(`workflow ${wf.workflowId} v${wf.version} has no step ${ctx.stepIndex}`);
  const executionId = executionIdFor(ctx.enrollmentId, ctx.stepIndex, ctx.attempt, ctx.step?.branchId, ctx.retryRound ?? 0);
  return envelope(
    { eventId: deterministicId('evt', 'requested', executionId), tenantId, aggregateId: executionId, occurredAt: now, causationId, correlationId: ctx.enrollmentId },
    {
      $case: 'actionRequested',
      value: { executionId, context: ctx, inputFields: resolveInputs(action, ctx), callbackId: `cb_${executionId.slice(4)}`, limits: ctx.limits ? effectiveLimits(action, ctx.limits) : undefined },
    },
  );
}

/** An action's inputs from literals, the enrolled object's properties and earlier outputs. */
export function resolveInputs(action: ActionDefinition, ctx: ActionContext): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const input of action.inputFields) {
    const src = input.source;
    if (!src) continue;
    if (src.$case === 'literal') out[input.name] = fieldValue(src.value);
    else if (src.$case === 'objectProperty') {
      const v = ctx.object?.properties[src.value];
      if (v !== undefined) out[input.name] = fieldValue(v);
    } else {
      const v = ctx.priorOutputs[src.value.actionId]?.fields[src.value.field];
      if (v !== undefined) out[input.name] = v;
    }
  }
  return ctx.inputOverrides ? { ...out, ...ctx.inputOverrides.fields } : out;
}

export function enrollmentFailed(tenantId: string, ctx: ActionContext, error: ErrorInfo, causationId: string, now: number): Envelope {
  const round = ctx.retryRound ?? 0;
  const eventId = round ? deterministicId('evt', 'failed', ctx.enrollmentId, `round-${round}`) : deterministicId('evt', 'failed', ctx.enrollmentId);
  return envelope(
    { eventId, tenantId, aggregateId: ctx.enrollmentId, occurredAt: now, causationId, correlationId: ctx.enrollmentId },
    // The failed step's context travels with the failure: a retry resumes from it.
    { $case: 'enrollmentFailed', value: { enrollmentId: ctx.enrollmentId, failedActionId: ctx.actionId, error, context: ctx, hubspot: ctx.hubspot } },
  );
}

export interface RetryCommand {
  tenantId: string;
  /** Edited inputs of the failed step, over those resolved. */
  inputFields?: Record<string, FieldValue> | undefined;
  reason?: string | undefined;
  jobId?: string | undefined;
}

/**
 * A failed enrollment runs again from its failed step, on `wf` (its original version, or a later
 * one that has the failed action): `EnrollmentRetried`, then the step's request as the next
 * attempt, earlier outputs kept. Ids derive from the enrollment and the retry round, so deciding
 * the same retry twice yields the same events. Throws FAILED_PRECONDITION when `wf` lacks the step.
 */
export function retryFailedEnrollment(wf: WorkflowDefinition, failed: ActionContext, cmd: RetryCommand, now: number): Envelope[] {
  const stepIndex = wf.actions.findIndex((a) => a.actionId === failed.actionId);
  if (stepIndex < 0)
    throw new CodestepError('FAILED_PRECONDITION', `version ${wf.version} of workflow ${wf.workflowId} has no action "${failed.actionId}" to resume at; retry on the version it failed on`);
  const round = (failed.retryRound ?? 0) + 1;
  const ctx: ActionContext = { ...failed, workflowVersion: wf.version, stepIndex, attempt: failed.attempt + 1, firstAttemptAt: now, retryRound: round };
  if (cmd.inputFields && Object.keys(cmd.inputFields).length) ctx.inputOverrides = { fields: cmd.inputFields };
  else delete ctx.inputOverrides;
  const executionId = executionIdFor(ctx.enrollmentId, stepIndex, ctx.attempt, ctx.step?.branchId, round);
  const retried = envelope(
    { eventId: deterministicId('evt', 'retried', ctx.enrollmentId, round), tenantId: cmd.tenantId, aggregateId: ctx.enrollmentId, occurredAt: now, correlationId: ctx.enrollmentId },
    {
      $case: 'enrollmentRetried',
      value: { enrollmentId: ctx.enrollmentId, round, actionId: failed.actionId, workflowVersion: wf.version, executionId, jobId: cmd.jobId ?? '', reason: cmd.reason ?? '' },
    },
  );
  return [retried, actionRequested(wf, cmd.tenantId, ctx, retried.eventId, now)];
}

export function requireContext(ctx: ActionContext | undefined): ActionContext {
  if (!ctx) throw new Error('action event without context');
  return ctx;
}

export type ActionResult = EventOf<'actionSucceeded'> | EventOf<'actionFailed'>;
