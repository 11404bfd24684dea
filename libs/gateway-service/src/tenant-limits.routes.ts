/**
 * A tenant's execution limits: `GET`/`PUT /v1/tenant/limits`, and the resolved policy the other
 * routes pass to the enrollment service (workflows are checked against its ceilings when saved;
 * every enrollment carries it to the executor through its action requests).
 */
import type { LimitPolicy } from '@codestep/contracts';
import { actionBounds, parseTenantLimits, resolveLimitPolicy, LIMIT_MINIMUMS, TENANT_LIMIT_FIELDS, type LimitBounds, type OperatorLimits, type TenantLimitSettings } from '@codestep/workflows';
import type { Route } from './router.ts';
import type { Tenants } from './tenants.ts';

export interface TenantLimits {
  settings: TenantLimitSettings;
  /** Within the operator's bounds: what actions of the tenant run with. */
  policy: LimitPolicy;
  /** What an action of the tenant may ask for, and whose bound each is. */
  bounds: LimitBounds;
}

/** Resolves a tenant's limits (cached by {@link Tenants}). */
export type TenantLimitsOf = (tenantId: string) => Promise<TenantLimits>;

export function tenantLimitsOf(tenants: Tenants, operator: OperatorLimits): TenantLimitsOf {
  return async (tenantId) => {
    const settings = await tenants.getLimits(tenantId);
    const policy = resolveLimitPolicy(settings, operator);
    return { settings, policy, bounds: actionBounds(policy, operator) };
  };
}

function view(limits: TenantLimits, operator: OperatorLimits): Record<string, unknown> {
  return {
    ...Object.fromEntries(TENANT_LIMIT_FIELDS.map((f) => [f, limits.settings[f] ?? null])),
    effective: { ...limits.policy },
    operator: { ...operator, minTimeoutMs: LIMIT_MINIMUMS.timeoutMs, minMemoryMb: LIMIT_MINIMUMS.memoryMb },
  };
}

export function tenantLimitsRoutes(tenants: Tenants, operator: OperatorLimits): Route[] {
  const limitsOf = tenantLimitsOf(tenants, operator);
  return [
    {
      method: 'GET',
      path: '/v1/tenant/limits',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: view(await limitsOf(req.tenantId), operator) }),
    },
    {
      method: 'PUT',
      path: '/v1/tenant/limits',
      auth: 'tenant',
      handle: async (req) => {
        const settings = parseTenantLimits(req.body, operator);
        await tenants.setLimits(req.tenantId, settings);
        return { status: 200, body: view(await limitsOf(req.tenantId), operator) };
      },
    },
  ];
}
