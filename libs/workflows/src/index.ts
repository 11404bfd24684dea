export {
  DEFAULT_LIMIT_BOUNDS,
  MAX_CODE_BYTES,
  OUTPUT_TYPES,
  RUNTIMES,
  actionToInput,
  parseWorkflowInput,
  type LimitBounds,
  type WorkflowInput,
} from './workflow-definition.ts';
export {
  DEFAULT_RETRY_POLICY,
  executionIdFor,
  onActionResult,
  onRetryDue,
  resolveInputs,
  retryDelay,
  startEnrollment,
  type RetryPolicy,
  type StartCommand,
} from './enrollment.decider.ts';
