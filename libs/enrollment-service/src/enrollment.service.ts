/**
 * The enrollment service: owns workflow definitions (immutable versions) and the step machine.
 * gRPC `Workflows` and `Enrollments`; consumes action results and turns them, through the pure
 * decider, into the next requests, in one consume→produce step (exactly once per the log's
 * contract); keeps timers for scheduled retries.
 */
import type { WorkflowDefinition, enrollmentsV1, workflowsV1 } from '@codestep/contracts';
import { NotFoundError, ValidationError, deterministicId, newId, type Clock, type Logger } from '@codestep/core';
import type { EventLog, LogRecord, Subscription } from '@codestep/event-log';
import { Topics, envelope, fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { SpanKind, currentTraceparent, withSpan } from '@codestep/telemetry';
import {
  DEFAULT_OPERATOR_LIMITS,
  actionBounds,
  actionToInput,
  boundPolicy,
  onActionResult,
  onRetryDue,
  parseWorkflowInput,
  startEnrollment,
  type OperatorLimits,
  type RetryPolicy,
} from '@codestep/workflows';

const WORKFLOWS = 'workflows';
const HEADS = 'workflow_heads';
const TIMERS = 'retry_timers';
const REQUESTS = 'enroll_requests';

interface HeadDoc {
  tenantId: string;
  workflowId: string;
  version: number;
  name: string;
  createdAt: number;
}
interface TimerDoc {
  kind: 'retry';
  tenantId: string;
  dueAt: number;
  /** The ActionRetryScheduled envelope, JSON. */
  envelope: string;
}

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
  /** How often due retries are looked for, ms. @default 1000 */
  timerIntervalMs?: number;
}

export interface EnrollmentService {
  workflows: {
    createWorkflow(req: workflowsV1.CreateWorkflowRequest): Promise<WorkflowDefinition>;
    updateWorkflow(req: workflowsV1.UpdateWorkflowRequest): Promise<WorkflowDefinition>;
    getWorkflow(req: workflowsV1.GetWorkflowRequest): Promise<WorkflowDefinition>;
    listWorkflows(req: workflowsV1.ListWorkflowsRequest): Promise<workflowsV1.ListWorkflowsResponse>;
  };
  enrollments: {
    enroll(req: enrollmentsV1.EnrollRequest): Promise<enrollmentsV1.EnrollResponse>;
  };
  start(): Promise<void>;
  stop(): Promise<void>;
}

const wfKey = (tenantId: string, workflowId: string, version: number) => `${tenantId}/${workflowId}@${version}`;
const headKey = (tenantId: string, workflowId: string) => `${tenantId}/${workflowId}`;

