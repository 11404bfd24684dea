/**
 * Creating and updating workflows. A new version is reserved in the outbox first (one payload per
 * tenant/workflow/version, whoever gets there first), then its `WorkflowPublished` is appended
 * under an id derived from tenant/workflow/version, then applied to the projection so the caller
 * reads its own write. A reservation left unapplied by a crash is published by the retry, or by
 * the next update of that workflow, before it goes on. Of two replicas updating one workflow at
 * once, one wins the version; the other publishes the winner's and takes the next one.
 *
 * An update whose definition equals the head's publishes nothing (the head is the answer); a
 * rollback publishes a new version equal to an older one, marked `rolledBackFrom`. Lifecycle
 * changes (enable, disable, archive) go the same way, numbered by their own sequence.
 */
import type { WorkflowDefinition, workflowsV1 } from '@codestep/contracts';
import { CodestepError, ConflictError, NotFoundError, ValidationError, deterministicId, newId, type Clock } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { envelope } from '@codestep/events';
import { tenantKey, type DocumentStore } from '@codestep/store';
import {
  DEFAULT_SCHEDULE_BOUNDS,
  WORKFLOW_STATUSES,
  actionBounds,
  actionToInput,
  boundPolicy,
  isWorkflowStatus,
  parseWorkflowInput,
  sameDefinition,
  triggerToInput,
  type OperatorLimits,
  type ScheduleBounds,
  type WorkflowInput,
} from '@codestep/workflows';
import { createCommandOutbox, envelopesOf, reserveRecords, type Reservation } from './command.outbox.ts';
import { applyToSchedule } from './schedules.projection.ts';
import type { WorkflowRepository } from './workflow.repository.ts';
import { applyWorkflowPublished, applyWorkflowStatusChanged, versionKey } from './workflows.projection.ts';

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
  /** A new version; none when the definition equals the head's (the head is returned). Refused for an archived workflow. */
  updateWorkflow(req: workflowsV1.UpdateWorkflowRequest): Promise<WorkflowDefinition>;
  /** A new version equal to `toVersion` (none when the head already is). Refused for an archived workflow. */
  rollbackWorkflow(req: workflowsV1.RollbackWorkflowRequest): Promise<WorkflowDefinition>;
  /** Enable, disable or archive; nothing is published when the status is already that. */
  setWorkflowStatus(req: workflowsV1.SetWorkflowStatusRequest): Promise<workflowsV1.WorkflowState>;
}

export interface WorkflowCommandsDeps {
  store: DocumentStore;
  eventLog: EventLog;
  clock: Clock;
  repository: WorkflowRepository;
  limits: OperatorLimits;
  /** The operator's bounds on schedule triggers. @default DEFAULT_SCHEDULE_BOUNDS */
  schedule?: Pick<ScheduleBounds, 'minIntervalMs'>;
}

export async function ensureWorkflowOutbox(store: DocumentStore): Promise<void> {
  await store.ensureCollection(WORKFLOW_OUTBOX, []);
  await store.ensureCollection(WORKFLOW_STATUS_OUTBOX, []);
}

/** The outbox of workflow status changes (one reservation per tenant/workflow/sequence). */
export const WORKFLOW_STATUS_OUTBOX = 'workflow_status_outbox';

interface StatusReservation extends Reservation {
  workflowId: string;
  sequence: number;
}

/**
 * Enable, disable, archive: the next status change of a workflow is reserved under its sequence
 * number, appended as `WorkflowStatusChanged`, then applied. A status equal to the current one
 * publishes nothing; of two concurrent changes, one takes the sequence and the other the next.
 */
