/** Operator administration of tenants, straight on the gateway's store (`codestep tenants create`). */
import { systemClock } from '@codestep/core';
import { createTenants } from '@codestep/gateway-service';
import { parseTenantLimits, resolveLimitPolicy, type TenantLimitSettings } from '@codestep/workflows';
import type { LimitPolicy } from '@codestep/contracts';
import { openStore } from './adapters.ts';
import { operatorLimitsOf, type PlatformConfig } from './platform.config.ts';

export interface CreatedTenant {
  tenantId: string;
  /** Shown once: only its hash is stored. */
  apiKey: string;
  limits: LimitPolicy;
}

/**
 * Creates a tenant with one API key and, optionally, its limit settings (checked against the
 * operator's bounds like `PUT /v1/tenant/limits`). Safe while the platform runs.
 * @throws ValidationError naming the limit field and the bound it crossed.
 */
export async function createTenant(config: PlatformConfig, name: string, limits: Record<string, unknown> = {}): Promise<CreatedTenant> {
  const operator = operatorLimitsOf(config);
  const settings: TenantLimitSettings = parseTenantLimits(limits, operator);
  const store = await openStore(config, 'gateway');
  try {
    const tenants = createTenants(store, systemClock);
    await tenants.ensureCollections();
    const created = await tenants.create(name, undefined, settings);
    return { ...created, limits: resolveLimitPolicy(settings, operator) };
  } finally {
    await store.close();
  }
}
