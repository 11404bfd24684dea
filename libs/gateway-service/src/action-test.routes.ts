/**
 * `POST /v1/workflows/{id}/actions/{actionId}/test`: HubSpot's "Test action" button. Runs one
 * action of a saved version (the latest unless `version` is given), or a draft of it not saved
 * yet (`action`), with the tenant's secrets and connections, against the object and inputs the
 * caller sends or a real record read from HubSpot (`object.objectId` without `properties`), and
 * answers with what `codestep run --json` prints (status, outputs, logs, error, duration). With
 * `dryRun`, writes are held back and listed in `dryRunLedger` (see `@codestep/egress`). It is an
 * execution of no enrollment: it is in no enrollment's history and nothing runs after it. An
 * action still running after the wait answers 202 with the execution's link.
 */
import type { ActionDefinition, FieldValue, historyV1 } from '@codestep/contracts';
import { ValidationError } from '@codestep/core';
import { fieldMapToPlain, fieldValue } from '@codestep/events';
import { parseDraftAction } from '@codestep/workflows';
import { VERSION_PARAM, dryRunView, type ApiClients } from './api.routes.ts';
import { historyChangesOf, readUntil, type HistoryWatch } from './history-changes.ts';
import type { HubSpotObjectReader } from './hubspot/hubspot-object.reader.ts';
import type { Route } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const FIELDS = ['version', 'object', 'inputFields', 'data', 'headers', 'dryRun', 'action'] as const;
const OBJECT_FIELDS = ['objectType', 'objectId', 'properties', 'connection'];

export interface ActionTestOptions {
  limitsOf: TenantLimitsOf;
  /** How long the request waits for the execution, ms. @default 25000 */
  waitMs?: number;
  /** Reads a real record from HubSpot (`object.objectId` without `properties`). Unset: the object is used as sent. */
  readObject?: HubSpotObjectReader;
}

interface TestInput {
  version: number;
  object: { objectType: string; objectId: string; properties: Record<string, string> };
  /** No `object.properties` were sent: read the record from HubSpot, if the account is connected. */
  readRecord: boolean;
  /** The HubSpot connection to read the record with (unset: the account's only active one). */
  connection: string | undefined;
  inputFields: Record<string, FieldValue>;
  trigger: { dataJson: string; headers: Record<string, string> } | undefined;
  dryRun: boolean;
  /** A draft of the action, unparsed (checked against the saved version by {@link parseDraftAction}). */
  draft: unknown;
}

const scalar = (v: unknown, path: string): string => {
  if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ValidationError(`${path} must be a string, number or boolean`, { field: path });
  return String(v);
};

