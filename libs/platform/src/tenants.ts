/**
 * Operator administration of tenants (`codestep tenants create`): appends the tenant's events
 * and applies them to the gateway's store, like the gateway does, so the key works at once.
 */
import { systemClock } from '@codestep/core';
import { createTenants } from '@codestep/gateway-service';
import { parseTenantLimits, resolveLimitPolicy, type TenantLimitSettings } from '@codestep/workflows';
import type { LimitPolicy } from '@codestep/contracts';
import { openEventLog, openStore } from './adapters.ts';
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
  const eventLog = await openEventLog(config, 'codestep-tenants-cli').catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  try {
    const tenants = createTenants({ store, eventLog, clock: systemClock });
    await tenants.ensureCollections();
    const created = await tenants.create(name, undefined, settings);
    return { ...created, limits: resolveLimitPolicy(settings, operator) };
  } finally {
    await eventLog.close();
    await store.close();
  }
}