function createWorkflowStatusCommand(deps: WorkflowCommandsDeps): WorkflowCommands['setWorkflowStatus'] {
  const { store, clock, repository } = deps;
  const statusOutbox = createCommandOutbox<StatusReservation>(store, deps.eventLog, WORKFLOW_STATUS_OUTBOX);
  const statusKey = (tenantId: string, workflowId: string, sequence: number) => tenantKey(tenantId, `${workflowId}#status@${sequence}`);

  /** Publishes (again) a reserved change: append, then apply. */
  async function publish(reservation: StatusReservation): Promise<void> {
    await statusOutbox.append(reservation);
    for (const env of envelopesOf(reservation)) {
      await applyWorkflowStatusChanged(store, env);
      await applyToSchedule(store, env);
    }
  }

  /** Publishes the reserved status changes past the projected one; returns the settled sequence. */
  async function settleStatus(tenantId: string, workflowId: string): Promise<number> {
    let sequence = (await repository.state(tenantId, workflowId)).sequence;
    for (;;) {
      const pending = await statusOutbox.get(statusKey(tenantId, workflowId, sequence + 1));
      if (!pending) return sequence;
      await publish(pending);
      sequence++;
    }
  }

  return async (req) => {
    if (!req.tenantId) throw new ValidationError('tenant_id is required');
    if (!isWorkflowStatus(req.status)) throw new ValidationError(`status must be one of ${WORKFLOW_STATUSES.join(', ')}, got ${JSON.stringify(req.status.slice(0, 40))}`, { field: 'status' });
    if (req.reason.length > 500) throw new ValidationError('reason must be at most 500 characters', { field: 'reason' });
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const sequence = await settleStatus(req.tenantId, req.workflowId);
      const state = await repository.state(req.tenantId, req.workflowId);
      if (state.status === req.status) return state;
      const next = sequence + 1;
      const env = envelope(
        { eventId: deterministicId('evt', 'status', req.tenantId, req.workflowId, next), tenantId: req.tenantId, aggregateId: req.workflowId, occurredAt: clock() },
        { $case: 'workflowStatusChanged', value: { workflowId: req.workflowId, status: req.status, sequence: next, reason: req.reason } },
      );
      const { reservation, won } = await statusOutbox.reserve(statusKey(req.tenantId, req.workflowId, next), {
        tenantId: req.tenantId,
        workflowId: req.workflowId,
        sequence: next,
        records: reserveRecords([env]),
      });
      await publish(reservation);
      if (won) return repository.state(req.tenantId, req.workflowId);
    }
    throw new ConflictError(`workflow ${req.workflowId} is being changed by others at the same time; try again`);
  };
}

/** An archived workflow takes no new version until it is restored. */
function refuseArchived(workflowId: string, status: string): void {
  if (status === 'archived') throw new CodestepError('WORKFLOW_ARCHIVED', `workflow ${workflowId} is archived: restore it with POST /v1/workflows/${workflowId}/enable before changing it`);
}

function published(reservation: VersionReservation): WorkflowDefinition {
  const env = envelopesOf(reservation)[0];
  if (env?.event.$case !== 'workflowPublished' || !env.event.value.workflow) throw new Error(`reservation ${reservation.workflowId}@${reservation.version} holds no WorkflowPublished`);
  // Decoded, an absent optional field is an own `undefined`; stored, it is no field: answer as stored.
  const { rolledBackFrom, trigger, crmProperties, ...definition } = env.event.value.workflow;
  return { ...definition, ...(rolledBackFrom ? { rolledBackFrom } : {}), ...(trigger ? { trigger } : {}), ...(crmProperties ? { crmProperties } : {}) };
}

const triggerInput = (t: WorkflowDefinition['trigger']) => (t ? triggerToInput(t) : undefined);

/** A request's or a saved version's fields as the body the rules check. */
const bodyOf = (x: Pick<WorkflowDefinition, 'name' | 'objectType' | 'actions' | 'trigger' | 'crmProperties'>) => ({
  name: x.name,
  objectType: x.objectType,
  actions: x.actions.map(actionToInput),
  trigger: triggerInput(x.trigger),
  crmProperties: x.crmProperties?.names,
});

/** A parsed body as a definition's fields (the trigger only when there is one, as stored). */
const definitionOf = (input: WorkflowInput): Pick<WorkflowDefinition, 'name' | 'objectType' | 'actions' | 'trigger' | 'crmProperties'> => ({
  name: input.name,
  objectType: input.objectType,
  actions: input.actions,
  ...(input.trigger ? { trigger: input.trigger } : {}),
  ...(input.crmProperties?.length ? { crmProperties: { names: input.crmProperties } } : {}),
});

