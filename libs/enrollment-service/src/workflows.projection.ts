/**
 * The workflow definitions as a projection of `codestep.workflows.v1`: every `WorkflowPublished`
 * writes its (immutable) version and moves the workflow's head; every `WorkflowStatusChanged`
 * sets its lifecycle status (enabled, disabled, archived). Writes are versioned by the
 * workflow version, so a duplicate or replayed event changes nothing, and the first event for a
 * version wins (the command path makes sure there is only ever one payload per version).
 */
import type { WorkflowDefinition } from '@codestep/contracts';
import { Topics, fromRecord, type Envelope } from '@codestep/events';
import { tenantKey, tenantScoped, type DocumentStore, type ProjectedRecord, type Projection } from '@codestep/store';

/** The collections of the workflows projection. */
export const WORKFLOW_COLLECTIONS = { versions: 'workflows', heads: 'workflow_heads', status: 'workflow_status' } as const;

/** A workflow's latest version, one per workflow. */
export interface HeadDoc {
  tenantId: string;
  workflowId: string;
  version: number;
  name: string;
  createdAt: number;
}

/** A workflow's lifecycle status, from its `WorkflowStatusChanged` events (absent: enabled, never changed). */
export interface StatusDoc {
  tenantId: string;
  workflowId: string;
  status: string;
  sequence: number;
  reason: string;
  changedAt: number;
}

/** A stored version: the definition and its tenant. */
export type VersionDoc = WorkflowDefinition & { tenantId: string };

/** A version's id within its tenant (documents are read and written through a tenant-scoped store). */
export const versionId = (workflowId: string, version: number): string => `${workflowId}@${version}`;
/** The stored id of one version (its tenant's key: what the plain store and the command outbox see). */
export const versionKey = (tenantId: string, workflowId: string, version: number): string => tenantKey(tenantId, versionId(workflowId, version));
/** The stored id of a workflow's head. */
export const headKey = (tenantId: string, workflowId: string): string => tenantKey(tenantId, workflowId);

export async function ensureWorkflowCollections(store: DocumentStore): Promise<void> {
  await store.ensureCollection(WORKFLOW_COLLECTIONS.versions, [{ fields: ['tenantId', 'workflowId', 'version'] }]);
  await store.ensureCollection(WORKFLOW_COLLECTIONS.heads, [{ fields: ['tenantId', 'createdAt'] }]);
  await store.ensureCollection(WORKFLOW_COLLECTIONS.status, []);
}

/** Applies one `WorkflowStatusChanged` (any other event is ignored); the highest sequence stays, so it is idempotent. */
export async function applyWorkflowStatusChanged(store: DocumentStore, env: Envelope): Promise<void> {
  if (env.event.$case !== 'workflowStatusChanged' || !env.tenantId) return;
  const { workflowId, status, sequence, reason } = env.event.value;
  await tenantScoped(store, env.tenantId).writeVersioned<StatusDoc>(WORKFLOW_COLLECTIONS.status, [
    { id: workflowId, version: sequence, doc: { tenantId: env.tenantId, workflowId, status, sequence, reason, changedAt: env.occurredAt } },
  ]);
}

/** Applies any event of the workflows topic. */
export async function applyWorkflowEvent(store: DocumentStore, env: Envelope): Promise<void> {
  await applyWorkflowPublished(store, env);
  await applyWorkflowStatusChanged(store, env);
}

/** Applies one `WorkflowPublished` envelope (any other event is ignored); idempotent. */
export async function applyWorkflowPublished(store: DocumentStore, env: Envelope): Promise<void> {
  if (env.event.$case !== 'workflowPublished' || !env.event.value.workflow) return;
  const wf = env.event.value.workflow;
  const tenantId = env.tenantId;
  if (!tenantId) return;
  const mine = tenantScoped(store, tenantId);
  await mine.writeVersioned<VersionDoc>(WORKFLOW_COLLECTIONS.versions, [{ id: versionId(wf.workflowId, wf.version), version: wf.version, doc: { ...wf, tenantId } }]);
  await mine.writeVersioned<HeadDoc>(WORKFLOW_COLLECTIONS.heads, [
    { id: wf.workflowId, version: wf.version, doc: { tenantId, workflowId: wf.workflowId, version: wf.version, name: wf.name, createdAt: wf.createdAt } },
  ]);
}

/** The workflow definitions, for the enrollment service's consumer and for `codestep replay`. */
export const workflowsProjection: Projection = {
  name: 'workflows',
  service: 'enrollment',
  topics: [Topics.workflows],
  collections: Object.values(WORKFLOW_COLLECTIONS),
  ensure: ensureWorkflowCollections,
  apply: async (store, batch: ProjectedRecord[]) => {
    for (const record of batch) {
      const env = fromRecord(record.value);
      if (env) await applyWorkflowEvent(store, env);
    }
  },
};
