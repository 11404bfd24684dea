/**
 * Reads of the workflows projection: heads and versions, with an in-memory cache of versions
 * (immutable once published, so never invalidated).
 */
import type { WorkflowDefinition } from '@codestep/contracts';
import { NotFoundError, ValidationError } from '@codestep/core';
import type { DocumentStore } from '@codestep/store';
import { WORKFLOW_COLLECTIONS, headKey, versionKey, type HeadDoc, type VersionDoc } from './workflows.projection.ts';

export interface WorkflowRepository {
  /** A version of a workflow; `version` 0 means its head. Throws NotFoundError. */
  load(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition>;
  /** The head's version, 0 when the workflow has none yet. */
  headVersion(tenantId: string, workflowId: string): Promise<number>;
  /** The tenant's workflows at their heads, newest first (at most 500). */
  listHeads(tenantId: string): Promise<WorkflowDefinition[]>;
}

export function createWorkflowRepository(store: DocumentStore): WorkflowRepository {
  const cache = new Map<string, WorkflowDefinition>();

  async function headVersion(tenantId: string, workflowId: string): Promise<number> {
    const head = await store.get<HeadDoc>(WORKFLOW_COLLECTIONS.heads, headKey(tenantId, workflowId));
    return head?.doc.version ?? 0;
  }

  async function load(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition> {
    if (!tenantId) throw new ValidationError('tenant_id is required');
    const v = version || (await headVersion(tenantId, workflowId));
    if (!v) throw new NotFoundError(`workflow ${workflowId} not found`);
    const key = versionKey(tenantId, workflowId, v);
    const hit = cache.get(key);
    if (hit) return hit;
    const doc = await store.get<VersionDoc>(WORKFLOW_COLLECTIONS.versions, key);
    if (!doc) throw new NotFoundError(`workflow ${workflowId} version ${v} not found`);
    cache.set(key, doc.doc);
    return doc.doc;
  }

  return {
    load,
    headVersion,
    async listHeads(tenantId) {
      if (!tenantId) throw new ValidationError('tenant_id is required');
      const heads = await store.find<HeadDoc>(WORKFLOW_COLLECTIONS.heads, { where: { tenantId }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 500 });
      return Promise.all(heads.map((h) => load(tenantId, h.doc.workflowId, h.doc.version)));
    },
  };
}
