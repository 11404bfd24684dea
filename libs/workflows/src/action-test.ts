/**
 * A test run of one action of a saved workflow version (HubSpot's "Test action"): one
 * `ActionRequested` whose context is marked `test` and names the test's own id where an
 * enrollment id would be. The executor runs it like any request (the tenant's secrets and
 * connections, the same sandbox and limits); the enrollment step machine ignores its result, so no
 * enrollment and no next step follow, and the history shows it as an execution of no enrollment.
 */
import type { ActionContext, ActionDefinition, CrmObject, FieldValue, LimitPolicy, TriggerPayload, WorkflowDefinition } from '@codestep/contracts';
import { ValidationError, deterministicId } from '@codestep/core';
import { envelope, type Envelope } from '@codestep/events';
import { executionIdFor, resolveInputs } from './enrollment.decider.ts';
import { effectiveLimits } from './execution-limits.ts';

export interface TestActionCommand {
  tenantId: string;
  /** The test's id (`tst_…`), in the place of an enrollment id. */
  testId: string;
  actionId: string;
  object: CrmObject;
  /** The caller's inputs, over those the action's definition resolves. */
  inputFields: Record<string, FieldValue>;
  limits?: LimitPolicy | undefined;
  trigger?: TriggerPayload | undefined;
  /** A dry run: writes held back and recorded (ActionContext.dryRun). */
  dryRun?: boolean | undefined;
  /**
   * A draft of the action not yet saved (already checked by the caller): it runs in place of the
   * saved action with its id, or after the saved actions when none has it. It travels on the
   * request (`draftAction`), so the executor runs it without a saved version holding it.
   */
  draft?: ActionDefinition | undefined;
}

/** The test's request; throws ValidationError naming the actions when `actionId` is not one of them. */
export function testActionRequested(wf: WorkflowDefinition, cmd: TestActionCommand, now: number): Envelope {
  const saved = wf.actions.findIndex((a) => a.actionId === cmd.actionId);
  const stepIndex = cmd.draft && saved < 0 ? wf.actions.length : saved;
  const action = cmd.draft ?? wf.actions[stepIndex];
  if (!action)
    throw new ValidationError(`workflow ${wf.workflowId} v${wf.version} has no action "${cmd.actionId}"; its actions are ${wf.actions.map((a) => `"${a.actionId}"`).join(', ')}`, {
      field: 'actionId',
    });
  const ctx: ActionContext = {
    enrollmentId: cmd.testId,
    workflowId: wf.workflowId,
    workflowVersion: wf.version,
    stepIndex,
    actionId: action.actionId,
    attempt: 1,
    object: cmd.object,
    priorOutputs: {},
    firstAttemptAt: now,
    trigger: cmd.trigger,
    limits: cmd.limits,
    // A JsWorkflows action is tested as its `start` step (unset: start on the root branch).
    step: undefined,
    test: true,
    ...(cmd.dryRun ? { dryRun: true } : {}),
  };
  const executionId = executionIdFor(cmd.testId, stepIndex, 1);
  return envelope(
    { eventId: deterministicId('evt', 'requested', executionId), tenantId: cmd.tenantId, aggregateId: executionId, occurredAt: now, correlationId: cmd.testId },
    {
      $case: 'actionRequested',
      value: {
        executionId,
        context: ctx,
        inputFields: { ...resolveInputs(action, ctx), ...cmd.inputFields },
        callbackId: `cb_${executionId.slice(4)}`,
        limits: cmd.limits ? effectiveLimits(action, cmd.limits) : undefined,
        ...(cmd.draft ? { draftAction: cmd.draft } : {}),
      },
    },
  );
}
