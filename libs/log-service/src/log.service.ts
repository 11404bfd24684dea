/**
 * The log service: projects every topic into the history views (enrollments, executions,
 * execution logs) and serves them over gRPC `History`, with a live tail. Projection writes are
 * versioned by log offset and deduplicated by event id, so redelivery changes nothing and a
 * rebuild from the beginning of the topics gives identical documents.
 */
import type { historyV1 } from '@codestep/contracts';
import { NotFoundError, ValidationError, type Logger } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';
import { Topics, fromRecord, plainToFieldMap, type Envelope } from '@codestep/events';
import {
  applyToEnrollment,
  applyToExecution,
  applyToLogs,
  type EnrollmentDoc,
  type ErrorView,
  type ExecutionDoc,
  type ExecutionLogsDoc,
} from '@codestep/history';
import type { DocumentStore, StoredDoc } from '@codestep/store';
import { EventEmitter } from 'node:events';

export const PROJECTIONS = { enrollments: 'enrollments', executions: 'executions', logs: 'execution_logs' } as const;

export interface LogServiceDeps {
  store: DocumentStore;
  eventLog: EventLog;
  logger: Logger;
  /** Consumer group; a rebuild uses a fresh one. @default 'codestep-log' */
  group?: string;
}

export interface LogService {
  history: {
    getEnrollment(req: historyV1.GetEnrollmentRequest): Promise<historyV1.EnrollmentView>;
    listEnrollments(req: historyV1.ListEnrollmentsRequest): Promise<historyV1.ListEnrollmentsResponse>;
    getExecution(req: historyV1.GetExecutionRequest): Promise<historyV1.ExecutionView>;
    tail(req: historyV1.TailRequest, write: (e: historyV1.TailEvent) => boolean, signal: AbortSignal): Promise<void>;
  };
  /** Applies a batch of records to the projections (used by the consumer and by rebuilds). */
  applyBatch(batch: ConsumedRecord[]): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

type Reducer<D> = (doc: D | undefined, env: Envelope) => D | undefined;

export async function ensureProjectionCollections(store: DocumentStore): Promise<void> {
  await store.ensureCollection(PROJECTIONS.enrollments, [{ fields: ['tenantId', 'startedAt'] }, { fields: ['tenantId', 'workflowId'] }, { fields: ['tenantId', 'status'] }]);
  await store.ensureCollection(PROJECTIONS.executions, [{ fields: ['tenantId', 'enrollmentId'] }]);
  await store.ensureCollection(PROJECTIONS.logs, [{ fields: ['tenantId', 'enrollmentId'] }]);
}

export function createLogService(deps: LogServiceDeps): LogService {
  const { store, eventLog, logger } = deps;
  const tail = new EventEmitter();
  tail.setMaxListeners(0);
  let subscription: Subscription | undefined;

  async function project<D>(collection: string, reducer: Reducer<D>, items: Array<{ env: Envelope; offset: number }>): Promise<void> {
    if (!items.length) return;
    const ids = [...new Set(items.map((i) => i.env.aggregateId))];
    const current = await store.getMany<D>(collection, ids);
    const next = new Map<string, { doc: D; version: number }>();
    for (const { env, offset } of items) {
      // Versions are offset + 1: offsets start at 0 (Kafka), and 0 means "no document".
      const version = offset + 1;
      const id = env.aggregateId;
      const before = next.get(id)?.doc ?? current.get(id)?.doc;
      const storedVersion = current.get(id)?.version ?? 0;
      if (version <= storedVersion && !next.has(id)) continue; // applied before (by offset)
      const after = reducer(before, env);
      if (after !== undefined) next.set(id, { doc: after, version });
    }
    await store.writeVersioned(collection, [...next].map(([id, v]) => ({ id, version: v.version, doc: v.doc })));
  }

  async function applyBatch(batch: ConsumedRecord[]): Promise<void> {
    const byTopic = new Map<string, Array<{ env: Envelope; offset: number }>>();
    for (const r of batch) {
      const env = fromRecord(r.value);
      if (!env) continue;
      const list = byTopic.get(r.topic) ?? [];
      list.push({ env, offset: r.offset });
      byTopic.set(r.topic, list);
    }
    await project<EnrollmentDoc>(PROJECTIONS.enrollments, applyToEnrollment, byTopic.get(Topics.enrollments) ?? []);
    await project<ExecutionDoc>(PROJECTIONS.executions, applyToExecution, byTopic.get(Topics.actions) ?? []);
    await project<ExecutionLogsDoc>(PROJECTIONS.logs, applyToLogs, byTopic.get(Topics.logs) ?? []);
    for (const items of byTopic.values()) for (const { env } of items) tail.emit('event', env);
  }

  function errorView(e: ErrorView | null): historyV1.ExecutionView['error'] {
    return e ? { code: e.code, message: e.message, retryable: e.retryable, retryAfterMs: e.retryAfterMs } : undefined;
  }

  function executionView(d: ExecutionDoc, logs: ExecutionLogsDoc | undefined): historyV1.ExecutionView {
    return {
      executionId: d.executionId,
      enrollmentId: d.enrollmentId,
      actionId: d.actionId,
      stepIndex: d.stepIndex,
      attempt: d.attempt,
      status: d.status,
      inputFields: plainToFieldMap(d.inputFields),
      outputFields: plainToFieldMap(d.outputFields),
      logs: logs?.lines ?? [],
      logsTruncated: logs?.truncated ?? false,
      error: errorView(d.error),
      durationMs: d.durationMs,
      traceId: d.traceId,
      requestedAt: d.requestedAt,
      finishedAt: d.finishedAt,
      retryDueAt: d.retryDueAt,
      callbackId: d.callbackId,
      returnValueJson: d.returnValueJson ?? '',
    };
  }

  async function enrollmentView(e: StoredDoc<EnrollmentDoc>, withExecutions: boolean): Promise<historyV1.EnrollmentView> {
    const d = e.doc;
    let executions: historyV1.ExecutionView[] = [];
    if (withExecutions) {
      const [execs, logs] = await Promise.all([
        store.find<ExecutionDoc>(PROJECTIONS.executions, { where: { tenantId: d.tenantId, enrollmentId: d.enrollmentId } }),
        store.find<ExecutionLogsDoc>(PROJECTIONS.logs, { where: { tenantId: d.tenantId, enrollmentId: d.enrollmentId } }),
      ]);
      const logsById = new Map(logs.map((l) => [l.id, l.doc]));
      executions = execs
        .map((x) => x.doc)
        .sort((a, b) => a.stepIndex - b.stepIndex || a.attempt - b.attempt)
        .map((x) => executionView(x, logsById.get(x.executionId)));
    }
    return {
      enrollmentId: d.enrollmentId,
      workflowId: d.workflowId,
      workflowVersion: d.workflowVersion,
      object: d.object,
      status: d.status,
      error: errorView(d.error),
      executions,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      failedActionId: d.failedActionId,
    };
  }

  const requireTenant = (tenantId: string) => {
    if (!tenantId) throw new ValidationError('tenant_id is required');
  };

  return {
    applyBatch,
    history: {
      async getEnrollment(req) {
        requireTenant(req.tenantId);
        const doc = await store.get<EnrollmentDoc>(PROJECTIONS.enrollments, req.enrollmentId);
        // Another tenant's enrollment is "not found", never "forbidden": ids leak nothing.
        if (!doc || doc.doc.tenantId !== req.tenantId) throw new NotFoundError(`enrollment ${req.enrollmentId} not found`);
        return enrollmentView(doc, true);
      },
      async listEnrollments(req) {
        requireTenant(req.tenantId);
        const where: Record<string, string> = { tenantId: req.tenantId };
        if (req.workflowId) where.workflowId = req.workflowId;
        if (req.status) where.status = req.status;
        const docs = await store.find<EnrollmentDoc>(PROJECTIONS.enrollments, { where, orderBy: { field: 'startedAt', direction: 'desc' }, limit: Math.min(req.limit || 50, 5000) });
        return { enrollments: await Promise.all(docs.map((d) => enrollmentView(d, false))) };
      },
      async getExecution(req) {
        requireTenant(req.tenantId);
        const doc = await store.get<ExecutionDoc>(PROJECTIONS.executions, req.executionId);
        if (!doc || doc.doc.tenantId !== req.tenantId) throw new NotFoundError(`execution ${req.executionId} not found`);
        const logs = await store.get<ExecutionLogsDoc>(PROJECTIONS.logs, req.executionId);
        return executionView(doc.doc, logs?.doc);
      },
      async tail(req, write, signal) {
        requireTenant(req.tenantId);
        await new Promise<void>((resolve) => {
          const onEvent = (env: Envelope) => {
            if (env.tenantId !== req.tenantId) return;
            const e = env.event;
            const enrollmentId = env.correlationId || env.aggregateId;
            if (req.enrollmentId && enrollmentId !== req.enrollmentId) return;
            if (e.$case === 'actionLogged') {
              for (const line of e.value.lines) write({ type: 'log', enrollmentId, executionId: e.value.executionId, line, status: '' });
            } else {
              write({ type: env.type, enrollmentId, executionId: 'executionId' in e.value ? String(e.value.executionId) : '', line: undefined, status: '' });
            }
          };
          tail.on('event', onEvent);
          signal.addEventListener('abort', () => {
            tail.off('event', onEvent);
            resolve();
          });
        });
      },
    },
    async start() {
      await ensureProjectionCollections(store);
      await eventLog.ensureTopics([Topics.enrollments, Topics.actions, Topics.logs]);
      subscription = await eventLog.consume({
        group: deps.group ?? 'codestep-log',
        topics: [Topics.enrollments, Topics.actions, Topics.logs],
        batchSize: 500,
        handle: async (batch): Promise<LogRecord[]> => {
          await applyBatch(batch);
          return [];
        },
        onError: (error) => logger.error({ error }, 'projection batch failed; will retry'),
      });
    },
    async stop() {
      await subscription?.stop();
    },
  };
}
