/**
 * The public gRPC API's methods over the HTTP API's own routes: each method builds the request
 * its route takes (path parameters, query, body, headers) and calls the route's handler, so
 * validation, tenant limits, idempotency and the answers are the HTTP API's, never a copy. The
 * history stream follows the same tail as `GET /v1/tail`.
 */
import { ValidationError } from '@codestep/core';
import type { historyV1, publicV1 } from '@codestep/contracts';
import { fromServiceError, grpc, withCallDeadline } from '@codestep/rpc';
import type { ApiClients } from '../api.routes.ts';
import type { Route, RouteRequest } from '../router.ts';
import { toEnrollment, toEnrollmentBatch, toExecution, toWorkflow, toWorkflowStatus } from './public-api.mapping.ts';
import { snakeCase, type FieldNames } from './public-api.status.ts';

type Json = Record<string, unknown>;

/** One call's context: its tenant (from the API key) and a signal aborted at its deadline or when the caller leaves. */
export interface CallContext {
  tenantId: string;
  signal: AbortSignal;
  /** The caller's deadline (ms since the epoch), if it set one: the internal calls behind the call end by it. */
  deadline?: number;
}

/** A unary method: its handler, and how the shared commands' field names read in its request. */
export interface UnaryMethod<Req, Res> {
  handle(request: Req, ctx: CallContext): Promise<Res>;
  fields: FieldNames;
}

/** The routes the public API calls, by "METHOD path". */
const USED = [
  'POST /v1/workflows/:id/enrollments',
  'POST /v1/workflows/:id/enrollments:batch',
  'GET /v1/enrollment-batches/:id',
  'GET /v1/enrollments/:id',
  'GET /v1/enrollments',
  'GET /v1/executions/:id',
  'POST /v1/workflows',
  'PUT /v1/workflows/:id',
  'GET /v1/workflows/:id',
  'GET /v1/workflows',
  'POST /v1/workflows/:id/enable',
  'POST /v1/workflows/:id/disable',
  'DELETE /v1/workflows/:id',
] as const;
type Used = (typeof USED)[number];

type Invoke = (
  route: Used,
  ctx: CallContext,
  input?: { params?: Record<string, string>; query?: Record<string, string | undefined>; body?: unknown; headers?: Record<string, string> },
) => Promise<Json>;

/**
 * Calls the gateway's routes as the HTTP router would, after authentication.
 * @throws Error at start when a route the public API needs is not among `routes`.
 */
function invoker(routes: Route[]): Invoke {
  const byKey = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  for (const key of USED) if (!byKey.has(key)) throw new Error(`the public gRPC API needs the route ${key}, which the gateway does not serve`);
  return async (key, ctx, input = {}) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined && v !== '') query.set(k, v);
    const req: RouteRequest = { tenantId: ctx.tenantId, params: input.params ?? {}, query, body: input.body, headers: input.headers ?? {}, signal: ctx.signal };
    // A command is not started for a caller that has given up (its deadline passed or it cancelled).
    ctx.signal.throwIfAborted();
    const route = byKey.get(key)!;
    // The caller's deadline bounds the service calls the route makes (each has its own 10 s otherwise).
    const out = await (ctx.deadline === undefined ? route.handle(req) : withCallDeadline(ctx.deadline, () => route.handle(req)));
    return (out.body ?? {}) as Json;
  };
}

/** A required id of the request: a refusal naming the field when it is empty. */
function required(value: string, field: string): string {
  if (!value) throw new ValidationError(`${field} is required`, { field });
  return value;
}

/** Field names of a method: some renamed, the rest snake-cased. */
const renamed =
  (names: Record<string, string>, rest: FieldNames = snakeCase): FieldNames =>
  (field) =>
    names[field] ?? rest(field);

const optional = (n: number): string | undefined => (n ? String(n) : undefined);
const idempotency = (key: string): Record<string, string> => (key ? { 'idempotency-key': key } : {});
const plainObject = (o: publicV1.CrmObject | undefined) => o && { objectType: o.objectType, objectId: o.objectId, properties: o.properties };

