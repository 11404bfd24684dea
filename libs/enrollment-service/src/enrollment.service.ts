/**
 * The enrollment service: owns workflow definitions (immutable versions) and the step machine.
 * gRPC `Workflows` and `Enrollments`; consumes action results and turns them, through the pure
 * decider, into the next requests; fires scheduled retries and schedule triggers' ticks. Its
 * queryable state (workflows, schedules, enroll requests, retry timers, tenants' limits) is made of projections of the log, rebuilt by `codestep replay`.
 */
import type { WorkflowDefinition, enrollmentsV1, workflowsV1 } from '@codestep/contracts';
import { DEFAULT_STEP_POLICY, type Logger, type Clock, type RunBounds, type StepPolicy } from '@codestep/core';
import type { EventLog, Subscription } from '@codestep/event-log';
import { Topics } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { DEFAULT_OPERATOR_LIMITS, DEFAULT_SCHEDULE_BOUNDS, type OperatorLimits, type RetryPolicy, type ScheduleBounds } from '@codestep/workflows';
import { createActionResultsConsumer } from './action-results.consumer.ts';
import { createEnrollCommand, ensureEnrollOutbox } from './enroll.command.ts';
import { createTestActionCommand } from './test-action.command.ts';
import { ensureEnrollmentStates } from './enrollment-states.projection.ts';
import { createRetryCommands, ensureRetryOutbox } from './retry.commands.ts';
import { ensureEnrollRequests } from './enroll-requests.projection.ts';
import { consumeEnrollmentProjections } from './enrollment-projections.consumer.ts';
import { ensureRetryTimers } from './retry-timers.projection.ts';
import { ensureWorkflowRuns } from './workflow-runs.projection.ts';
import { createRetryTimersScheduler } from './retry-timers.scheduler.ts';
import { createScheduleTicker, ensureScheduleOutbox } from './schedule.ticker.ts';
import { ensureSchedules, workflowSchedule } from './schedules.projection.ts';
import { createWorkflowCommands, ensureWorkflowOutbox } from './workflow.commands.ts';
import { createWaitCommands, ensureWaitOutbox } from './wait.commands.ts';
import { ensureWorkflowWaits } from './workflow-waits.projection.ts';
import { ensureTenantLimits } from './tenant-limits.projection.ts';
import { createGrantStamper, type GrantSettings } from './execution-grant.stamper.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import { ensureWorkflowCollections } from './workflows.projection.ts';

export interface EnrollmentServiceDeps {
  store: DocumentStore;
  eventLog: EventLog;
  clock: Clock;
  logger: Logger;
  retryPolicy: RetryPolicy;
  /**
   * The operator's execution limits. Requests carry the tenant's policy (from the gateway); it is
   * brought within these bounds, and stands in for a request that carries none. @default DEFAULT_OPERATOR_LIMITS
   */
  limits?: OperatorLimits;
  /**
   * JsWorkflows: the caps on a run's chain depth and branches (and, with a whole `StepPolicy`, the
   * largest data of a resumed wait). @default `DEFAULT_STEP_POLICY` of `@codestep/core`
   */
  steps?: RunBounds | StepPolicy;
  /** How often due retries, scheduled steps and schedule ticks are looked for, ms. @default 1000 */
  timerIntervalMs?: number;
  /** Schedule triggers: the shortest interval a workflow may ask for, and how late a tick is still on time. @default DEFAULT_SCHEDULE_BOUNDS */
  schedule?: ScheduleBounds;
  /** Signs the execution grant of each action request (see `./execution-grant.stamper.ts`). */
  grants: GrantSettings;
}

