/**
 * Reads of the workflows projection: heads and versions, with an in-memory cache of versions
 * (immutable once published, so never invalidated). Heads and lifecycle states are read fresh,
 * the reads arriving together batched into one (see `./batched-reads.ts`).
 */
import type { WorkflowDefinition, workflowsV1 } from '@codestep/contracts';
import { NotFoundError, ValidationError } from '@codestep/core';
import { tenantScoped, type DocumentStore, type TenantStore } from '@codestep/store';
import { batchedGets } from './batched-reads.ts';
import { WORKFLOW_COLLECTIONS, versionId, versionKey, type HeadDoc, type StatusDoc, type VersionDoc } from './workflows.projection.ts';

/** Most versions `listVersions` returns. */
export const MAX_LISTED_VERSIONS = 1000;

export interface WorkflowRepository {
  /** A version of a workflow; `version` 0 means its head. Throws NotFoundError. */
  load(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition>;
  /** The head's version, 0 when the workflow has none yet. */
  headVersion(tenantId: string, workflowId: string): Promise<number>;
  /** The tenant's workflows at their heads, newest first (at most 500). */
  listHeads(tenantId: string): Promise<WorkflowDefinition[]>;
  /**
   * A workflow's lifecycle state (enabled, never changed, when it has no status event); throws
   * NotFoundError for no workflow. `headVersion`: the head's version when the caller just read it
   * (not read again).
   */
  state(tenantId: string, workflowId: string, headVersion?: number): Promise<workflowsV1.WorkflowState>;
  /** Every version of a workflow, newest first (at most {@link MAX_LISTED_VERSIONS}); throws NotFoundError for no workflow. */
  listVersions(tenantId: string, workflowId: string): Promise<WorkflowDefinition[]>;
}

export function createWorkflowRepository(store: DocumentStore): WorkflowRepository {
  const cache = new Map<string, WorkflowDefinition>();
  const batched = batchedGets(store);

  const scoped = (tenantId: string): TenantStore => {
    if (!tenantId) throw new ValidationError('tenant_id is required');
    return tenantScoped(store, tenantId);
  };

  async function headVersion(tenantId: string, workflowId: string): Promise<number> {
    if (!tenantId) throw new ValidationError('tenant_id is required');
    const head = await batched<HeadDoc>(tenantId, WORKFLOW_COLLECTIONS.heads, workflowId);
    return head?.doc.version ?? 0;
  }

  async function load(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition> {
    if (!tenantId) throw new ValidationError('tenant_id is required');
    const v = version || (await headVersion(tenantId, workflowId));
    if (!v) throw new NotFoundError(`workflow ${workflowId} not found`);
    const key = versionKey(tenantId, workflowId, v);
    const hit = cache.get(key);
    if (hit) return hit;
    const doc = await scoped(tenantId).get<VersionDoc>(WORKFLOW_COLLECTIONS.versions, versionId(workflowId, v));
    if (!doc) throw new NotFoundError(`workflow ${workflowId} version ${v} not found`);
    cache.set(key, doc.doc);
    return doc.doc;
  }

  async function state(tenantId: string, workflowId: string, knownHead?: number): Promise<workflowsV1.WorkflowState> {
    const headVer = knownHead || (await headVersion(tenantId, workflowId));
    if (!headVer) throw new NotFoundError(`workflow ${workflowId} not found`);
    const doc = await batched<StatusDoc>(tenantId, WORKFLOW_COLLECTIONS.status, workflowId);
    return { workflowId, status: doc?.doc.status ?? 'enabled', sequence: doc?.doc.sequence ?? 0, changedAt: doc?.doc.changedAt ?? 0, headVersion: headVer };
  }

  return {
    load,
    headVersion,
    state,
    async listVersions(tenantId, workflowId) {
      const head = await headVersion(tenantId, workflowId);
      if (!head) throw new NotFoundError(`workflow ${workflowId} not found`);
      const docs = await scoped(tenantId).find<VersionDoc>(WORKFLOW_COLLECTIONS.versions, { where: { workflowId }, orderBy: { field: 'version', direction: 'desc' }, limit: MAX_LISTED_VERSIONS });
      return docs.map((d) => d.doc);
    },
    async listHeads(tenantId) {
      const heads = await scoped(tenantId).find<HeadDoc>(WORKFLOW_COLLECTIONS.heads, { orderBy: { field: 'createdAt', direction: 'desc' }, limit: 500 });
      return Promise.all(heads.map((h) => load(tenantId, h.doc.workflowId, h.doc.version)));
    },
  };
}
