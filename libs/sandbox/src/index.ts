export { createSandbox } from './sandbox.ts';
export { detectRuntime } from './client/code-transform.ts';
export { DEFAULT_LIMITS, DEFAULT_LOG_LIMITS, LIMIT_BOUNDS, MAX_OUTPUT_STRING_CHARS, MIN_HOST_MEMORY_CEILING_MB, MAX_SECRETS_CHARS, type LogLimits } from './limits.ts';
export { validateOutputs, type OutputValidation, type OutputValue } from './output-fields.validation.ts';
export { REDACTED } from './redaction.ts';
export type {
  EgressCall,
  EgressPolicy,
  ExecutionError,
  ExecutionInput,
  ExecutionLimits,
  ExecutionRequest,
  ExecutionResult,
  NextStepRequest,
  HttpResponseValue,
  HubSpotEvent,
  ConsoleLevel,
  ConsoleLine,
  OutputFieldSpec,
  OutputType,
  Sandbox,
  SandboxHandle,
  SandboxHostApi,
  SandboxOptions,
  SandboxRuntimeSource,
  SandboxRuntimeSources,
  SandboxStats,
} from './sandbox.types.ts';
