/**
 * Checks an {@link ExecutionRequest} and turns it into what a worker runs. Problems the
 * action's author or the operator can fix (secrets too long, limits out of bounds, code too
 * large) come back as a failed result with a clear code, like any other failure of the action.
 */
import { DEFAULT_RUNTIME_VERSION, DEFAULT_STEP_POLICY, isValidSecretName, resolveRuntimeVersion, runtimeVersionProblem } from '@codestep/core';
import { DEFAULT_LIMITS, LIMIT_BOUNDS, MAX_CODE_CHARS, MAX_INPUT_CHARS, MAX_SECRETS_CHARS } from '../limits.ts';
import type { WorkerExecution } from '../protocol.ts';
import type { ExecutionError, ExecutionRequest, ExecutionResult } from '../sandbox.types.ts';
import { toCommonJs } from './code-transform.ts';

export function failedResult(error: ExecutionError, durationMs = 0): ExecutionResult {
  return { status: 'failed', outputFields: {}, logs: [], logsTruncated: false, error, durationMs };
}

function invalid(message: string): { ok: false; result: ExecutionResult } {
  return { ok: false, result: failedResult({ code: 'INVALID_REQUEST', message }) };
}

function checkLimit(name: 'timeoutMs' | 'memoryMb', value: unknown): string | null {
  const { min, max } = LIMIT_BOUNDS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return `limits.${name} must be an integer from ${min} to ${max}, got ${String(value)}`;
  }
  return null;
}

export async function prepareExecution(request: ExecutionRequest): Promise<{ ok: true; execution: WorkerExecution } | { ok: false; result: ExecutionResult }> {
  if (typeof request.code !== 'string' || request.code.trim() === '') return invalid('The action has no code');
  if (request.code.length > MAX_CODE_CHARS) return invalid(`The action's code is ${request.code.length} characters; the limit is ${MAX_CODE_CHARS}`);
  const timeoutMs = request.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
  const memoryMb = request.limits?.memoryMb ?? DEFAULT_LIMITS.memoryMb;
  const limitProblem = checkLimit('timeoutMs', timeoutMs) ?? checkLimit('memoryMb', memoryMb);
  if (limitProblem) return invalid(limitProblem);
  const runtimeVersion = resolveRuntimeVersion(request.runtimeVersion ?? DEFAULT_RUNTIME_VERSION);
  if (runtimeVersion === undefined) return invalid(runtimeVersionProblem('runtimeVersion', request.runtimeVersion));

  const secrets: Record<string, string> = {};
  let secretChars = 0;
  for (const [name, value] of Object.entries(request.secrets ?? {})) {
    if (!isValidSecretName(name)) return invalid(`Secret name ${JSON.stringify(name.slice(0, 80))} is not valid: use letters, digits and underscores, not starting with a digit`);
    if (typeof value !== 'string') return invalid(`Secret ${name} must be a string`);
    secrets[name] = value;
    secretChars += value.length;
  }
  if (secretChars > MAX_SECRETS_CHARS) {
    return {
      ok: false,
      result: failedResult({
        code: 'SECRETS_TOO_LARGE',
        message: `The action's secrets total ${secretChars} characters; the limit is ${MAX_SECRETS_CHARS}. Select fewer or shorter secrets for this action.`,
      }),
    };
  }

  const input = request.input;
  let inputJson: string;
  let headersJson = '{}';
  try {
    if (input.runtime === 'jsworkflows') {
      inputJson = JSON.stringify(input.data ?? null);
      headersJson = JSON.stringify(input.headers ?? {});
    } else {
      inputJson = JSON.stringify(input.event);
    }
  } catch (error) {
    return invalid(`The action's input is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof inputJson !== 'string') return invalid("The action's input is missing");
  if (inputJson.length + headersJson.length > MAX_INPUT_CHARS) return invalid(`The action's input is ${inputJson.length} characters of JSON; the limit is ${MAX_INPUT_CHARS}`);

  const transformed = await toCommonJs(input.runtime === 'jsworkflows' ? withUnexportedWorkflow(request.code) : request.code);
  if (!transformed.ok) return { ok: false, result: failedResult({ code: 'USER_CODE_ERROR', message: transformed.message }) };

  const execution: WorkerExecution = {
    executionId: request.executionId,
    tenantId: request.tenantId,
    code: transformed.code,
    codeHash: transformed.hash,
    runtime: input.runtime,
    runtimeVersion,
    inputJson,
    headersJson,
    secrets,
    timeoutMs,
    memoryMb,
  };
  if (input.runtime === 'jsworkflows') {
    const { minDelayMs, maxDelayMs, maxPayloadChars, maxNextSteps, maxWaitTimeoutMs, resumeBaseUrl } = { ...DEFAULT_STEP_POLICY, ...input.scheduling };
    const resumeBase = (resumeBaseUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    execution.step = { name: input.step ?? 'start', scheduling: { minDelayMs, maxDelayMs, maxPayloadChars, maxNextSteps, maxWaitTimeoutMs, resumeBaseUrl: resumeBase } };
  }
  if (request.outputFields) execution.outputFields = request.outputFields;
  if (request.traceparent) execution.traceparent = request.traceparent;
  return { ok: true, execution };
}

/**
 * JsWorkflows' documentation shows the class with and without `export`: a module that declares
 * `class Workflow` at its top level without exporting it gets it exported at its end (a line
 * appended, so the author's line numbers stay). Module scope is the CommonJS wrapper's, so the
 * declaration is visible there; `typeof` of an undeclared name is harmless.
 */
export function withUnexportedWorkflow(code: string): string {
  if (!/(^|[\n;}])\s*class\s+Workflow\b/.test(code)) return code;
  return `${code}\n;if (typeof Workflow === 'function' && module.exports.Workflow === undefined && module.exports.default === undefined) module.exports.Workflow = Workflow;`;
}
