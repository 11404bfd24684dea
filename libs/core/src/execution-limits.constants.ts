/**
 * The numbers every execution limit is measured against, written once. They live in this util
 * lib (not in `@codestep/workflows`, which owns the rules over them) because the sandbox, a
 * `type:runtime` lib, may import only util and contract libs, and it needs the defaults too.
 */

/** HubSpot's defaults: 20 s of wall time and 128 MB of memory for an action that sets none. */
export const DEFAULT_EXECUTION_LIMITS = { timeoutMs: 20_000, memoryMb: 128 } as const;

/** The smallest limits an operator, a tenant, an action or `codestep run` may set: below these an action cannot even start. */
export const MIN_EXECUTION_LIMITS = { timeoutMs: 100, memoryMb: 16 } as const;

/** The platform's default bounds (an operator may configure others, up to the sandbox's hard caps). */
export const DEFAULT_MAX_EXECUTION_LIMITS = { timeoutMs: 60_000, memoryMb: 512 } as const;