/** A version's events applied to the workflows and schedules projections (the caller reads its write). */
async function applyPublished(store: DocumentStore, reservation: VersionReservation): Promise<void> {
  for (const env of envelopesOf(reservation)) {
    await applyWorkflowPublished(store, env);
    await applyToSchedule(store, env);
  }
}

export function createWorkflowCommands(deps: WorkflowCommandsDeps): WorkflowCommands {
  const { store, clock, repository } = deps;
  const outbox = createCommandOutbox<VersionReservation>(store, deps.eventLog, WORKFLOW_OUTBOX);
  const setWorkflowStatus = createWorkflowStatusCommand(deps);
  const parse = (body: Record<string, unknown>, bounds: ReturnType<typeof actionBounds>) => definitionOf(parseWorkflowInput(body, bounds, deps.schedule ?? DEFAULT_SCHEDULE_BOUNDS));

  /** Updates to `wf` (a version past the head) unless it equals the head: the version published, or the head. */
  async function publishVersion(tenantId: string, workflowId: string, next: (head: WorkflowDefinition) => WorkflowDefinition): Promise<WorkflowDefinition> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const head = await settle(tenantId, workflowId);
      if (!head) throw new NotFoundError(`workflow ${workflowId} not found`);
      refuseArchived(workflowId, (await repository.state(tenantId, workflowId)).status);
      const current = await repository.load(tenantId, workflowId, head);
      const wf = next(current);
      if (sameDefinition(wf, current)) return current;
      const { workflow, won } = await reserveAndPublish(tenantId, { ...wf, version: head + 1 });
      if (won) return workflow;
    }
    throw new ConflictError(`workflow ${workflowId} is being updated by others at the same time; try again`);
  }

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
    await applyPublished(store, reservation);
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
      const input = parse(bodyOf(req), actionBounds(boundPolicy(req.limits, deps.limits), deps.limits));
      const workflowId = req.requestId ? deterministicId('wf', req.tenantId, req.requestId) : newId('wf');
      if (await repository.headVersion(req.tenantId, workflowId)) return repository.load(req.tenantId, workflowId, 1);
      const wf: WorkflowDefinition = { workflowId, version: 1, ...input, createdAt: clock() };
      return (await reserveAndPublish(req.tenantId, wf)).workflow;
    },
    async updateWorkflow(req) {
      if (!req.tenantId) throw new ValidationError('tenant_id is required');
      const bounds = actionBounds(boundPolicy(req.limits, deps.limits), deps.limits);
      return publishVersion(req.tenantId, req.workflowId, (current) => {
        const input = parse(bodyOf({ ...req, name: req.name || current.name, objectType: req.objectType || current.objectType }), bounds);
        return { workflowId: current.workflowId, version: 0, ...input, createdAt: clock() };
      });
    },
    async rollbackWorkflow(req) {
      if (!req.tenantId) throw new ValidationError('tenant_id is required');
      if (!req.toVersion) throw new ValidationError('toVersion is required: the version to roll back to (see GET /v1/workflows/{id}/versions)', { field: 'toVersion' });
      const head = await repository.headVersion(req.tenantId, req.workflowId);
      if (!head) throw new NotFoundError(`workflow ${req.workflowId} not found`);
      if (req.toVersion > head) throw new NotFoundError(`workflow ${req.workflowId} has no version ${req.toVersion}: its versions are 1 to ${head} (GET /v1/workflows/${req.workflowId}/versions)`);
      const target = await repository.load(req.tenantId, req.workflowId, req.toVersion);
      const bounds = actionBounds(boundPolicy(req.limits, deps.limits), deps.limits);
      return publishVersion(req.tenantId, req.workflowId, (current) => {
        // Checked again: the tenant's ceilings may have been lowered since that version was saved.
        const input = parse(bodyOf(target), bounds);
        return { workflowId: current.workflowId, version: 0, ...input, createdAt: clock(), rolledBackFrom: target.version };
      });
    },
    setWorkflowStatus,
  };
}
