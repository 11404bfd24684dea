/**
 * Queries over the history views: an enrollment with its executions, a page of enrollments, one
 * execution with a page of its console lines. Every read goes through the caller's tenant-scoped
 * view of the store, so another tenant's id is "not found", never "forbidden": ids leak nothing.
 * Console lines are read in bounded pages (`console-lines.paging.ts`): an enrollment answers with
 * the first lines of each execution within a budget, an execution with the page asked for.
 */
import type { historyV1 } from '@codestep/contracts';
import { NotFoundError, ValidationError } from '@codestep/core';
import { plainToFieldMap } from '@codestep/events';
import type { EnrollmentDoc, ErrorView, ExecutionDoc, ExecutionConsoleDoc } from '@codestep/history';
import { tenantScoped, type DocumentStore, type Scalar, type StoredDoc, type TenantStore } from '@codestep/store';
import { CONSOLE_PAGE_LIMITS, consoleLinesPage, pageLinesFor, type ConsoleLinesPage } from './console-lines.paging.ts';
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

/**
 * The gRPC view of one execution with a page of its console lines (by default the first page of
 * a `GetExecution`).
 */
export function executionView(
  d: ExecutionDoc,
  lines: ExecutionConsoleDoc | undefined,
  page: ConsoleLinesPage = consoleLinesPage(lines?.lines, 0, CONSOLE_PAGE_LIMITS.pageLines, CONSOLE_PAGE_LIMITS.pageBytes),
): historyV1.ExecutionView {
  return {
    executionId: d.executionId,
    enrollmentId: d.enrollmentId,
    actionId: d.actionId,
    stepIndex: d.stepIndex,
    attempt: d.attempt,
    status: d.status,
    inputFields: plainToFieldMap(d.inputFields),
    outputFields: plainToFieldMap(d.outputFields),
    logs: page.lines,
    logsTruncated: lines?.truncated ?? false,
    logsTotal: page.total,
    logsOffset: page.offset,
    error: errorView(d.error),
    durationMs: d.durationMs,
    traceId: d.traceId,
    requestedAt: d.requestedAt,
    finishedAt: d.finishedAt,
    retryDueAt: d.retryDueAt,
    callbackId: d.callbackId,
    returnValueJson: d.returnValueJson ?? '',
    stepName: d.step?.name ?? '',
    branchId: d.step?.branchId ?? '',
    stepDepth: d.step?.depth ?? 0,
    parentExecutionId: d.step?.parentExecutionId ?? '',
    dueAt: d.step?.dueAt ?? 0,
    httpResponseJson: d.httpResponseJson ?? '',
    wait: d.wait ? { state: d.wait.state, timeoutAt: d.wait.timeoutAt, endedAt: d.wait.endedAt, resumedBy: d.wait.resumedBy, redirectUrl: d.wait.redirectUrl } : undefined,
    ...(d.dryRun ? { dryRun: true } : {}),
    ...(d.dryRunLedger
      ? { dryRunLedger: { writes: d.dryRunLedger.writes.map((w) => ({ ...w, headers: w.headers.map(([name, value]) => ({ name, value })) })), dropped: d.dryRunLedger.dropped } }
      : {}),
    ...(d.linesLogged !== undefined ? { linesLogged: d.linesLogged } : {}),
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
      let budget: number = CONSOLE_PAGE_LIMITS.enrollmentBytes;
      executions = execs
        .map((x) => x.doc)
        .sort((a, b) => a.stepIndex - b.stepIndex || a.attempt - b.attempt)
        .map((x) => {
          const stored = linesById.get(x.executionId);
          const maxBytes = Math.min(CONSOLE_PAGE_LIMITS.enrollmentBytesPerExecution, budget);
          const page = consoleLinesPage(stored?.lines, 0, CONSOLE_PAGE_LIMITS.enrollmentLinesPerExecution, maxBytes);
          budget -= page.bytes;
          return executionView(x, stored, page);
        });
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
      ...(d.dryRun ? { dryRun: true } : {}),
      ...(d.crmRead ? { crmRead: d.crmRead } : {}),
      ...(d.hubspotCallback ? { hubspotCallback: d.hubspotCallback } : {}),
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
      const where: Record<string, Scalar> = {};
      if (req.workflowId) where.workflowId = req.workflowId;
      if (req.status) where.status = req.status;
      if (req.objectId) where.objectId = req.objectId;
      const after = req.startedAfter || 0;
      const before = req.startedBefore || 0;
      if (after && before && after >= before) throw new ValidationError('startedAfter must be before startedBefore');
      const limit = Math.min(req.limit || 50, 5000);
      const docs = await findEnrollmentsAfter(store, where, { after, before }, { startedAt: req.afterStartedAt, enrollmentId: req.afterEnrollmentId }, limit + 1);
      const page = docs.slice(0, limit);
      return { enrollments: await Promise.all(page.map((d) => enrollmentView(store, d, false))), more: docs.length > limit };
    },
    async getExecution(req) {
      const store = scoped(req.tenantId);
      const doc = await store.get<ExecutionDoc>(HISTORY_COLLECTIONS.executions, req.executionId);
      if (!doc) throw new NotFoundError(`execution ${req.executionId} not found`);
      const lines = await store.get<ExecutionConsoleDoc>(HISTORY_COLLECTIONS.consoleLines, req.executionId);
      const page = consoleLinesPage(lines?.doc.lines, req.linesAfter ?? 0, pageLinesFor(req.limit ?? 0), CONSOLE_PAGE_LIMITS.pageBytes);
      return executionView(doc.doc, lines?.doc, page);
    },
  };
}

/**
 * Up to `count` enrollments matching `where`, started within [after, before) (0: no bound),
 * newest first with ties by id descending (the store's tie order), after the one a cursor names
 * (an empty id: from the newest). Keyset paging: first the rest of the cursor's startedAt, then
 * what started before it, each read bounded by `count`, so a deep page costs what the first does.
 */
async function findEnrollmentsAfter(
  store: TenantStore,
  where: Record<string, Scalar>,
  { after, before }: { after: number; before: number },
  cursor: { startedAt: number; enrollmentId: string },
  count: number,
): Promise<Array<StoredDoc<EnrollmentDoc>>> {
  const newestFirst = { field: 'startedAt', direction: 'desc' } as const;
  const docs: Array<StoredDoc<EnrollmentDoc>> = [];
  let upper = before;
  if (cursor.enrollmentId) {
    // The filters may have changed between pages: after a cursor older than the range there is
    // nothing; after one newer than it, the whole range.
    if (after && cursor.startedAt < after) return [];
    if (!before || cursor.startedAt < before) {
      const ties = await store.find<EnrollmentDoc>(HISTORY_COLLECTIONS.enrollments, {
        where: { ...where, startedAt: cursor.startedAt },
        range: { field: 'enrollmentId', lt: cursor.enrollmentId },
        orderBy: newestFirst,
        limit: count,
      });
      docs.push(...ties);
      upper = cursor.startedAt;
    }
  }
  if (docs.length < count) {
    const range = after || upper ? { field: 'startedAt', ...(after ? { gte: after } : {}), ...(upper ? { lt: upper } : {}) } : undefined;
    docs.push(...(await store.find<EnrollmentDoc>(HISTORY_COLLECTIONS.enrollments, { where, ...(range ? { range } : {}), orderBy: newestFirst, limit: count - docs.length })));
  }
  return docs;
}
