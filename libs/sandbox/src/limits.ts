/**
 * Every number that bounds an execution, in one place, with HubSpot's values where HubSpot
 * documents one. The executor may lower or raise the per-request limits within
 * {@link LIMIT_BOUNDS}; nothing here is ever unlimited.
 */
import { SECRETS_POLICY } from '@codestep/core';
import type { ExecutionLimits } from './sandbox.types.ts';

/** HubSpot's defaults: 20 s wall time, 128 MB of memory. */
export const DEFAULT_LIMITS: ExecutionLimits = { timeoutMs: 20_000, memoryMb: 128 };

/** What a request may ask for. Outside these bounds the request is refused (`INVALID_REQUEST`). */
export const LIMIT_BOUNDS = {
  timeoutMs: { min: 50, max: 15 * 60_000 },
  memoryMb: { min: 16, max: 4096 },
} as const;

/** HubSpot's cap on the secrets of one action: the sum of the values' lengths, characters (owned by `SECRETS_POLICY`). */
export const MAX_SECRETS_CHARS: number = SECRETS_POLICY.maxTotalCharsPerAction;
/** Secret values shorter than this are not redacted from logs (they would mangle every line). */
export const MIN_REDACTED_SECRET_CHARS = 4;
/** HubSpot's cap on one string output value, characters (`OUTPUT_VALUES_TOO_LARGE`). */
export const MAX_OUTPUT_STRING_CHARS = 65_000;
/** The whole serialised result (outputs or a JsWorkflows return value), characters. */
export const MAX_RESULT_CHARS = 4 * 1024 * 1024;
/** The serialised event (or JsWorkflows data), characters. */
export const MAX_INPUT_CHARS = 4 * 1024 * 1024;
/** The action's source, characters. */
export const MAX_CODE_CHARS = 2 * 1024 * 1024;

export interface LogLimits {
  /** One line, characters; longer lines are cut and marked. @default 4096 */
  maxLineChars: number;
  /** All lines of one execution, characters. @default 65536 */
  maxTotalChars: number;
  /** Lines of one execution. @default 500 */
  maxLines: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = { maxLineChars: 4096, maxTotalChars: 64 * 1024, maxLines: 500 };

/** Per-execution caps on what the code can keep pending. */
export const RUNTIME_CAPS = {
  /** Timers (setTimeout/setInterval/setImmediate) alive at once. */
  maxActiveTimers: 1000,
  /** OAuth token requests in flight at once. */
  maxPendingOAuth: 20,
  /** OAuth token requests per execution, in all. */
  maxOAuthCalls: 100,
  /** Executions waiting for a worker in one host; more are refused at once (`SANDBOX_OVERLOADED`, retryable). */
  maxQueued: 10_000,
  /** How long the host waits for `getOAuthToken`, ms. */
  oauthTimeoutMs: 10_000,
  /** Compiled action scripts kept per worker. */
  scriptCacheEntries: 64,
} as const;
