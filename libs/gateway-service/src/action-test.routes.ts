/**
 * `POST /v1/workflows/{id}/actions/{actionId}/test`: HubSpot's "Test action" button. Runs one
 * action of a saved version (the latest unless `version` is given) with the tenant's secrets and
 * connections, against the object and inputs the caller sends, and answers with what
 * `codestep run --json` prints (status, outputs, logs, error, duration). It is an execution of no
 * enrollment: it is in no enrollment's history and nothing runs after it. An action still running
 * after the wait answers 202 with the execution's link.
 */
import type { FieldValue, historyV1 } from '@codestep/contracts';
import { ValidationError } from '@codestep/core';
import { fieldMapToPlain, fieldValue } from '@codestep/events';
import { VERSION_PARAM, type ApiClients } from './api.routes.ts';
import { historyChangesOf, readUntil } from './history-changes.ts';
import type { Route } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const FIELDS = ['version', 'object', 'inputFields', 'data', 'headers'] as const;

export interface ActionTestOptions {
  limitsOf: TenantLimitsOf;
  /** How long the request waits for the execution, ms. @default 25000 */
  waitMs?: number;
}

interface TestInput {
  version: number;
  object: { objectType: string; objectId: string; properties: Record<string, string> };
  inputFields: Record<string, FieldValue>;
  trigger: { dataJson: string; headers: Record<string, string> } | undefined;
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
    inputFields,
    trigger,
  };
}

/** The answer, in the shape of `codestep run --json`, with the execution's ids. */
function resultView(x: historyV1.ExecutionView, workflowVersion: number, testId: string): Record<string, unknown> {
  return {
    executionId: x.executionId,
    testId,
    workflowVersion,
    actionId: x.actionId,
    status: x.status,
    outputFields: fieldMapToPlain(x.outputFields),
    ...(x.returnValueJson ? { returnValue: JSON.parse(x.returnValueJson) as unknown } : {}),
    logs: x.logs.map((l) => ({ level: l.level, message: l.message })),
    error: x.error ? { code: x.error.code, message: x.error.message } : null,
    durationMs: x.durationMs,
    links: { execution: `/v1/executions/${x.executionId}` },
  };
}

/** The events after which a test's execution may have ended (its events carry the test id as correlation id). */
const TEST_DONE_EVENTS: ReadonlySet<string> = new Set(['ActionSucceeded', 'ActionFailed', 'ActionRetryScheduled']);

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
        const { policy } = await options.limitsOf(req.tenantId);
        const out = await c.enrollments.testAction({
          tenantId: req.tenantId,
          workflowId: req.params.id!,
          version: input.version,
          actionId: req.params.actionId!,
          object: input.object,
          inputFields: input.inputFields,
          requestId: key,
          limits: policy,
          trigger: input.trigger,
        });
        const watch = changes.watch(req.tenantId, out.testId, TEST_DONE_EVENTS);
        try {
          const x = await readUntil(
            watch,
            () => c.history.getExecution({ tenantId: req.tenantId, executionId: out.executionId, linesAfter: 0, limit: 1000 }),
            (v) => v.status === 'succeeded' || v.status === 'failed',
            Date.now() + waitMs,
            Date.now,
            req.signal,
          );
          if (x && (x.status === 'succeeded' || x.status === 'failed')) return { status: 200, body: resultView(x, out.workflowVersion, out.testId) };
        } finally {
          watch.close();
        }
        return {
          status: 202,
          body: { executionId: out.executionId, testId: out.testId, workflowVersion: out.workflowVersion, status: 'running', links: { execution: `/v1/executions/${out.executionId}` } },
        };
      },
    },
  ];
}