export interface EnrollmentService {
  workflows: {
    createWorkflow(req: workflowsV1.CreateWorkflowRequest): Promise<WorkflowDefinition>;
    updateWorkflow(req: workflowsV1.UpdateWorkflowRequest): Promise<WorkflowDefinition>;
    getWorkflow(req: workflowsV1.GetWorkflowRequest): Promise<WorkflowDefinition>;
    listWorkflows(req: workflowsV1.ListWorkflowsRequest): Promise<workflowsV1.ListWorkflowsResponse>;
    setWorkflowStatus(req: workflowsV1.SetWorkflowStatusRequest): Promise<workflowsV1.WorkflowState>;
    getWorkflowState(req: workflowsV1.GetWorkflowRequest): Promise<workflowsV1.WorkflowState>;
    listWorkflowVersions(req: workflowsV1.ListWorkflowVersionsRequest): Promise<workflowsV1.ListWorkflowVersionsResponse>;
    rollbackWorkflow(req: workflowsV1.RollbackWorkflowRequest): Promise<WorkflowDefinition>;
    getWorkflowSchedule(req: workflowsV1.GetWorkflowRequest): Promise<workflowsV1.WorkflowSchedule>;
  };
  enrollments: {
    enroll(req: enrollmentsV1.EnrollRequest): Promise<enrollmentsV1.EnrollResponse>;
    testAction(req: enrollmentsV1.TestActionRequest): Promise<enrollmentsV1.TestActionResponse>;
    retryEnrollment(req: enrollmentsV1.RetryEnrollmentRequest): Promise<enrollmentsV1.RetryEnrollmentResponse>;
    startRetryJob(req: enrollmentsV1.StartRetryJobRequest): Promise<enrollmentsV1.RetryJob>;
    getRetryJob(req: enrollmentsV1.GetRetryJobRequest): Promise<enrollmentsV1.RetryJob>;
    resumeWait(req: enrollmentsV1.ResumeWaitRequest): Promise<enrollmentsV1.ResumeWaitResponse>;
  };
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Every collection the service keeps, created (with its indexes) at start. */
const ENSURE_COLLECTIONS = [
  ensureWorkflowCollections,
  ensureWorkflowOutbox,
  ensureEnrollRequests,
  ensureEnrollOutbox,
  ensureRetryTimers,
  ensureWorkflowRuns,
  ensureEnrollmentStates,
  ensureRetryOutbox,
  ensureSchedules,
  ensureScheduleOutbox,
  ensureWorkflowWaits,
  ensureWaitOutbox,
  ensureTenantLimits,
];

export function createEnrollmentService(deps: EnrollmentServiceDeps): EnrollmentService {
  const { store, eventLog, clock, logger } = deps;
  const limits = deps.limits ?? DEFAULT_OPERATOR_LIMITS;
  const repository = createWorkflowRepository(store);
  const scheduleBounds = deps.schedule ?? DEFAULT_SCHEDULE_BOUNDS;
  const commands = createWorkflowCommands({ store, eventLog, clock, repository, limits, schedule: scheduleBounds });
  const stampGrants = createGrantStamper(deps.grants);
  const enroll = createEnrollCommand({ store, eventLog, clock, repository, limits, stampGrants });
  const steps = deps.steps ?? DEFAULT_STEP_POLICY;
  const waits = createWaitCommands({ store, eventLog, clock, logger, maxPayloadChars: 'maxPayloadChars' in steps ? (steps as StepPolicy).maxPayloadChars : DEFAULT_STEP_POLICY.maxPayloadChars });
  const timers = createRetryTimersScheduler({ store, eventLog, clock, logger, repository, stampGrants, timeOutWaits: waits.timeOutMany });
  const ticker = createScheduleTicker({ store, eventLog, clock, logger, enroll, bounds: scheduleBounds });
  const actionResults = createActionResultsConsumer({
    store,
    clock,
    logger,
    retryPolicy: deps.retryPolicy,
    runBounds: steps,
    repository,
    onTimersScheduled: timers.wake,
    stampGrants,
  });
  const retries = createRetryCommands({ store, eventLog, clock, logger, repository, stampGrants });
  const subscriptions: Subscription[] = [];

  return {
    workflows: {
      ...commands,
      getWorkflow: (req) => repository.load(req.tenantId, req.workflowId, req.version),
      listWorkflows: async (req) => {
        const heads = await repository.listHeads(req.tenantId);
        const states = await Promise.all(heads.map((h) => repository.state(req.tenantId, h.workflowId)));
        const shown = heads.map((wf, i) => ({ wf, state: states[i]! })).filter((x) => req.includeArchived || x.state.status !== 'archived');
        return { workflows: shown.map((x) => x.wf), states: shown.map((x) => x.state) };
      },
      getWorkflowState: (req) => repository.state(req.tenantId, req.workflowId),
      listWorkflowVersions: async (req) => ({ versions: await repository.listVersions(req.tenantId, req.workflowId) }),
      getWorkflowSchedule: (req) => workflowSchedule(store, repository, req.tenantId, req.workflowId),
    },
    enrollments: {
      enroll,
      testAction: createTestActionCommand({ eventLog, clock, repository, limits, stampGrants }),
      retryEnrollment: retries.retryEnrollment,
      startRetryJob: retries.startRetryJob,
      getRetryJob: retries.getRetryJob,
      resumeWait: waits.resume,
    },
    async start() {
      for (const ensure of ENSURE_COLLECTIONS) await ensure(store);
      await eventLog.ensureTopics([Topics.workflows, Topics.enrollments, Topics.actions, Topics.actionRetries, Topics.consoleLines, Topics.tenants]);
      subscriptions.push(await consumeEnrollmentProjections(store, eventLog, logger));
      subscriptions.push(
        await eventLog.consume({
          group: 'codestep-enrollment',
          topics: [Topics.actions],
          handle: actionResults,
          // The next step of an enrollment is on its path: before the projections (embedded mode).
          priority: 1,
          onError: (error) => logger.error({ error }, 'enrollment step failed; will retry the batch'),
        }),
      );
      timers.start(deps.timerIntervalMs ?? 1000);
      ticker.start(deps.timerIntervalMs ?? 1000);
      await retries.resume();
    },
    async stop() {
      for (const s of subscriptions.splice(0)) await s.stop();
      await timers.stop();
      await ticker.stop();
      await retries.idle();
    },
  };
}
