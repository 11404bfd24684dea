/**
 * Creating and updating workflows. A new version is reserved in the outbox first (one payload per
 * tenant/workflow/version, whoever gets there first), then its `WorkflowPublished` is appended
 * under an id derived from tenant/workflow/version, then applied to the projection so the caller
 * reads its own write. A reservation left unapplied by a crash is published by the retry, or by
 * the next update of that workflow, before it goes on. Of two replicas updating one workflow at
 * once, one wins the version; the other publishes the winner's and takes the next one.
 */
import type { WorkflowDefinition, workflowsV1 } from '@codestep/contracts';
import { ConflictError, NotFoundError, ValidationError, deterministicId, newId, type Clock } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { actionBounds, actionToInput, boundPolicy, parseWorkflowInput, type OperatorLimits } from '@codestep/workflows';
import { createCommandOutbox, envelopesOf, reserveRecords, type Reservation } from './command.outbox.ts';
import type { WorkflowRepository } from './workflow.repository.ts';
import { applyWorkflowPublished, versionKey } from './workflows.projection.ts';

/** The outbox of workflow versions (see `./command.outbox.ts`). */
export const WORKFLOW_OUTBOX = 'workflow_outbox';

/** How many versions an update tries before it gives up to concurrent updates. */
const MAX_UPDATE_ATTEMPTS = 8;

interface VersionReservation extends Reservation {
  workflowId: string;
  version: number;
}

export interface WorkflowCommands {
  createWorkflow(req: workflowsV1.CreateWorkflowRequest): Promise<WorkflowDefinition>;
  updateWorkflow(req: workflowsV1.UpdateWorkflowRequest): Promise<WorkflowDefinition>;
}

export interface WorkflowCommandsDeps {
  store: DocumentStore;
  eventLog: EventLog;
  clock: Clock;
  repository: WorkflowRepository;
  limits: OperatorLimits;
}

export async function ensureWorkflowOutbox(store: DocumentStore): Promise<void> {
  await store.ensureCollection(WORKFLOW_OUTBOX, []);
}

function published(reservation: VersionReservation): WorkflowDefinition {
  const env = envelopesOf(reservation)[0];
  if (env?.event.$case !== 'workflowPublished' || !env.event.value.workflow) throw new Error(`reservation ${reservation.workflowId}@${reservation.version} holds no WorkflowPublished`);
  return env.event.value.workflow;
}

export function createWorkflowCommands(deps: WorkflowCommandsDeps): WorkflowCommands {
  const { store, clock, repository } = deps;
  const outbox = createCommandOutbox<VersionReservation>(store, deps.eventLog, WORKFLOW_OUTBOX);

  function reservationOf(tenantId: string, wf: WorkflowDefinition): VersionReservation {
    const env = envelope(
      { eventId: deterministicId('evt', 'published', tenantId, wf.workflowId, wf.version), tenantId, aggregateId: wf.workflowId, occurredAt: wf.createdAt },
      { $case: 'workflowPublished', value: { workflow: wf } },
    );
    return { tenantId, workflowId: wf.workflowId, version: wf.version, records: reserveRecords([env]) };
  }

  /** Append, then apply: the event is the source of truth, the store its projection. */
  async function publish(reservation: VersionReservation): Promise<WorkflowDefinition> {
    await outbox.append(reservation);
    for (const env of envelopesOf(reservation)) await applyWorkflowPublished(store, env);
    return published(reservation);
  }

  /** Publishes any reserved versions past the head; returns the settled head's version. */
  async function settle(tenantId: string, workflowId: string): Promise<number> {
    let version = await repository.headVersion(tenantId, workflowId);
    for (;;) {
      const pending = await outbox.get(versionKey(tenantId, workflowId, version + 1));
      if (!pending) return version;
      await publish(pending);
      version++;
    }
  }

  /** Reserves `wf` as its version, or finds who did; publishes the reservation that holds. */
  async function reserveAndPublish(tenantId: string, wf: WorkflowDefinition): Promise<{ workflow: WorkflowDefinition; won: boolean }> {
    const { reservation, won } = await outbox.reserve(versionKey(tenantId, wf.workflowId, wf.version), reservationOf(tenantId, wf));
    return { workflow: await publish(reservation), won };
  }

  return {
    async createWorkflow(req) {
      if (!req.tenantId) throw new ValidationError('tenant_id is required');
      const input = parseWorkflowInput({ name: req.name, objectType: req.objectType, actions: req.actions.map(actionToInput) }, actionBounds(boundPolicy(req.limits, deps.limits), deps.limits));
      const workflowId = req.requestId ? deterministicId('wf', req.tenantId, req.requestId) : newId('wf');
      if (await repository.headVersion(req.tenantId, workflowId)) return repository.load(req.tenantId, workflowId, 1);
      const wf: WorkflowDefinition = { workflowId, version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: clock() };
      return (await reserveAndPublish(req.tenantId, wf)).workflow;
    },
    async updateWorkflow(req) {
      if (!req.tenantId) throw new ValidationError('tenant_id is required');
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const head = await settle(req.tenantId, req.workflowId);
        if (!head) throw new NotFoundError(`workflow ${req.workflowId} not found`);
        const current = await repository.load(req.tenantId, req.workflowId, head);
        const input = parseWorkflowInput(
          { name: req.name || current.name, objectType: req.objectType || current.objectType, actions: req.actions.map(actionToInput) },
          actionBounds(boundPolicy(req.limits, deps.limits), deps.limits),
        );
        const wf: WorkflowDefinition = { workflowId: current.workflowId, version: head + 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: clock() };
        const { workflow, won } = await reserveAndPublish(req.tenantId, wf);
        if (won) return workflow;
      }
      throw new ConflictError(`workflow ${req.workflowId} is being updated by others at the same time; try again`);
    },
  };
}