export interface PublicApiHandlers {
  unary: Record<string, UnaryMethod<never, unknown>>;
  /** Writes the tenant's history events until the call ends; `subscribed` is called once the history's tail is live. */
  streamHistory(request: publicV1.StreamHistoryRequest, ctx: CallContext, write: (event: publicV1.HistoryEvent) => void, subscribed: () => void): Promise<void>;
}

export function publicApiHandlers(routes: Route[], clients: Pick<ApiClients, 'historyRaw'>): PublicApiHandlers {
  const call = invoker(routes);
  const unary = {
    enroll: {
      fields: renamed({ 'Idempotency-Key': 'request_id' }),
      handle: async (r: publicV1.EnrollRequest, ctx: CallContext): Promise<publicV1.EnrollResponse> => {
        const out = await call('POST /v1/workflows/:id/enrollments', ctx, {
          params: { id: required(r.workflowId, 'workflow_id') },
          query: { dryRun: r.dryRun ? 'true' : undefined },
          body: { object: plainObject(r.object) },
          headers: idempotency(r.requestId),
        });
        return { enrollmentId: String(out.id), workflowVersion: Number(out.workflowVersion), status: String(out.status), dryRun: out.dryRun === true };
      },
    },
    enrollBatch: {
      fields: renamed({ 'Idempotency-Key': 'batch_key' }),
      handle: async (r: publicV1.EnrollBatchRequest, ctx: CallContext): Promise<publicV1.EnrollmentBatch> => {
        const workflowId = required(r.workflowId, 'workflow_id');
        if (!r.rows.length) throw new ValidationError('rows is empty: send at least one row', { field: 'rows' });
        const rows = r.rows.map((row) => ({ object: plainObject(row.object) ?? {}, ...(row.idempotencyKey ? { idempotencyKey: row.idempotencyKey } : {}) }));
        return toEnrollmentBatch(await call('POST /v1/workflows/:id/enrollments:batch', ctx, { params: { id: workflowId }, body: JSON.stringify(rows), headers: idempotency(r.batchKey) }));
      },
    },
    getEnrollmentBatch: {
      fields: snakeCase,
      handle: async (r: publicV1.GetEnrollmentBatchRequest, ctx: CallContext) => toEnrollmentBatch(await call('GET /v1/enrollment-batches/:id', ctx, { params: { id: required(r.jobId, 'job_id') } })),
    },
    getEnrollment: {
      fields: snakeCase,
      handle: async (r: publicV1.GetEnrollmentRequest, ctx: CallContext) => toEnrollment(await call('GET /v1/enrollments/:id', ctx, { params: { id: required(r.enrollmentId, 'enrollment_id') } })),
    },
    listEnrollments: {
      fields: renamed({ limit: 'page_size', cursor: 'page_token' }),
      handle: async (r: publicV1.ListEnrollmentsRequest, ctx: CallContext): Promise<publicV1.ListEnrollmentsResponse> => {
        const out = await call('GET /v1/enrollments', ctx, {
          query: {
            workflowId: r.workflowId,
            status: r.status,
            objectId: r.objectId,
            startedAfter: r.startedAfter?.toISOString(),
            startedBefore: r.startedBefore?.toISOString(),
            limit: optional(r.pageSize),
            cursor: r.pageToken,
          },
        });
        return { enrollments: (out.enrollments as Json[]).map(toEnrollment), nextPageToken: typeof out.nextCursor === 'string' ? out.nextCursor : '' };
      },
    },
    getExecution: {
      fields: snakeCase,
      handle: async (r: publicV1.GetExecutionRequest, ctx: CallContext) =>
        toExecution(await call('GET /v1/executions/:id', ctx, { params: { id: required(r.executionId, 'execution_id') }, query: { linesAfter: optional(r.linesAfter), limit: optional(r.limit) } })),
    },
    ...workflowMethods(call),
  };
  return { unary: unary as unknown as Record<string, UnaryMethod<never, unknown>>, streamHistory: (r, ctx, write, subscribed) => streamHistory(clients, r, ctx, write, subscribed) };
}

