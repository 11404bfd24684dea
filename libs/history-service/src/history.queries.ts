/**
 * Queries over the history views: an enrollment with its executions, a page of enrollments, one
 * execution with its console lines. Every read goes through the caller's tenant-scoped view of
 * the store, so another tenant's id is "not found", never "forbidden": ids leak nothing.
 */
import type { historyV1 } from '@codestep/contracts';
import { NotFoundError, ValidationError } from '@codestep/core';
import { plainToFieldMap } from '@codestep/events';
import type { EnrollmentDoc, ErrorView, ExecutionDoc, ExecutionConsoleDoc } from '@codestep/history';
import { tenantScoped, type DocumentStore, type StoredDoc, type TenantStore } from '@codestep/store';
import { HISTORY_COLLECTIONS } from './history-views.projection.ts';

/** A type alias, not an interface: gRPC's `implement` needs the index signature aliases get. */
export type HistoryQueries = {
  getEnrollment(req: historyV1.GetEnrollmentRequest): Promise<historyV1.EnrollmentView>;
  listEnrollments(req: historyV1.ListEnrollmentsRequest): Promise<historyV1.ListEnrollmentsResponse>;
  getExecution(req: historyV1.GetExecutionRequest): Promise<historyV1.ExecutionView>;
};

function errorView(e: ErrorView | null): historyV1.ExecutionView['error'] {
  return e ? { code: e.code, message: e.message, retryable: e.retryable, retryAfterMs: e.retryAfterMs } : undefined;
}

/** The gRPC view of one execution and its console lines. */
export function executionView(d: ExecutionDoc, lines: ExecutionConsoleDoc | undefined): historyV1.ExecutionView {
  return {
    executionId: d.executionId,
    enrollmentId: d.enrollmentId,
    actionId: d.actionId,
    stepIndex: d.stepIndex,
    attempt: d.attempt,
    status: d.status,
    inputFields: plainToFieldMap(d.inputFields),
    outputFields: plainToFieldMap(d.outputFields),
    logs: lines?.lines ?? [],
    logsTruncated: lines?.truncated ?? false,
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

export function createHistoryQueries(root: DocumentStore): HistoryQueries {
  const scoped = (tenantId: string): TenantStore => {
    if (!tenantId) throw new ValidationError('tenant_id is required');
    return tenantScoped(root, tenantId);
  };

  async function enrollmentView(store: TenantStore, e: StoredDoc<EnrollmentDoc>, withExecutions: boolean): Promise<historyV1.EnrollmentView> {
    const d = e.doc;
    let executions: historyV1.ExecutionView[] = [];
    if (withExecutions) {
      const [execs, lines] = await Promise.all([
        store.find<ExecutionDoc>(HISTORY_COLLECTIONS.executions, { where: { enrollmentId: d.enrollmentId } }),
        store.find<ExecutionConsoleDoc>(HISTORY_COLLECTIONS.consoleLines, { where: { enrollmentId: d.enrollmentId } }),
      ]);
      const linesById = new Map(lines.map((l) => [l.id, l.doc]));
      executions = execs
        .map((x) => x.doc)
        .sort((a, b) => a.stepIndex - b.stepIndex || a.attempt - b.attempt)
        .map((x) => executionView(x, linesById.get(x.executionId)));
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

  return {
    async getEnrollment(req) {
      const store = scoped(req.tenantId);
      const doc = await store.get<EnrollmentDoc>(HISTORY_COLLECTIONS.enrollments, req.enrollmentId);
      if (!doc) throw new NotFoundError(`enrollment ${req.enrollmentId} not found`);
      return enrollmentView(store, doc, true);
    },
    async listEnrollments(req) {
      const store = scoped(req.tenantId);
      const where: Record<string, string> = {};
      if (req.workflowId) where.workflowId = req.workflowId;
      if (req.status) where.status = req.status;
      const docs = await store.find<EnrollmentDoc>(HISTORY_COLLECTIONS.enrollments, { where, orderBy: { field: 'startedAt', direction: 'desc' }, limit: Math.min(req.limit || 50, 5000) });
      return { enrollments: await Promise.all(docs.map((d) => enrollmentView(store, d, false))) };
    },
    async getExecution(req) {
      const store = scoped(req.tenantId);
      const doc = await store.get<ExecutionDoc>(HISTORY_COLLECTIONS.executions, req.executionId);
      if (!doc) throw new NotFoundError(`execution ${req.executionId} not found`);
      const lines = await store.get<ExecutionConsoleDoc>(HISTORY_COLLECTIONS.consoleLines, req.executionId);
      return executionView(doc.doc, lines?.doc);
    },
  };
}
