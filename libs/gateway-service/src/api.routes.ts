/**
 * The public HTTP API over the services' gRPC clients: workflows, enrollments, history. Bodies
 * are plain JSON (field values as JSON primitives); the gRPC contracts stay internal.
 */
import type { ServerResponse } from 'node:http';
import type { ActionDefinition, FieldValue, WorkflowDefinition, credentialsV1, enrollmentsV1, historyV1, workflowsV1 } from '@codestep/contracts';
import { ValidationError } from '@codestep/core';
import { fieldMapToPlain } from '@codestep/events';
import type { PromiseClient } from '@codestep/rpc';
import { actionToInput, parseWorkflowInput, runtimeVersionOf, triggerToInput, type LimitBounds, type WorkflowInput } from '@codestep/workflows';
import { checkSecretSelections, type SaveWarning } from './connections.routes.ts';
import type { CrmPropertiesFetcher } from './hubspot/crm-properties.ts';
import type { HistoryChanges } from './history-changes.ts';
import { decodeCursor, encodeCursor, pageOf } from './paging.ts';
import { queryEnum, queryInteger, queryTime } from './request-input.parser.ts';
import type { Route, RouteRequest } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

export interface ApiClients {
  workflows: PromiseClient<workflowsV1.WorkflowsClient>;
  enrollments: PromiseClient<enrollmentsV1.EnrollmentsClient>;
  history: PromiseClient<historyV1.HistoryClient>;
  /** The raw client, for the server-streamed tail. */
  historyRaw: historyV1.HistoryClient;
  /** The history's changes pushed in this process (embedded mode); without it, waits follow the tail. */
  changes?: HistoryChanges;
  /** The broker: with it, a workflow whose action selects more secrets than an action may use is refused at save. */
  credentials?: PromiseClient<credentialsV1.CredentialsClient>;
}

/** `GET /v1/enrollments?limit=`: the history service answers at most 5,000. */
export const LIMIT_PARAM = { min: 1, max: 5000, default: 50 } as const;
/** `GET /v1/workflows/{id}?version=`: 0 (or none) is the latest; the field is a uint32. */
export const VERSION_PARAM = { min: 0, max: 2 ** 32 - 1, default: 0 } as const;
/** `GET /v1/enrollments?objectId=`: longer than any CRM object id. */
const MAX_OBJECT_ID = 200;
/** The statuses an enrollment has (`GET /v1/enrollments?status=`). */
export const ENROLLMENT_STATUSES = ['running', 'completed', 'failed'] as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A workflow's lifecycle state as the API shows it. */
export function stateView(s: workflowsV1.WorkflowState): Record<string, unknown> {
  return { status: s.status, statusChangedAt: s.changedAt ? new Date(s.changedAt).toISOString() : null, headVersion: s.headVersion };
}

/** A version of a workflow as the API shows it; with its lifecycle state when known. */
export function workflowView(wf: WorkflowDefinition, state?: workflowsV1.WorkflowState): Record<string, unknown> {
  return {
    id: wf.workflowId,
    version: wf.version,
    name: wf.name,
    objectType: wf.objectType,
    ...(wf.trigger ? { trigger: triggerToInput(wf.trigger) } : {}),
    ...(wf.crmProperties?.names.length ? { crmProperties: wf.crmProperties.names } : {}),
    createdAt: new Date(wf.createdAt).toISOString(),
    ...(wf.rolledBackFrom ? { rolledBackFrom: wf.rolledBackFrom } : {}),
    ...(state ? { status: state.status, statusChangedAt: state.changedAt ? new Date(state.changedAt).toISOString() : null } : {}),
    // An action saved before runtime versions shows the version it runs (node24).
    actions: wf.actions.map((a) => ({ ...actionToInput(a), runtimeVersion: runtimeVersionOf(a) })),
  };
}

const fields = (m: Record<string, FieldValue>) => fieldMapToPlain(m);
const iso = (ms: number) => (ms ? new Date(ms).toISOString() : null);