/** The workflow definition is the HTTP API's JSON (a Struct): its fields keep their JSON names under `definition`. */
const definitionFields = renamed({ 'Idempotency-Key': 'request_id' }, (field) => `definition.${field}`);

function workflowMethods(call: Invoke) {
  return {
    createWorkflow: {
      fields: definitionFields,
      handle: async (r: publicV1.CreateWorkflowRequest, ctx: CallContext) => toWorkflow(await call('POST /v1/workflows', ctx, { body: r.definition ?? {}, headers: idempotency(r.requestId) })),
    },
    updateWorkflow: {
      fields: definitionFields,
      handle: async (r: publicV1.UpdateWorkflowRequest, ctx: CallContext) =>
        toWorkflow(await call('PUT /v1/workflows/:id', ctx, { params: { id: required(r.workflowId, 'workflow_id') }, body: r.definition ?? {} })),
    },
    getWorkflow: {
      fields: snakeCase,
      handle: async (r: publicV1.GetWorkflowRequest, ctx: CallContext) =>
        toWorkflow(await call('GET /v1/workflows/:id', ctx, { params: { id: required(r.workflowId, 'workflow_id') }, query: { version: optional(r.version) } })),
    },
    listWorkflows: {
      fields: renamed({ limit: 'page_size', cursor: 'page_token', includeArchived: 'include_archived' }),
      handle: async (r: publicV1.ListWorkflowsRequest, ctx: CallContext): Promise<publicV1.ListWorkflowsResponse> => {
        const out = await call('GET /v1/workflows', ctx, { query: { includeArchived: r.includeArchived ? 'true' : undefined, limit: optional(r.pageSize), cursor: r.pageToken } });
        return { workflows: (out.workflows as Json[]).map(toWorkflow), nextPageToken: typeof out.nextCursor === 'string' ? out.nextCursor : '' };
      },
    },
    setWorkflowStatus: {
      fields: snakeCase,
      handle: async (r: publicV1.SetWorkflowStatusRequest, ctx: CallContext) => {
        const params = { id: required(r.workflowId, 'workflow_id') };
        const route = ({ enabled: 'POST /v1/workflows/:id/enable', disabled: 'POST /v1/workflows/:id/disable', archived: 'DELETE /v1/workflows/:id' } as const)[r.status];
        if (!route) throw new ValidationError(`status must be one of enabled, disabled, archived, not ${JSON.stringify(r.status.slice(0, 40))}`, { field: 'status' });
        return toWorkflowStatus(await call(route, ctx, { params }));
      },
    },
  };
}

/**
 * The tenant's history as it happens, from the history service's tail, until the call ends. The
 * tail's response headers say its subscription is live (the history service sends them once it
 * follows the events): `subscribed` is called then.
 */
async function streamHistory(
  clients: Pick<ApiClients, 'historyRaw'>,
  r: publicV1.StreamHistoryRequest,
  ctx: CallContext,
  write: (event: publicV1.HistoryEvent) => void,
  subscribed: () => void,
): Promise<void> {
  ctx.signal.throwIfAborted();
  const tail = clients.historyRaw.tail({ tenantId: ctx.tenantId, enrollmentId: r.enrollmentId, workflowId: r.workflowId });
  const stop = () => tail.cancel();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      tail.once('metadata', () => subscribed());
      tail.on('data', (e: historyV1.TailEvent) =>
        write({
          type: e.type,
          enrollmentId: e.enrollmentId,
          executionId: e.executionId,
          status: e.status,
          line: e.line ? { level: e.line.level, message: e.line.message, at: new Date(e.line.at) } : undefined,
        }),
      );
      tail.on('error', (error: grpc.ServiceError) => (ctx.signal.aborted || error.code === grpc.status.CANCELLED ? resolve() : reject(fromServiceError(error, 'Tail'))));
      tail.on('end', () => resolve());
    });
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}
