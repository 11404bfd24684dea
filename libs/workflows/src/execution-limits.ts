/**
 * Execution limits, three levels deep: the operator's defaults and bounds (platform
 * configuration), each tenant's defaults and ceilings within them (set through the API), and an
 * action's own `timeoutMs`/`memoryMb`. Pure functions: the gateway validates tenants' settings
 * with them, the enrollment service resolves the tenant's policy once per enrollment and the
 * decider stamps every action request with the limits it runs with.
 *
 * Resolution, per field: the action's own value if it set one, else the tenant's default, else
 * the operator's default; never above the tenant's ceiling, never above the operator's bound.
 * An action asking for more than the ceiling is refused when the workflow is saved; if the
 * ceiling is lowered later, existing workflows keep running, clamped to the new ceiling.
 */
import type { ActionDefinition, ExecutionLimits, LimitPolicy } from '@codestep/contracts';
import { DEFAULT_EXECUTION_LIMITS, DEFAULT_MAX_EXECUTION_LIMITS, MIN_EXECUTION_LIMITS, ValidationError } from '@codestep/core';

/** The operator's limits (platform configuration): defaults and hard bounds, never unlimited. */
export interface OperatorLimits {
  /** Wall time of an action that sets none, ms. @default `DEFAULT_EXECUTION_LIMITS.timeoutMs` (HubSpot's) */
  defaultTimeoutMs: number;
  /** Memory of an action that sets none, MB. @default `DEFAULT_EXECUTION_LIMITS.memoryMb` (HubSpot's) */
  defaultMemoryMb: number;
  /** No tenant or action goes above this wall time, ms. @default `DEFAULT_MAX_EXECUTION_LIMITS.timeoutMs` */
  maxTimeoutMs: number;
  /** No tenant or action goes above this memory, MB. @default `DEFAULT_MAX_EXECUTION_LIMITS.memoryMb` */
  maxMemoryMb: number;
}

/** HubSpot's 20 s and 128 MB, with the platform's default bounds (the numbers live in `@codestep/core`). */
export const DEFAULT_OPERATOR_LIMITS: OperatorLimits = {
  defaultTimeoutMs: DEFAULT_EXECUTION_LIMITS.timeoutMs,
  defaultMemoryMb: DEFAULT_EXECUTION_LIMITS.memoryMb,
  maxTimeoutMs: DEFAULT_MAX_EXECUTION_LIMITS.timeoutMs,
  maxMemoryMb: DEFAULT_MAX_EXECUTION_LIMITS.memoryMb,
};

/** The smallest limits anyone may set: below these an action cannot even start. */
export const LIMIT_MINIMUMS = MIN_EXECUTION_LIMITS;

/** What a tenant set; a field left out takes the operator's value. */
export interface TenantLimitSettings {
  defaultTimeoutMs?: number;
  defaultMemoryMb?: number;
  maxTimeoutMs?: number;
  maxMemoryMb?: number;
}

/** The four fields of a tenant's (and the operator's) limit settings. */
export const TENANT_LIMIT_FIELDS = ['defaultTimeoutMs', 'defaultMemoryMb', 'maxTimeoutMs', 'maxMemoryMb'] as const;
type LimitField = (typeof TENANT_LIMIT_FIELDS)[number];

const isTime = (f: LimitField) => f.endsWith('TimeoutMs');
const unitOf = (f: LimitField) => (isTime(f) ? 'ms' : 'MB');
const minOf = (f: LimitField) => (isTime(f) ? LIMIT_MINIMUMS.timeoutMs : LIMIT_MINIMUMS.memoryMb);
const boundOf = (f: LimitField, op: OperatorLimits) => (isTime(f) ? op.maxTimeoutMs : op.maxMemoryMb);

/**
 * Problems with the operator's own configuration (a default above its bound, a value below the
 * minimum), each naming the variable, for the start-up check. Empty when consistent.
 */
export function operatorLimitProblems(op: OperatorLimits, env: Record<keyof OperatorLimits, string>): string[] {
  const problems: string[] = [];
  for (const f of TENANT_LIMIT_FIELDS) {
    if (!Number.isInteger(op[f]) || op[f] < minOf(f)) problems.push(`${env[f]}=${op[f]}: must be at least ${minOf(f)} ${unitOf(f)}`);
  }
  if (op.defaultTimeoutMs > op.maxTimeoutMs)
    problems.push(`${env.defaultTimeoutMs}=${op.defaultTimeoutMs} is above ${env.maxTimeoutMs}=${op.maxTimeoutMs}: the default wall time must be within the bound`);
  if (op.defaultMemoryMb > op.maxMemoryMb) problems.push(`${env.defaultMemoryMb}=${op.defaultMemoryMb} is above ${env.maxMemoryMb}=${op.maxMemoryMb}: the default memory must be within the bound`);
  return problems;
}

/**
 * A tenant's settings as sent to `PUT /v1/tenant/limits`: each field an integer within the
 * operator's bounds, or null/absent for the operator's value; defaults not above ceilings.
 * @throws ValidationError naming the field and the bound it crossed.
 */
