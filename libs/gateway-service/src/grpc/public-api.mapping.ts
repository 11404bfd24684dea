/**
 * The HTTP API's views (what its routes answer, JSON) as the public gRPC API's messages: one
 * source of truth for what a client sees, whichever transport it uses.
 */
import type { publicV1 } from '@codestep/contracts';

type Json = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const time = (v: unknown): Date | undefined => (typeof v === 'string' && v ? new Date(v) : undefined);

function crmObject(v: unknown): publicV1.CrmObject | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const properties: Record<string, string> = {};
  for (const [k, p] of Object.entries(obj(o.properties) ?? {})) properties[k] = typeof p === 'string' ? p : JSON.stringify(p);
  return { objectType: str(o.objectType), objectId: str(o.objectId), properties };
}

function failure(v: unknown): publicV1.Failure | undefined {
  const e = obj(v);
  return e ? { code: str(e.code), message: str(e.message), actionId: str(e.actionId), retryable: e.retryable === true } : undefined;
}

const logLine = (v: unknown): publicV1.LogLine => {
  const l = obj(v) ?? {};
  return { level: str(l.level), message: str(l.message), at: time(l.at) };
};

/** `GET /v1/executions/{id}`'s view as an Execution; `details` keeps the whole view. */
export function toExecution(view: Json): publicV1.Execution {
  return {
    id: str(view.id),
    enrollmentId: str(view.enrollmentId),
    actionId: str(view.actionId),
    step: num(view.step),
    attempt: num(view.attempt),
    status: str(view.status),
    callbackId: str(view.callbackId),
    inputFields: obj(view.inputFields) ?? {},
    outputFields: obj(view.outputFields) ?? {},
    returnValue: view.returnValue,
    logs: list(view.logs).map(logLine),
    logsTruncated: view.logsTruncated === true,
    logsTotal: num(view.logsTotal),
    logsOffset: num(view.logsOffset),
    error: failure(view.error),
    durationMs: num(view.durationMs),
    traceId: str(view.traceId),
    requestedAt: time(view.requestedAt),
    finishedAt: time(view.finishedAt),
    details: view,
  };
}

/** `GET /v1/enrollments/{id}`'s view as an Enrollment. */
export function toEnrollment(view: Json): publicV1.Enrollment {
  return {
    id: str(view.id),
    workflowId: str(view.workflowId),
    workflowVersion: num(view.workflowVersion),
    object: crmObject(view.object),
    status: str(view.status),
    error: failure(view.error),
    startedAt: time(view.startedAt),
    finishedAt: time(view.finishedAt),
    dryRun: view.dryRun === true,
    executions: list(view.executions).map((x) => toExecution(obj(x) ?? {})),
  };
}

/** A workflow version's view (with its state) as a Workflow; `definition` keeps the whole view. */
export function toWorkflow(view: Json): publicV1.Workflow {
  const { warnings, ...definition } = view;
  return {
    id: str(view.id),
    version: num(view.version),
    name: str(view.name),
    objectType: str(view.objectType),
    status: str(view.status),
    statusChangedAt: time(view.statusChangedAt),
    createdAt: time(view.createdAt),
    definition,
    warnings: list(warnings).map((w) => obj(w) ?? {}),
  };
}

/** An enrollment batch job's view; rows' lines (1-based, as the HTTP API counts them) become indexes. */
export function toEnrollmentBatch(view: Json): publicV1.EnrollmentBatch {
  return {
    jobId: str(view.jobId),
    workflowId: str(view.workflowId),
    status: str(view.status),
    total: num(view.total),
    accepted: num(view.accepted),
    processed: num(view.processed),
    enrolled: num(view.enrolled),
    failed: num(view.failed),
    errors: list(view.errors).map((e) => ({ index: Math.max(0, num(obj(e)?.line) - 1), reason: str(obj(e)?.reason) })),
    errorsTruncated: view.errorsTruncated === true,
    createdAt: time(view.createdAt),
  };
}

/** A workflow's lifecycle state as `POST /v1/workflows/{id}/enable` (and disable, archive) answer it. */
export function toWorkflowStatus(view: Json): publicV1.WorkflowStatus {
  return { workflowId: str(view.id), status: str(view.status), statusChangedAt: time(view.statusChangedAt), headVersion: num(view.headVersion) };
}