/** The body, checked field by field; an unknown field is refused by name. */
export function parseTestInput(body: unknown): TestInput {
  if (body === undefined) body = {};
  if (!isObj(body)) throw new ValidationError('body must be a JSON object like {"object": {"objectId": "123", "properties": {...}}, "inputFields": {...}}');
  const unknown = Object.keys(body).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown) throw new ValidationError(`body.${unknown} is not a field of a test; use ${FIELDS.join(', ')}`, { field: unknown });
  const version = body.version ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > VERSION_PARAM.max)
    throw new ValidationError('version must be a whole number (0 or absent: the latest)', { field: 'version' });
  const o = body.object ?? {};
  if (!isObj(o)) throw new ValidationError('object must be an object like {"objectType": "CONTACT", "objectId": "123", "properties": {"email": "a@b.c"}}', { field: 'object' });
  const unknownInObject = Object.keys(o).find((k) => !OBJECT_FIELDS.includes(k));
  if (unknownInObject) throw new ValidationError(`object.${unknownInObject} is not a field of the object; use ${OBJECT_FIELDS.join(', ')}`, { field: `object.${unknownInObject}` });
  if (o.connection !== undefined && (typeof o.connection !== 'string' || !/^[a-z0-9-]{1,63}$/.test(o.connection)))
    throw new ValidationError('object.connection must be the handle of a HubSpot connection (lowercase letters, digits, "-")', { field: 'object.connection' });
  if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw new ValidationError('dryRun must be true or false', { field: 'dryRun' });
  if (body.action !== undefined && !isObj(body.action))
    throw new ValidationError('action must be the draft action as a workflow body holds it, like {"code": "exports.main = …", "inputFields": [...]}', { field: 'action' });
  const properties: Record<string, string> = {};
  if (o.properties !== undefined && !isObj(o.properties)) throw new ValidationError('object.properties must be an object of property name to value', { field: 'object.properties' });
  for (const [k, v] of Object.entries(o.properties ?? {})) if (v !== null && v !== undefined) properties[k] = scalar(v, `object.properties.${k}`);
  const inputFields: Record<string, FieldValue> = {};
  if (body.inputFields !== undefined && !isObj(body.inputFields)) throw new ValidationError('inputFields must be an object of input name to value', { field: 'inputFields' });
  for (const [k, v] of Object.entries(body.inputFields ?? {})) {
    scalar(v, `inputFields.${k}`);
    inputFields[k] = fieldValue(v as string | number | boolean);
  }
  if (body.headers !== undefined && (!isObj(body.headers) || !Object.values(body.headers).every((v) => typeof v === 'string')))
    throw new ValidationError('headers must be an object of header name to string', { field: 'headers' });
  const trigger = body.data === undefined && body.headers === undefined ? undefined : { dataJson: JSON.stringify(body.data ?? {}), headers: (body.headers ?? {}) as Record<string, string> };
  return {
    version,
    object: { objectType: typeof o.objectType === 'string' ? o.objectType.toUpperCase() : '', objectId: o.objectId === undefined ? '' : scalar(o.objectId, 'object.objectId'), properties },
    readRecord: o.objectId !== undefined && o.properties === undefined,
    connection: o.connection as string | undefined,
    inputFields,
    trigger,
    dryRun: body.dryRun === true,
    draft: body.action,
  };
}

/** The answer, in the shape of `codestep run --json`, with the execution's ids. */
function resultView(x: historyV1.ExecutionView, workflowVersion: number, testId: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    executionId: x.executionId,
    testId,
    workflowVersion,
    ...extra,
    actionId: x.actionId,
    status: x.status,
    outputFields: fieldMapToPlain(x.outputFields),
    ...(x.returnValueJson ? { returnValue: JSON.parse(x.returnValueJson) as unknown } : {}),
    logs: x.logs.map((l) => ({ level: l.level, message: l.message, at: l.at ? new Date(l.at).toISOString() : null })),
    error: x.error ? { code: x.error.code, message: x.error.message } : null,
    durationMs: x.durationMs,
    ...dryRunView(x),
    links: { execution: `/v1/executions/${x.executionId}` },
  };
}

/**
 * The events after which a test's execution may have ended or have its console lines (its events
 * carry the test id as correlation id). Over the history's tail (distributed mode) console lines
 * come as `log` events, one per line; in one process as the `ActionLogged` they were applied from.
 */
export const TEST_DONE_EVENTS: ReadonlySet<string> = new Set(['ActionSucceeded', 'ActionFailed', 'ActionRetryScheduled', 'ActionLogged', 'log']);

/**
 * How long a finished test whose result does not say how many console lines it logged (an event
 * written before results carried the count) waits for lines when it has none yet, ms.
 */
const LINES_GRACE_MS = 1_500;

/**
 * Whether a finished execution's console lines are all there. The lines are events of their own
 * topic: in distributed mode the history views can apply the result before them. The result says
 * how many it logged; past the console document's cap the rest are dropped and marked truncated.
 */
export const linesArrived = (x: { linesLogged?: number | undefined; logsTotal: number; logsTruncated: boolean }): boolean =>
  x.linesLogged === undefined || x.logsTotal >= x.linesLogged || x.logsTruncated;

/**
 * A finished execution with its console lines: read again until all it logged are there (until
 * `deadline`, or LINES_GRACE_MS from now if that is later: an execution that ran until close to
 * the deadline still gets its lines). A result without the count waits only while it has no line,
 * at most LINES_GRACE_MS.
 */
