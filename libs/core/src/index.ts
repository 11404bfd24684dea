export { CODESTEP_ERROR, CodestepError, ConflictError, NotFoundError, UnauthenticatedError, ValidationError, isCodestepError, serializeError, type SerializedError } from './errors.ts';
export { DEFAULT_EXECUTION_LIMITS, DEFAULT_MAX_EXECUTION_LIMITS, MIN_EXECUTION_LIMITS } from './execution-limits.constants.ts';
export {
  ACCEPTED_RUNTIME_VERSIONS,
  DEFAULT_RUNTIME_VERSION,
  LEGACY_RUNTIME_VERSION,
  RUNTIME_VERSIONS,
  RUNTIME_VERSION_ALIASES,
  resolveRuntimeVersion,
  runtimeVersionProblem,
  type RuntimeVersion,
} from './runtime-versions.constants.ts';
export { deterministicId, newId, randomHex, randomId, systemClock, type Clock, type IdGenerator } from './ids.ts';
export { createLogger, setLogContextProvider, silentLogger, type LogLevel, type Logger, type LoggerOptions } from './logger.ts';
export { ERROR_CATALOGUE, ERROR_CODES, GrpcCode, errorSpecOf, isErrorCode, type ErrorCode, type ErrorSpec } from './error-catalogue.ts';
export { escapeHtml, unsafeTextProblem } from './display-text.policy.ts';
export { OUTPUT_FIELDS_POLICY } from './output-fields.policy.ts';
export { HUBSPOT_TOKEN_SECRET, SECRETS_POLICY, isValidSecretName, secretNameProblem, secretSelectionProblem, secretValueProblem } from './secrets.policy.ts';
export { GRANT_KEY_BYTES, parseGrantKey, signGrant, verifyGrant, type ExecutionGrant } from './execution-grant.ts';
export { DEFAULT_STEP_POLICY, describeDuration, parseStepDelay, type RunBounds, type StepPolicy, type StepSchedulingBounds } from './workflow-steps.policy.ts';
export type { DryRunWrite } from './dry-run.types.ts';
