export { MAX_CODE_BYTES, OUTPUT_TYPES, RUNTIMES, actionToInput, parseWorkflowInput, runtimeVersionOf, type WorkflowInput } from './workflow-definition.ts';
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
export { DEFAULT_RETRY_POLICY, executionIdFor, onActionResult, onRetryDue, resolveInputs, retryDelay, startEnrollment, type RetryPolicy, type StartCommand } from './enrollment.decider.ts';
export { ROOT_BRANCH, applyToRunState, branchOf, childBranchId, decideStepResult, emptyRunState, openBranches, type RunState, type StepDecision, type StepRun } from './workflow-run.decider.ts';