/** Where `logs` sits among the execution's stored lines, and the request for the next page if any. */
function logsPaging(x: historyV1.ExecutionView): Record<string, unknown> {
  const next = x.logsOffset + x.logs.length;
  const more = next < x.logsTotal;
  return { logsTotal: x.logsTotal, logsOffset: x.logsOffset, nextLinesAfter: more ? next : null, ...(more ? { moreLogs: `/v1/executions/${x.executionId}?linesAfter=${next}` } : {}) };
}

/** A whole-number query parameter within [min, max]; absent: `fallback`. */
function intParam(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new ValidationError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 40))}`, { field: name });
  return n;
}

/** Most console lines one `GET /v1/executions/{id}` returns (the history service also caps a page's bytes). */
export const MAX_LOG_PAGE_LINES = 1000;

export function executionView(x: historyV1.ExecutionView): Record<string, unknown> {
  return {
    id: x.executionId,
    enrollmentId: x.enrollmentId,
    actionId: x.actionId,
    step: x.stepIndex,
    attempt: x.attempt,
    status: x.status,
    callbackId: x.callbackId,
    ...(x.returnValueJson ? { returnValue: JSON.parse(x.returnValueJson) as unknown } : {}),
    inputFields: fields(x.inputFields),
    outputFields: fields(x.outputFields),
    logs: x.logs.map((l) => ({ level: l.level, message: l.message, at: iso(l.at) })),
    logsTruncated: x.logsTruncated,
    ...logsPaging(x),
    error: x.error ? { code: x.error.code, message: x.error.message, retryable: x.error.retryable } : null,
    durationMs: x.durationMs,
    traceId: x.traceId || null,
    requestedAt: iso(x.requestedAt),
    finishedAt: iso(x.finishedAt),
    ...(x.retryDueAt ? { retryDueAt: iso(x.retryDueAt) } : {}),
    ...(x.stepName ? { workflowStep: { name: x.stepName, branch: x.branchId || 'root', depth: x.stepDepth, scheduledBy: x.parentExecutionId || null, dueAt: x.dueAt ? iso(x.dueAt) : null } } : {}),
    ...(x.wait
      ? {
          wait: {
            state: x.wait.state,
            timeoutAt: iso(x.wait.timeoutAt),
            endedAt: x.wait.endedAt ? iso(x.wait.endedAt) : null,
            resumedBy: x.wait.resumedBy || null,
            redirectUrl: x.wait.redirectUrl || null,
          },
        }
      : {}),
    ...dryRunView(x),
  };
}

/**
 * A dry run's marks on an execution: `dryRun: true` and the writes it held back
 * (`dryRunLedger: { writes: [{ method, url, headers, body, bodyBytes, status }], dropped }`,
 * credentials redacted). Nothing on a real run.
 */
export function dryRunView(x: historyV1.ExecutionView): Record<string, unknown> {
  if (!x.dryRun) return {};
  const l = x.dryRunLedger;
  return {
    dryRun: true,
    dryRunLedger: l
      ? {
          writes: l.writes.map((w) => ({ method: w.method, url: w.url, headers: w.headers.map((h) => [h.name, h.value]), body: w.body, bodyBytes: w.bodyBytes, status: w.status })),
          dropped: l.dropped,
        }
      : null,
  };
}

export function enrollmentView(e: historyV1.EnrollmentView): Record<string, unknown> {
  return {
    id: e.enrollmentId,
    workflowId: e.workflowId,
    workflowVersion: e.workflowVersion,
    object: e.object ? { objectType: e.object.objectType, objectId: e.object.objectId, properties: e.object.properties } : null,
    status: e.status,
    error: e.error ? { code: e.error.code, message: e.error.message, actionId: e.failedActionId } : null,
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
    ...(e.dryRun ? { dryRun: true } : {}),
    ...(e.crmRead
      ? { crmRead: { connection: e.crmRead.connection, properties: e.crmRead.names, values: e.crmRead.values, readAt: iso(e.crmRead.readAt), ...(e.crmRead.error ? { error: e.crmRead.error } : {}) } }
      : {}),
    ...(e.hubspotCallback
      ? {
          hubspotCallback: {
            callbackId: e.hubspotCallback.callbackId,
            attempts: e.hubspotCallback.attempt,
            status: e.hubspotCallback.gaveUp ? 'gave_up' : 'retrying',
            error: e.hubspotCallback.error,
            nextAttemptAt: iso(e.hubspotCallback.nextAttemptAt),
            expiresAt: iso(e.hubspotCallback.expiresAt),
          },
        }
      : {}),
    executions: e.executions.map(executionView),
  };
}

function toContractActions(body: unknown, bounds: LimitBounds): WorkflowInput {
  // Validated here for a precise message, and again by the enrollment service, which owns the
  // rules (and the operator's shortest schedule interval: here, only the lowest one configurable).
  return parseWorkflowInput(body, bounds, { minIntervalMs: 1000 });
}

function parseObject(body: unknown): { objectType: string; objectId: string; properties: Record<string, string> } {
  if (!isObj(body) || !isObj(body.object))
    throw new ValidationError('body.object is required, like {"object": {"objectType": "CONTACT", "objectId": "123", "properties": {"email": "a@b.com"}}}', { field: 'object' });
  const o = body.object;
  const objectId = o.objectId;
  if ((typeof objectId !== 'string' && typeof objectId !== 'number') || String(objectId).trim() === '')
    throw new ValidationError('object.objectId is required: the id of the CRM object to enroll (string or number)', { field: 'object.objectId' });
  const properties: Record<string, string> = {};
  if (o.properties !== undefined) {
    if (!isObj(o.properties)) throw new ValidationError('object.properties must be an object of property name to value', { field: 'object.properties' });
    for (const [k, v] of Object.entries(o.properties)) {
      if (v === null || v === undefined) continue;
      if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ValidationError(`object.properties.${k} must be a string, number or boolean`, { field: `object.properties.${k}` });
      properties[k] = String(v);
    }
  }
  return { objectType: typeof o.objectType === 'string' ? o.objectType.toUpperCase() : '', objectId: String(objectId), properties };
}

function requestId(req: RouteRequest): string {
  const fromBody = isObj(req.body) && typeof req.body.requestId === 'string' ? req.body.requestId : '';
  const id = req.headers['idempotency-key'] ?? fromBody;
  if (id.length > 200) throw new ValidationError('Idempotency-Key must be at most 200 characters', { field: 'Idempotency-Key' });
  return id;
}

/**
 * The routes; `limitsOf` gives each tenant's limits, checked on save and carried by enrollments;
 * `fetchCrmProperties` reads a workflow's `crmProperties` an enrolled object lacks from HubSpot.
 */
export function apiRoutes(c: ApiClients, limitsOf: TenantLimitsOf, fetchCrmProperties?: CrmPropertiesFetcher): Route[] {
  return [...workflowsRoutes(c, limitsOf), ...enrollmentsRoutes(c, limitsOf, fetchCrmProperties), ...executionsRoutes(c)];
}

/** Workflows: created and updated within the tenant's limits (and secret selections, with the broker), read by id and version. */
function workflowsRoutes(c: ApiClients, limitsOf: TenantLimitsOf): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/workflows',
      auth: 'tenant',
      handle: async (req) => {
        const limits = await limitsOf(req.tenantId);
        const input = toContractActions(req.body, limits.bounds);
        const warnings = c.credentials ? await checkSecretSelections(c.credentials, req.tenantId, input.actions) : [];
        const wf = await c.workflows.createWorkflow({
          tenantId: req.tenantId,
          name: input.name,
          objectType: input.objectType,
          actions: input.actions,
          requestId: requestId(req),
          limits: limits.policy,
          trigger: input.trigger,
          ...(input.crmProperties ? { crmProperties: { names: input.crmProperties } } : {}),
        });
        return { status: 201, body: withWarnings(workflowView(wf, await c.workflows.getWorkflowState({ tenantId: req.tenantId, workflowId: wf.workflowId, version: 0 })), warnings) };
      },
    },
    {
      method: 'GET',
      path: '/v1/workflows',
      auth: 'tenant',
      handle: async (req) => {
        const includeArchived = queryEnum(req.query, 'includeArchived', ['true', 'false']) === 'true';
        const out = await c.workflows.listWorkflows({ tenantId: req.tenantId, includeArchived });
        const page = pageOf(
          out.workflows.map((wf, i) => ({ wf, state: out.states[i] })),
          ({ wf }) => [wf.workflowId],
          req.query,
        );
        return { status: 200, body: { workflows: page.items.map(({ wf, state }) => workflowView(wf, state)), nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'GET',
      path: '/v1/workflows/:id',
      auth: 'tenant',
      handle: async (req) => {
        const query = { tenantId: req.tenantId, workflowId: req.params.id!, version: queryInteger(req.query, 'version', VERSION_PARAM) };
        const [wf, state] = await Promise.all([c.workflows.getWorkflow(query), c.workflows.getWorkflowState(query)]);
        return { status: 200, body: workflowView(wf, state) };
      },
    },
    {
      method: 'PUT',
      path: '/v1/workflows/:id',
      auth: 'tenant',
      handle: async (req) => {
        const limits = await limitsOf(req.tenantId);
        const input = toContractActions(req.body, limits.bounds);
        const warnings = c.credentials ? await checkSecretSelections(c.credentials, req.tenantId, input.actions) : [];
        const wf = await c.workflows.updateWorkflow({
          tenantId: req.tenantId,
          workflowId: req.params.id!,
          name: input.name,
          objectType: input.objectType,
          actions: input.actions,
          limits: limits.policy,
          trigger: input.trigger,
          ...(input.crmProperties ? { crmProperties: { names: input.crmProperties } } : {}),
        });
        return { status: 200, body: withWarnings(workflowView(wf, await c.workflows.getWorkflowState({ tenantId: req.tenantId, workflowId: wf.workflowId, version: 0 })), warnings) };
      },
    },
  ];
}

/** A saved workflow's view with the save's warnings (selected secrets and connections that do not exist), when there are any. */
function withWarnings(view: Record<string, unknown>, warnings: SaveWarning[]): Record<string, unknown> {
  return warnings.length ? { ...view, warnings } : view;
}

/** Enrollments: an object enrolled in a workflow (idempotent by request id, with the tenant's limits), and their history. */
function enrollmentsRoutes(c: ApiClients, limitsOf: TenantLimitsOf, fetchCrmProperties: CrmPropertiesFetcher | undefined): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/workflows/:id/enrollments',
      auth: 'tenant',
      handle: async (req) => {
        const sent = parseObject(req.body);
        const { object, crmRead } = fetchCrmProperties ? await fetchCrmProperties({ tenantId: req.tenantId, workflowId: req.params.id!, object: sent }) : { object: sent, crmRead: undefined };
        // A dry run: every action's writes are held back and recorded (see @codestep/egress).
        const dryRun = queryEnum(req.query, 'dryRun', ['true', 'false']) === 'true';
        const { policy } = await limitsOf(req.tenantId);
        const out = await c.enrollments.enroll({
          tenantId: req.tenantId,
          workflowId: req.params.id!,
          object,
          crmRead,
          requestId: requestId(req),
          portalId: 0,
          trigger: undefined,
          limits: policy,
          ...(dryRun ? { dryRun } : {}),
        });
        return {
          status: 202,
          body: { id: out.enrollmentId, workflowVersion: out.workflowVersion, status: 'running', ...(dryRun ? { dryRun } : {}), links: { self: `/v1/enrollments/${out.enrollmentId}` } },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/enrollments',
      auth: 'tenant',
      handle: async (req) => {
        const startedAfter = queryTime(req.query, 'startedAfter');
        const startedBefore = queryTime(req.query, 'startedBefore');
        if (startedAfter && startedBefore && startedAfter >= startedBefore)
          throw new ValidationError('query parameter "startedAfter" must be before "startedBefore": the range would hold no enrollment', { field: 'startedAfter' });
        const objectId = req.query.get('objectId') ?? '';
        if (objectId.length > MAX_OBJECT_ID) throw new ValidationError(`query parameter "objectId" must be at most ${MAX_OBJECT_ID} characters`, { field: 'objectId' });
        const out = await c.history.listEnrollments({
          tenantId: req.tenantId,
          workflowId: req.query.get('workflowId') ?? '',
          status: queryEnum(req.query, 'status', ENROLLMENT_STATUSES),
          limit: queryInteger(req.query, 'limit', LIMIT_PARAM),
          objectId,
          startedAfter,
          startedBefore,
          ...enrollmentsCursor(req.query),
        });
        const last = out.enrollments.at(-1);
        const nextCursor = out.more && last ? encodeCursor([last.startedAt, last.enrollmentId]) : null;
        return { status: 200, body: { enrollments: out.enrollments.map(enrollmentView), nextCursor } };
      },
    },
    {
      method: 'GET',
      path: '/v1/enrollments/:id',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: enrollmentView(await c.history.getEnrollment({ tenantId: req.tenantId, enrollmentId: req.params.id! })) }),
    },
  ];
}

/**
 * The enrollment `?cursor=` names: the last one of the previous page by (startedAt, id).
 * @throws ValidationError when it is not a cursor of this list.
 */
function enrollmentsCursor(query: URLSearchParams): { afterStartedAt: number; afterEnrollmentId: string } {
  const key = decodeCursor(query);
  if (!key) return { afterStartedAt: 0, afterEnrollmentId: '' };
  const [startedAt, enrollmentId] = key;
  if (key.length !== 2 || typeof startedAt !== 'number' || !Number.isSafeInteger(startedAt) || startedAt <= 0 || typeof enrollmentId !== 'string' || enrollmentId === '')
    throw new ValidationError('query parameter "cursor" is not a cursor of the enrollments list: send the nextCursor of the previous page as it was, or none for the first page', {
      field: 'cursor',
    });
  return { afterStartedAt: startedAt, afterEnrollmentId: enrollmentId };
}

/** Executions: one by id, or as they happen (the tail, as server-sent events). */
function executionsRoutes(c: ApiClients): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/executions/:id',
      auth: 'tenant',
      handle: async (req) => {
        const linesAfter = intParam(req.query, 'linesAfter', 0, 2 ** 32 - 1, 0);
        const limit = intParam(req.query, 'limit', 1, MAX_LOG_PAGE_LINES, MAX_LOG_PAGE_LINES);
        return { status: 200, body: executionView(await c.history.getExecution({ tenantId: req.tenantId, executionId: req.params.id!, linesAfter, limit })) };
      },
    },
    {
      method: 'GET',
      path: '/v1/tail',
      auth: 'tenant',
      handle: async (req) => ({
        status: 200,
        stream: async (res: ServerResponse, signal: AbortSignal) => {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(': tail started\n\n');
          const call = c.historyRaw.tail({ tenantId: req.tenantId, enrollmentId: req.query.get('enrollmentId') ?? '', workflowId: req.query.get('workflowId') ?? '' });
          signal.addEventListener('abort', () => call.cancel());
          await new Promise<void>((resolve) => {
            call.on('data', (e: historyV1.TailEvent) => res.write(`event: ${e.type}\ndata: ${JSON.stringify({ enrollmentId: e.enrollmentId, executionId: e.executionId, line: e.line ?? null })}\n\n`));
            call.on('error', () => resolve());
            call.on('end', () => resolve());
          });
          res.end();
        },
      }),
    },
  ];
}
