/**
 * Each tenant's limit settings as the enrollment service knows them: a projection of the tenants
 * topic (`TenantCreated`, `TenantLimitsSet`), rebuilt by `codestep replay`. Enrollments that the
 * gateway starts carry the tenant's policy in their request; the ones this service starts itself
 * (a schedule trigger's ticks) read it here, so they run with the tenant's limits like every
 * other enrollment and not with the operator's defaults. A write lands only if its event's
 * sequence is above the stored one, so the same events give the same document in any order.
 */
import type { LimitPolicy } from '@codestep/contracts';
import { Topics, type Envelope } from '@codestep/events';
import type { DocumentStore, VersionedWrite } from '@codestep/store';
import { envelopeProjection } from './envelope.projection.ts';

export const TENANT_LIMITS = 'tenant_limits';

/** A tenant's settings: a field at 0 is not set (the operator's value applies). */
export interface TenantLimitsDoc {
  tenantId: string;
  limits: LimitPolicy;
}

export async function ensureTenantLimits(store: DocumentStore): Promise<void> {
  await store.ensureCollection(TENANT_LIMITS, []);
}

const NONE: LimitPolicy = { defaultTimeoutMs: 0, defaultMemoryMb: 0, maxTimeoutMs: 0, maxMemoryMb: 0 };

/** Applies the limit events among `envs` (others are ignored); idempotent, any order. */
export async function applyToTenantLimits(store: DocumentStore, envs: Envelope[]): Promise<void> {
  const latest = new Map<string, VersionedWrite<TenantLimitsDoc>>();
  for (const env of envs) {
    const body = env.event;
    if (body.$case !== 'tenantCreated' && body.$case !== 'tenantLimitsSet') continue;
    const write = { id: env.tenantId, version: body.value.sequence, doc: { tenantId: env.tenantId, limits: { ...NONE, ...body.value.limits } } };
    if ((latest.get(write.id)?.version ?? -1) < write.version) latest.set(write.id, write);
  }
  if (latest.size) await store.writeVersioned(TENANT_LIMITS, [...latest.values()]);
}

/** The tenant's limit settings (unset when the tenant's events have not been applied: the operator's apply). */
export async function tenantLimitPolicy(store: DocumentStore, tenantId: string): Promise<LimitPolicy | undefined> {
  return (await store.get<TenantLimitsDoc>(TENANT_LIMITS, tenantId))?.doc.limits;
}

/** The tenants' limits, for the enrollment projections consumer and for `codestep replay`. */
export const tenantLimitsProjection = envelopeProjection({
  name: 'tenant-limits',
  service: 'enrollment',
  topics: [Topics.tenants],
  collections: [TENANT_LIMITS],
  ensure: ensureTenantLimits,
  apply: applyToTenantLimits,
});
