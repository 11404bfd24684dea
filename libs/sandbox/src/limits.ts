/**
 * Every number that bounds an execution inside the sandbox, with HubSpot's values where HubSpot
 * documents one. The limits an execution runs with are resolved (defaults, tenant ceilings,
 * operator bounds) before a request reaches the sandbox, by `@codestep/workflows`; the sandbox
 * only enforces its own hard safety caps ({@link LIMIT_BOUNDS}). Nothing here is ever unlimited.
 */
import { DEFAULT_EXECUTION_LIMITS, MIN_EXECUTION_LIMITS, SECRETS_POLICY } from '@codestep/core';
import type { ExecutionLimits } from './sandbox.types.ts';

/** What a request that states no limits runs with: the platform's defaults (HubSpot's 20 s and 128 MB). */
export const DEFAULT_LIMITS: ExecutionLimits = { ...DEFAULT_EXECUTION_LIMITS };

/**
 * The sandbox's hard safety caps: outside these a request is refused (`INVALID_REQUEST`),
 * whatever resolved it. Not the platform's rule: the floor sits at or below the platform's
 * minimums (`MIN_EXECUTION_LIMITS`, 100 ms / 16 MB) so that nothing the platform accepts is
 * refused here, and the ceiling (15 minutes, 4 GB) is the most an operator may configure.
 */
export const LIMIT_BOUNDS = {
  timeoutMs: { min: 50, max: 15 * 60_000 },
  memoryMb: { min: MIN_EXECUTION_LIMITS.memoryMb, max: 4096 },
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

/**
 * How far the platform's own lines (an error's stack, warnings about the result) may go past the
 * caps above once the code's lines filled them, so the last words of an execution still show.
 * They count in the same totals: an execution never has more than `maxLines` + 10 lines and
 * `maxTotalChars` + 16 KiB characters, plus the one marker line saying what was dropped.
 */
export const SYSTEM_LOG_RESERVE = { lines: 10, chars: 16 * 1024 } as const;

/** Undeclared outputs named in the one warning line that reports them all. */
export const MAX_NAMED_UNDECLARED_OUTPUTS = 10;

/** The host's memory backstop (see `host/memory-backstop.ts`). */
export const MEMORY_BACKSTOP = {
  /** How often the host's resident memory is read while executions run, ms (a read costs a few µs). */
  sampleMs: 25,
  /** How long a worker has to say what it holds before it is measured from outside, ms. */
  probeTimeoutMs: 50,
  /** A worker holding less than this is never ended by the backstop, MB. */
  minVictimMb: 64,
} as const;

/**
 * The default ceiling of the sandbox host's resident memory, MB, from the memory limits of its
 * live workers: room for each to hold its heap and as much again outside it, with their fixed
 * costs (~20 MB each) and the host's own (~100 MB): 256 + 3 × each worker's `memoryMb`
 * (1,024 MB for 2 workers at 128 MB). It follows the memory classes the pool runs.
 */
export function defaultHostMemoryCeilingMb(workerMemoryMbs: Iterable<number>): number {
  let ceiling = 256;
  for (const memoryMb of workerMemoryMbs) ceiling += 3 * memoryMb;
  return ceiling;
}

/** Per-execution caps on what the code can keep pending. */
export const RUNTIME_CAPS = {
  /** Timers (setTimeout/setInterval/setImmediate) alive at once. */
  maxActiveTimers: 1000,
  /** OAuth token requests in flight at once. */
  maxPendingOAuth: 20,
  /** OAuth token requests per execution, in all. */
  maxOAuthCalls: 100,
  /** JsWorkflows run-state operations (`api.runStore`, `api.dedupe`) in flight at once. */
  maxPendingRunState: 50,
  /** Run-state operations per execution, in all. */
  maxRunStateCalls: 10_000,
  /** How long the host waits for a run-state operation before failing it, ms. */
  runStateTimeoutMs: 10_000,
  /** Executions waiting for a worker in one host; more are refused at once (`SANDBOX_OVERLOADED`, retryable). */
  maxQueued: 10_000,
  /** How long the host waits for `getOAuthToken`, ms. */
  oauthTimeoutMs: 10_000,
  /** Compiled action scripts kept per worker. */
  scriptCacheEntries: 64,
} as const;

/** The lowest host memory ceiling (`hostMemoryCeilingMb`) that is not 0 (off), MB: below it a host could not run one default worker. */
export const MIN_HOST_MEMORY_CEILING_MB = 128;

/** Outbound requests of one execution reported for client spans (`ExecutionResult.egressCalls`); more still run, untraced. */
export const EGRESS_CALLS_RECORDED = 50;
