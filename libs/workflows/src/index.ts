export { MAX_CODE_BYTES, OUTPUT_TYPES, RUNTIMES, actionToInput, parseDraftAction, parseWorkflowInput, runtimeVersionOf, type WorkflowInput } from './workflow-definition.ts';
export { CRM_OBJECT_TYPES, crmObjectPath, objectTypeProblem, parseObjectType, sameObjectType } from './crm-object-types.ts';
export {
  DEFAULT_LIMIT_BOUNDS,
  DEFAULT_OPERATOR_LIMITS,
  LIMIT_MINIMUMS,
  TENANT_LIMIT_FIELDS,
  actionBounds,
  boundPolicy,
  effectiveLimits,
  operatorLimitProblems,
  parseTenantLimits,
  requestLimits,
  resolveLimitPolicy,
  type LimitBounds,
  type OperatorLimits,
  type TenantLimitSettings,
} from './execution-limits.ts';
export {
  DEFAULT_RETRY_POLICY,
  executionIdFor,
  onActionResult,
  onRetryDue,
  resolveInputs,
  retryDelay,
  retryFailedEnrollment,
  startEnrollment,
  type RetryCommand,
  type RetryPolicy,
  type StartCommand,
} from './enrollment.decider.ts';
export { MAX_EDIT_DISTANCE, diffLines, unifiedDiff, type DiffOp } from './line-diff.ts';
export { diffWorkflows, sameDefinition, type ActionChange, type FieldChange, type WorkflowDiff } from './workflow-diff.ts';
export { WORKFLOW_STATUSES, isWorkflowStatus, type WorkflowStatus } from './workflow-status.ts';
export { testActionRequested, type TestActionCommand } from './action-test.ts';
export {
  ROOT_BRANCH,
  applyToRunState,
  branchOf,
  childBranchId,
  decideStepResult,
  emptyRunState,
  mergeWaitData,
  openBranches,
  runHasFailed,
  waitResumed,
  waitTimedOut,
  type RunState,
  type StepDecision,
  type StepRun,
} from './workflow-run.decider.ts';
export {
  DEFAULT_MISSED_POLICY,
  DEFAULT_SCHEDULE_BOUNDS,
  MISSED_POLICIES,
  decideTick,
  nextFireTime,
  nextFireTimes,
  parseTrigger,
  triggerToInput,
  type MissedPolicy,
  type ScheduleBounds,
  type TickDecision,
} from './schedule-trigger.ts';