export function parseTenantLimits(body: unknown, op: OperatorLimits): TenantLimitSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('body must be a JSON object like {"defaultTimeoutMs": 10000, "maxTimeoutMs": 30000, "defaultMemoryMb": 128, "maxMemoryMb": 256}');
  }
  const raw = body as Record<string, unknown>;
  // `effective` and `operator` are what GET answers besides the settings: a GET → edit → PUT round trip is fine.
  const unknown = Object.keys(raw).filter((k) => !(TENANT_LIMIT_FIELDS as readonly string[]).includes(k) && k !== 'effective' && k !== 'operator');
  if (unknown.length) throw new ValidationError(`${unknown[0]}: unknown field; the limits are ${TENANT_LIMIT_FIELDS.join(', ')}`, { field: unknown[0] });
  const out: TenantLimitSettings = {};
  for (const f of TENANT_LIMIT_FIELDS) {
    const v = raw[f];
    if (v === undefined || v === null) continue;
    const min = minOf(f);
    const max = boundOf(f, op);
    const unit = unitOf(f);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw new ValidationError(`${f}: must be a whole number of ${unit} from ${min} to ${max}, or null for the operator's default`, { field: f });
    if (v > max) throw new ValidationError(`${f}: ${v} ${unit} is above the operator's bound of ${max} ${unit}; set at most ${max}`, { field: f, bound: max });
    out[f] = v;
  }
  for (const [d, m] of [
    ['defaultTimeoutMs', 'maxTimeoutMs'],
    ['defaultMemoryMb', 'maxMemoryMb'],
  ] as const) {
    const def = out[d];
    const max = out[m];
    if (def !== undefined && max !== undefined && def > max)
      throw new ValidationError(`${d}: ${def} ${unitOf(d)} is above this tenant's ${m} of ${max} ${unitOf(m)}; a default must be within the ceiling`, { field: d, bound: max });
  }
  return out;
}

/** The tenant's policy: its settings where set, the operator's values elsewhere, all within the operator's bounds. */
export function resolveLimitPolicy(tenant: TenantLimitSettings, op: OperatorLimits): LimitPolicy {
  const maxTimeoutMs = Math.min(tenant.maxTimeoutMs ?? op.maxTimeoutMs, op.maxTimeoutMs);
  const maxMemoryMb = Math.min(tenant.maxMemoryMb ?? op.maxMemoryMb, op.maxMemoryMb);
  return {
    defaultTimeoutMs: Math.min(tenant.defaultTimeoutMs ?? op.defaultTimeoutMs, maxTimeoutMs),
    defaultMemoryMb: Math.min(tenant.defaultMemoryMb ?? op.defaultMemoryMb, maxMemoryMb),
    maxTimeoutMs,
    maxMemoryMb,
  };
}

/**
 * A policy received from a peer, brought within this process's operator bounds (unset or zero
 * fields take the operator's values). What the enrollment service applies.
 */
export function boundPolicy(policy: LimitPolicy | undefined, op: OperatorLimits): LimitPolicy {
  const p = policy ?? { defaultTimeoutMs: 0, defaultMemoryMb: 0, maxTimeoutMs: 0, maxMemoryMb: 0 };
  const set = (v: number) => (v > 0 ? v : undefined);
  const settings: TenantLimitSettings = {};
  for (const f of TENANT_LIMIT_FIELDS) {
    const v = set(p[f]);
    if (v !== undefined) settings[f] = v;
  }
  return resolveLimitPolicy(settings, op);
}

/** The limits one execution of the action runs with under the tenant's policy. */
export function effectiveLimits(action: Pick<ActionDefinition, 'timeoutMs' | 'memoryMb'>, policy: LimitPolicy): ExecutionLimits {
  return {
    timeoutMs: Math.min(action.timeoutMs || policy.defaultTimeoutMs, policy.maxTimeoutMs),
    memoryMb: Math.min(action.memoryMb || policy.defaultMemoryMb, policy.maxMemoryMb),
  };
}

/**
 * The limits an action request runs with, in the process that runs it. A request states the
 * limits resolved for its tenant when it was made ({@link effectiveLimits}, applied once at the
 * enrollment boundary); they are only kept within this process's operator bounds. A request
 * that states none (written before requests carried limits) takes the action's own values, else
 * the operator's defaults.
 */
export function requestLimits(stated: ExecutionLimits | undefined, action: Pick<ActionDefinition, 'timeoutMs' | 'memoryMb'>, op: OperatorLimits): ExecutionLimits {
  return effectiveLimits({ timeoutMs: stated?.timeoutMs || action.timeoutMs, memoryMb: stated?.memoryMb || action.memoryMb }, resolveLimitPolicy({}, op));
}

/** What an action may ask for, and whose limit each bound is (for the refusal's message). */
export interface LimitBounds {
  maxTimeoutMs: number;
  maxMemoryMb: number;
  /** Says whose bound `maxTimeoutMs` is. @default "the operator's bound" */
  timeoutBound?: string;
  /** Says whose bound `maxMemoryMb` is. @default "the operator's bound" */
  memoryBound?: string;
}

/** The bounds of an action when no tenant policy is known: the platform's default bounds. */
export const DEFAULT_LIMIT_BOUNDS: LimitBounds = { maxTimeoutMs: DEFAULT_OPERATOR_LIMITS.maxTimeoutMs, maxMemoryMb: DEFAULT_OPERATOR_LIMITS.maxMemoryMb };

/** The bounds an action of the tenant is checked against when its workflow is saved. */
export function actionBounds(policy: LimitPolicy, op: OperatorLimits): LimitBounds {
  const tenantCeiling = (field: string) => `this tenant's ceiling ${field}, see GET /v1/tenant/limits`;
  return {
    maxTimeoutMs: policy.maxTimeoutMs,
    maxMemoryMb: policy.maxMemoryMb,
    timeoutBound: policy.maxTimeoutMs < op.maxTimeoutMs ? tenantCeiling('maxTimeoutMs') : "the operator's bound",
    memoryBound: policy.maxMemoryMb < op.maxMemoryMb ? tenantCeiling('maxMemoryMb') : "the operator's bound",
  };
}
