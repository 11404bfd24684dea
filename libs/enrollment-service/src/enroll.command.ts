/**
 * Enroll: starts an enrollment on a workflow's head. With a request id it is idempotent: the
 * start's events are reserved in the outbox under the request id (see `./command.outbox.ts`),
 * appended, then recorded in the enroll requests projection; a retry returns the recorded
 * enrollment, or re-appends the reserved events if a crash came before they were recorded.
 */
import type { WorkflowDefinition, enrollmentsV1 } from '@codestep/contracts';
import { CodestepError, ValidationError, newId, deterministicId, type Clock } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { toRecord } from '@codestep/events';
import { tenantScoped, type DocumentStore } from '@codestep/store';
import { annotateActiveSpan, currentTraceparent, idAttributes } from '@codestep/telemetry';
import { boundPolicy, sameObjectType, startEnrollment, type OperatorLimits } from '@codestep/workflows';
import { createCommandOutbox, envelopesOf, reserveRecords, type Reservation } from './command.outbox.ts';
import { ENROLL_REQUESTS, applyEnrollmentStarted, requestKey, type EnrollRequestDoc } from './enroll-requests.projection.ts';
import type { GrantStamper } from './execution-grant.stamper.ts';
import type { WorkflowRepository } from './workflow.repository.ts';

/** The outbox of enroll requests' starts. */
export const ENROLL_OUTBOX = 'enroll_outbox';

interface StartReservation extends Reservation {
  enrollmentId: string;
  workflowVersion: number;
}

export interface EnrollCommandDeps {
  store: DocumentStore;
  eventLog: EventLog;
  clock: Clock;
  repository: WorkflowRepository;
  limits: OperatorLimits;
  stampGrants: GrantStamper;
}

export type EnrollCommand = (req: enrollmentsV1.EnrollRequest) => Promise<enrollmentsV1.EnrollResponse>;

export async function ensureEnrollOutbox(store: DocumentStore): Promise<void> {
  await store.ensureCollection(ENROLL_OUTBOX, []);
}

/**
 * A disabled or archived workflow takes no new enrollment (nor webhook call): 409 with the way
 * back. A request already recorded before it was disabled still answers with its enrollment.
 */
export async function refuseUnlessEnabled(repository: WorkflowRepository, tenantId: string, workflowId: string, headVersion?: number): Promise<void> {
  const { status, changedAt } = await repository.state(tenantId, workflowId, headVersion);
  const since = changedAt ? ` since ${new Date(changedAt).toISOString()}` : '';
  if (status === 'disabled')
    throw new CodestepError(
      'WORKFLOW_DISABLED',
      `workflow ${workflowId} is disabled${since}: it takes no new enrollments (enrollments already running finish). Enable it with POST /v1/workflows/${workflowId}/enable`,
    );
  if (status === 'archived')
    throw new CodestepError('WORKFLOW_ARCHIVED', `workflow ${workflowId} is archived${since}: it takes no enrollments. Restore it with POST /v1/workflows/${workflowId}/enable`);
}

/**
 * An enrollment is about an object of the workflow's type (in any of its spellings: `contacts`,
 * `CONTACT`, `0-1`); a webhook payload fits any workflow.
 * @throws ValidationError naming `object.objectType`, both types and what to do.
 */
export function refuseOtherObjectType(wf: WorkflowDefinition, objectType: string): void {
  if (sameObjectType(wf.objectType, objectType)) return;
  throw new ValidationError(
    `object.objectType: ${JSON.stringify(objectType)} does not match workflow ${wf.workflowId}, which enrolls ${wf.objectType} objects; enroll a ${wf.objectType} (or leave objectType out), or use a workflow of ${objectType} objects`,
    { field: 'object.objectType' },
  );
}

export function createEnrollCommand(deps: EnrollCommandDeps): EnrollCommand {
  const { store, clock } = deps;
  const outbox = createCommandOutbox<StartReservation>(store, deps.eventLog, ENROLL_OUTBOX);

  function start(wf: WorkflowDefinition, req: enrollmentsV1.EnrollRequest, enrollmentId: string) {
    const object = { objectType: req.object?.objectType || wf.objectType, objectId: req.object?.objectId ?? '', properties: req.object?.properties ?? {} };
    // The tenant's policy as it is now, carried by every action request of this enrollment.
    const limits = boundPolicy(req.limits, deps.limits);
    return deps.stampGrants(
      wf,
      startEnrollment(
        wf,
        {
          tenantId: req.tenantId,
          enrollmentId,
          object,
          portalId: req.portalId,
          trigger: req.trigger,
          limits,
          requestId: req.requestId || undefined,
          hubspot: req.hubspot,
          dryRun: req.dryRun,
          crmRead: req.crmRead,
        },
        clock(),
      ),
    );
  }

  return async (req) => {
    const enrolled = await enroll(req);
    annotateActiveSpan(idAttributes({ tenantId: req.tenantId, workflowId: req.workflowId, enrollmentId: enrolled.enrollmentId }));
    return enrolled;
  };

  async function enroll(req: enrollmentsV1.EnrollRequest): Promise<enrollmentsV1.EnrollResponse> {
    if (!req.object || !req.object.objectId) throw new ValidationError('object.objectId is required: the id of the CRM object to enroll');
    const wf = await deps.repository.load(req.tenantId, req.workflowId, 0);
    refuseOtherObjectType(wf, req.object.objectType);
    if (!req.requestId) {
      await refuseUnlessEnabled(deps.repository, req.tenantId, req.workflowId, wf.version);
      const enrollmentId = newId('enr');
      const tp = currentTraceparent();
      await deps.eventLog.append(start(wf, req, enrollmentId).map((e) => toRecord(e, tp)));
      return { enrollmentId, workflowVersion: wf.version };
    }
    const key = requestKey(req.tenantId, req.requestId);
    const recorded = await tenantScoped(store, req.tenantId).get<EnrollRequestDoc>(ENROLL_REQUESTS, req.requestId);
    if (recorded) return { enrollmentId: recorded.doc.enrollmentId, workflowVersion: recorded.doc.workflowVersion };
    await refuseUnlessEnabled(deps.repository, req.tenantId, req.workflowId, wf.version);
    const enrollmentId = deterministicId('enr', req.tenantId, req.requestId);
    const envs = start(wf, req, enrollmentId);
    const { reservation } = await outbox.reserve(key, { tenantId: req.tenantId, enrollmentId, workflowVersion: wf.version, records: reserveRecords(envs) });
    await outbox.append(reservation);
    await applyEnrollmentStarted(store, ...envelopesOf(reservation));
    return { enrollmentId: reservation.enrollmentId, workflowVersion: reservation.workflowVersion };
  }
}
