/**
 * Re-running what failed: one failed enrollment from its failed step (optionally with edited
 * inputs for that step, on the version it failed on or the latest), or every failed enrollment of
 * a workflow that a filter matches, as a job whose progress can be read. Each retry is a new
 * attempt in the same enrollment's history.
 */
import type { FieldValue } from '@codestep/contracts';
import { ERROR_CODES, ValidationError } from '@codestep/core';
import { fieldValue } from '@codestep/events';
import type { ApiClients } from './api.routes.ts';
import type { Route, RouteRequest } from './router.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** `version` of a retry: the version the enrollment failed on, or the latest. */
export const RETRY_VERSIONS = ['original', 'latest'] as const;
/** The most enrollments one bulk retry takes (the enrollment service's cap). */
export const MAX_RETRY_JOB = 1000;

function checkFields(body: Record<string, unknown>, known: readonly string[], what: string): void {
  const unknown = Object.keys(body).find((k) => !known.includes(k));
  if (unknown) throw new ValidationError(`body.${unknown} is not a field of ${what}; use ${known.join(', ')}`, { field: unknown });
}

function onLatest(v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'string' || !(RETRY_VERSIONS as readonly string[]).includes(v)) throw new ValidationError(`version must be one of ${RETRY_VERSIONS.join(', ')}`, { field: 'version' });
  return v === 'latest';
}

function time(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationError(`${field} must be an ISO 8601 time like "2026-01-31T12:00:00Z"`, { field });
  return ms;
}

function bodyOf(req: RouteRequest, example: string): Record<string, unknown> {
  if (req.body === undefined) return {};
  if (!isObj(req.body)) throw new ValidationError(`body must be a JSON object like ${example}`);
  return req.body;
}

export function retryRoutes(c: ApiClients): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/enrollments/:id/retry',
      auth: 'tenant',
      handle: async (req) => {
        const body = bodyOf(req, '{"version": "original", "inputFields": {"email": "fixed@example.com"}}');
        checkFields(body, ['version', 'inputFields', 'reason'], 'a retry');
        const fields: Record<string, FieldValue> = {};
        if (body.inputFields !== undefined && !isObj(body.inputFields)) throw new ValidationError('inputFields must be an object of input name to value', { field: 'inputFields' });
        for (const [k, v] of Object.entries(body.inputFields ?? {})) {
          if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ValidationError(`inputFields.${k} must be a string, number or boolean`, { field: `inputFields.${k}` });
          fields[k] = fieldValue(v as string | number | boolean);
        }
        if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 500))
          throw new ValidationError('reason must be a string of at most 500 characters', { field: 'reason' });
        const out = await c.enrollments.retryEnrollment({
          tenantId: req.tenantId,
          enrollmentId: req.params.id!,
          onLatestVersion: onLatest(body.version),
          inputFields: Object.keys(fields).length ? { fields } : undefined,
          reason: (body.reason as string | undefined) ?? '',
          jobId: '',
        });
        return {
          status: 202,
          body: { ...out, id: out.enrollmentId, status: 'running', links: { self: `/v1/enrollments/${out.enrollmentId}`, execution: `/v1/executions/${out.executionId}` } },
        };
      },
    },
    {
      method: 'POST',
      path: '/v1/workflows/:id/retries',
      auth: 'tenant',
      handle: async (req) => {
        const body = bodyOf(req, '{"errorCode": "RATE_LIMITED", "failedAfter": "2026-01-31T00:00:00Z", "limit": 100}');
        checkFields(body, ['status', 'errorCode', 'failedAfter', 'failedBefore', 'limit', 'version'], 'a bulk retry');
        if (body.status !== undefined && body.status !== 'failed') throw new ValidationError('status must be "failed": only failed enrollments are retried', { field: 'status' });
        if (body.errorCode !== undefined && (typeof body.errorCode !== 'string' || !(ERROR_CODES as string[]).includes(body.errorCode)))
          throw new ValidationError('errorCode must be a code of the error catalogue (see the Error schema in /openapi.json), like "RATE_LIMITED"', { field: 'errorCode' });
        const limit = body.limit ?? 100;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_RETRY_JOB)
          throw new ValidationError(`limit must be a whole number from 1 to ${MAX_RETRY_JOB}: the most enrollments the job retries`, { field: 'limit' });
        const failedAfter = time(body.failedAfter, 'failedAfter');
        const failedBefore = time(body.failedBefore, 'failedBefore');
        if (failedAfter && failedBefore && failedAfter >= failedBefore) throw new ValidationError('failedAfter must be before failedBefore', { field: 'failedAfter' });
        const key = req.headers['idempotency-key'] ?? '';
        if (key.length > 200) throw new ValidationError('Idempotency-Key must be at most 200 characters');
        const job = await c.enrollments.startRetryJob({
          tenantId: req.tenantId,
          workflowId: req.params.id!,
          errorCode: (body.errorCode as string | undefined) ?? '',
          failedAfter,
          failedBefore,
          limit,
          onLatestVersion: onLatest(body.version),
          requestId: key,
        });
        return { status: 202, body: { ...job, links: { self: `/v1/retries/${job.jobId}` } } };
      },
    },
    {
      method: 'GET',
      path: '/v1/retries/:id',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: await c.enrollments.getRetryJob({ tenantId: req.tenantId, jobId: req.params.id! }) }),
    },
  ];
}