export function createEnrollmentService(deps: EnrollmentServiceDeps): EnrollmentService {
  const { store, eventLog, clock, logger } = deps;
  const operatorLimits = deps.limits ?? DEFAULT_OPERATOR_LIMITS;
  const cache = new Map<string, WorkflowDefinition>();
  let subscription: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerRun: Promise<void> = Promise.resolve();

  async function loadWorkflow(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition> {
    if (!tenantId) throw new ValidationError('tenant_id is required');
    let v = version;
    if (!v) {
      const head = await store.get<HeadDoc>(HEADS, headKey(tenantId, workflowId));
      if (!head) throw new NotFoundError(`workflow ${workflowId} not found`);
      v = head.doc.version;
    }
    const key = wfKey(tenantId, workflowId, v);
    const hit = cache.get(key);
    if (hit) return hit;
    const doc = await store.get<WorkflowDefinition>(WORKFLOWS, key);
    if (!doc) throw new NotFoundError(`workflow ${workflowId} version ${v} not found`);
    cache.set(key, doc.doc);
    return doc.doc;
  }

  async function publish(tenantId: string, wf: WorkflowDefinition): Promise<void> {
    const env = envelope(
      { eventId: deterministicId('evt', 'published', tenantId, wf.workflowId, wf.version), tenantId, aggregateId: wf.workflowId, occurredAt: wf.createdAt },
      { $case: 'workflowPublished', value: { workflow: wf } },
    );
    // The event is the source of truth; the store is its projection, written through here and
    // rebuilt from the topic on replay.
    await eventLog.append([toRecord(env, currentTraceparent())]);
    await applyPublished(tenantId, wf);
  }

  async function applyPublished(tenantId: string, wf: WorkflowDefinition): Promise<void> {
    await store.writeVersioned(WORKFLOWS, [{ id: wfKey(tenantId, wf.workflowId, wf.version), version: wf.version, doc: { ...wf, tenantId } }]);
    await store.writeVersioned<HeadDoc>(HEADS, [
      { id: headKey(tenantId, wf.workflowId), version: wf.version, doc: { tenantId, workflowId: wf.workflowId, version: wf.version, name: wf.name, createdAt: wf.createdAt } },
    ]);
  }

  const workflows: EnrollmentService['workflows'] = {
    async createWorkflow(req) {
      if (!req.tenantId) throw new ValidationError('tenant_id is required');
      const input = parseWorkflowInput({ name: req.name, objectType: req.objectType, actions: req.actions.map(actionToInput) }, actionBounds(boundPolicy(req.limits, operatorLimits), operatorLimits));
      const workflowId = req.requestId ? deterministicId('wf', req.tenantId, req.requestId) : newId('wf');
      const existing = await store.get<HeadDoc>(HEADS, headKey(req.tenantId, workflowId));
      if (existing) return loadWorkflow(req.tenantId, workflowId, 1);
      const wf: WorkflowDefinition = { workflowId, version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: clock() };
      await publish(req.tenantId, wf);
      return wf;
    },
    async updateWorkflow(req) {
      const current = await loadWorkflow(req.tenantId, req.workflowId, 0);
      const input = parseWorkflowInput(
        { name: req.name || current.name, objectType: req.objectType || current.objectType, actions: req.actions.map(actionToInput) },
        actionBounds(boundPolicy(req.limits, operatorLimits), operatorLimits),
      );
      const wf: WorkflowDefinition = { workflowId: current.workflowId, version: current.version + 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: clock() };
      await publish(req.tenantId, wf);
      return wf;
    },
    getWorkflow: (req) => loadWorkflow(req.tenantId, req.workflowId, req.version),
    async listWorkflows(req) {
      if (!req.tenantId) throw new ValidationError('tenant_id is required');
      const heads = await store.find<HeadDoc>(HEADS, { where: { tenantId: req.tenantId }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 500 });
      return { workflows: await Promise.all(heads.map((h) => loadWorkflow(req.tenantId, h.doc.workflowId, h.doc.version))) };
    },
  };

  const enrollments: EnrollmentService['enrollments'] = {
    async enroll(req) {
      if (!req.object || !req.object.objectId) throw new ValidationError('object.objectId is required: the id of the CRM object to enroll');
      const wf = await loadWorkflow(req.tenantId, req.workflowId, 0);
      const enrollmentId = req.requestId ? deterministicId('enr', req.tenantId, req.requestId) : newId('enr');
      if (req.requestId) {
        const first = await store.insertIfAbsent(REQUESTS, `${req.tenantId}/${req.requestId}`, { enrollmentId, workflowVersion: wf.version });
        if (!first) {
          const prior = await store.get<{ enrollmentId: string; workflowVersion: number }>(REQUESTS, `${req.tenantId}/${req.requestId}`);
          if (prior) {
            // Append again: ids are deterministic, so the log and its consumers drop duplicates,
            // and an enrollment whose first append was lost in a crash still happens.
            const again = await loadWorkflow(req.tenantId, req.workflowId, prior.doc.workflowVersion);
            await appendStart(again, req, prior.doc.enrollmentId, prior.doc.workflowVersion);
            return { enrollmentId: prior.doc.enrollmentId, workflowVersion: prior.doc.workflowVersion };
          }
        }
      }
      await appendStart(wf, req, enrollmentId, wf.version);
      return { enrollmentId, workflowVersion: wf.version };
    },
  };

  async function appendStart(wf: WorkflowDefinition, req: enrollmentsV1.EnrollRequest, enrollmentId: string, _version: number): Promise<void> {
    const object = { objectType: req.object?.objectType || wf.objectType, objectId: req.object?.objectId ?? '', properties: req.object?.properties ?? {} };
    // The tenant's policy as it is now, carried by every action request of this enrollment.
    const limits = boundPolicy(req.limits, operatorLimits);
    const events = startEnrollment(wf, { tenantId: req.tenantId, enrollmentId, object, portalId: req.portalId, trigger: req.trigger, limits }, clock());
    const tp = currentTraceparent();
    await eventLog.append(events.map((e) => toRecord(e, tp)));
  }

  async function handleBatch(batch: Array<{ value: Uint8Array; headers: Record<string, string> }>): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    for (const record of batch) {
      const env = fromRecord(record.value);
      if (!env) continue;
      const c = env.event.$case;
      if (c !== 'actionSucceeded' && c !== 'actionFailed' && c !== 'actionRetryScheduled') continue;
      await withSpan(`enrollment decide ${env.type}`, { kind: SpanKind.CONSUMER, parent: record.headers }, async () => {
        const ctx = (env.event.value as { context?: { workflowId: string; workflowVersion: number } }).context;
        if (!ctx) return;
        let wf: WorkflowDefinition;
        try {
          wf = await loadWorkflow(env.tenantId, ctx.workflowId, ctx.workflowVersion);
        } catch (error) {
          logger.error({ eventId: env.eventId, error }, 'action result for an unknown workflow version; skipped');
          return;
        }
        if (c === 'actionRetryScheduled') {
          await store.put<TimerDoc>(TIMERS, env.eventId, { kind: 'retry', tenantId: env.tenantId, dueAt: (env.event.value as { dueAt: number }).dueAt, envelope: JSON.stringify(env) });
          wakeTimers();
          return;
        }
        const next = onActionResult(wf, env.tenantId, env, deps.retryPolicy, clock());
        const tp = currentTraceparent();
        out.push(...next.map((e) => toRecord(e, tp)));
      });
    }
    return out;
  }

  async function runDueTimers(): Promise<void> {
    const timers = await store.find<TimerDoc>(TIMERS, { where: { kind: 'retry' }, orderBy: { field: 'dueAt', direction: 'asc' }, limit: 100 });
    const now = clock();
    for (const t of timers) {
      if (t.doc.dueAt > now) break;
      const env = JSON.parse(t.doc.envelope) as Envelope;
      const ctx = env.event.$case === 'actionRetryScheduled' ? env.event.value.context : undefined;
      if (!ctx) continue;
      const wf = await loadWorkflow(env.tenantId, ctx.workflowId, ctx.workflowVersion);
      const records = onRetryDue(wf, env.tenantId, env, now).map((e) => toRecord(e));
      // Append, then delete: a crash in between appends again with the same event ids.
      await eventLog.append(records);
      await store.delete(TIMERS, t.id);
    }
  }

  function wakeTimers(): void {
    timerRun = timerRun.then(runDueTimers).catch((error: unknown) => logger.error({ error }, 'retry timers failed'));
  }

  return {
    workflows,
    enrollments,
    async start() {
      await store.ensureCollection(WORKFLOWS, []);
      await store.ensureCollection(HEADS, [{ fields: ['tenantId', 'createdAt'] }]);
      await store.ensureCollection(TIMERS, [{ fields: ['kind', 'dueAt'] }]);
      await store.ensureCollection(REQUESTS, []);
      await eventLog.ensureTopics([Topics.workflows, Topics.enrollments, Topics.actions, Topics.logs]);
      subscription = await eventLog.consume({
        group: 'codestep-enrollment',
        topics: [Topics.actions],
        handle: handleBatch,
        onError: (error) => logger.error({ error }, 'enrollment step failed; will retry the batch'),
      });
      timer = setInterval(wakeTimers, deps.timerIntervalMs ?? 1000);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await subscription?.stop();
      await timerRun;
    },
  };
}