async function withLines(x: historyV1.ExecutionView, watch: HistoryWatch, read: () => Promise<historyV1.ExecutionView>, deadline: number, signal?: AbortSignal): Promise<historyV1.ExecutionView> {
  if (x.linesLogged === undefined) {
    if (x.logs.length > 0) return x;
    return (await readUntil(watch, read, (v) => v.logs.length > 0, Math.min(deadline, Date.now() + LINES_GRACE_MS), Date.now, signal)) ?? x;
  }
  if (linesArrived(x)) return x;
  return (await readUntil(watch, read, linesArrived, Math.max(deadline, Date.now() + LINES_GRACE_MS), Date.now, signal)) ?? x;
}

/** The object properties an action reads (its inputs taken from the enrolled object). */
const propertiesRead = (action: ActionDefinition | undefined): string[] => (action?.inputFields ?? []).flatMap((f) => (f.source?.$case === 'objectProperty' ? [f.source.value] : []));

export function actionTestRoutes(c: ApiClients, options: ActionTestOptions): Route[] {
  const waitMs = options.waitMs ?? 25_000;
  const changes = historyChangesOf(c);
  return [
    {
      method: 'POST',
      path: '/v1/workflows/:id/actions/:actionId/test',
      auth: 'tenant',
      handle: async (req) => {
        const input = parseTestInput(req.body);
        const key = req.headers['idempotency-key'] ?? '';
        if (key.length > 200) throw new ValidationError('Idempotency-Key must be at most 200 characters');
        const { policy, bounds } = await options.limitsOf(req.tenantId);
        const actionId = req.params.actionId!;
        const readRecord = input.readRecord && options.readObject !== undefined && (input.connection !== undefined || (await hasHubSpot(c, req.tenantId)));
        const wf = input.draft !== undefined || readRecord ? await c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId: req.params.id!, version: input.version }) : undefined;
        const draft = wf && input.draft !== undefined ? parseDraftAction(input.draft, actionId, wf.actions, bounds) : undefined;
        const object = { ...input.object };
        let source = 'request';
        if (wf && readRecord) {
          const objectType = object.objectType || wf.objectType;
          const read = await options.readObject!({
            tenantId: req.tenantId,
            objectType,
            objectId: object.objectId,
            properties: propertiesRead(draft ?? wf.actions.find((a) => a.actionId === actionId)),
            connection: input.connection,
            purpose: `test of action ${actionId} of workflow ${wf.workflowId}`,
          });
          object.objectType = objectType;
          object.properties = read.properties;
          source = `hubspot:${read.connection}`;
        }
        const out = await c.enrollments.testAction({
          tenantId: req.tenantId,
          workflowId: req.params.id!,
          version: wf?.version ?? input.version,
          actionId,
          object,
          inputFields: input.inputFields,
          requestId: key,
          limits: policy,
          trigger: input.trigger,
          ...(input.dryRun ? { dryRun: true } : {}),
          ...(draft ? { draft } : {}),
        });
        const extra = { ...(draft ? { draft: true } : {}), object: { ...object, source } };
        const watch = changes.watch(req.tenantId, out.testId, TEST_DONE_EVENTS);
        try {
          const read = () => c.history.getExecution({ tenantId: req.tenantId, executionId: out.executionId, linesAfter: 0, limit: 1000 });
          const deadline = Date.now() + waitMs;
          const x = await readUntil(watch, read, (v) => v.status === 'succeeded' || v.status === 'failed', deadline, Date.now, req.signal);
          if (x && (x.status === 'succeeded' || x.status === 'failed')) {
            return { status: 200, body: resultView(await withLines(x, watch, read, deadline, req.signal), out.workflowVersion, out.testId, extra) };
          }
        } finally {
          watch.close();
        }
        return {
          status: 202,
          body: {
            executionId: out.executionId,
            testId: out.testId,
            workflowVersion: out.workflowVersion,
            ...extra,
            status: 'running',
            ...(input.dryRun ? { dryRun: true } : {}),
            links: { execution: `/v1/executions/${out.executionId}` },
          },
        };
      },
    },
  ];
}

/** Whether the account has a HubSpot connection to read a record with (false without a broker). */
async function hasHubSpot(c: ApiClients, tenantId: string): Promise<boolean> {
  if (!c.credentials) return false;
  const { connections } = await c.credentials.listConnections({ tenantId });
  return connections.some((x) => x.provider === 'hubspot' && x.status === 'active');
}
