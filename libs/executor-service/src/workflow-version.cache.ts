/**
 * Workflow versions as the executor looks them up: a version never changes once created, so each
 * is asked for once and kept (least recently used dropped first); a failed lookup (service down,
 * no such version) is not kept, so it is asked again next time. Entries are keyed by the one
 * rule for tenant keys, `tenantKey` (tenant ids never hold "/": the tenant-scoped store refuses
 * them), so one tenant's entry is never another's.
 */
import type { WorkflowDefinition } from '@codestep/contracts';
import { tenantKey } from '@codestep/store';

/** Looks up one version of a tenant's workflow. */
export type WorkflowLookup = (tenantId: string, workflowId: string, version: number) => Promise<WorkflowDefinition>;

/** Workflow versions kept per executor by default. */
export const WORKFLOW_CACHE_SIZE = 1000;

/** A caching {@link WorkflowLookup} over `lookup`, keeping up to `size` versions. */
export function createWorkflowVersionCache(lookup: WorkflowLookup, size = WORKFLOW_CACHE_SIZE): WorkflowLookup {
  /** Workflow versions by tenant, id and version, least recently used first. */
  const cache = new Map<string, Promise<WorkflowDefinition>>();
  return (tenantId, workflowId, version) => {
    const key = tenantKey(tenantId, `${workflowId}@${version}`);
    let found = cache.get(key);
    if (found) {
      cache.delete(key);
      cache.set(key, found);
      return found;
    }
    found = lookup(tenantId, workflowId, version);
    // A failed lookup (service down, no such version) is asked again next time.
    found.catch(() => cache.get(key) === found && cache.delete(key));
    cache.set(key, found);
    if (cache.size > size) cache.delete(cache.keys().next().value!);
    return found;
  };
}
