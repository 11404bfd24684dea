/**
 * Day-two operations on a workflow: enable, disable, archive (DELETE; its versions and history are
 * kept, enabling restores it), its versions, the diff of two versions, and rollback (a new version
 * equal to an older one), its schedule (a schedule trigger's next fire times and last tick). The enrollment service owns the state and publishes every change as an
 * event; these routes check the input and shape the answers.
 */
import type { WorkflowDefinition, workflowsV1 } from '@codestep/contracts';
import { NotFoundError, ValidationError } from '@codestep/core';
import { diffWorkflows, triggerToInput } from '@codestep/workflows';
import { VERSION_PARAM, stateView, workflowView, type ApiClients } from './api.routes.ts';
import { pageOf } from './paging.ts';
import { queryInteger } from './request-input.parser.ts';
import type { Route, RouteRequest } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One version in the list: what identifies it, without the code. */
export function versionSummary(wf: WorkflowDefinition): Record<string, unknown> {
  return {
    version: wf.version,
    name: wf.name,
    objectType: wf.objectType,
    createdAt: new Date(wf.createdAt).toISOString(),
    rolledBackFrom: wf.rolledBackFrom || null,
    actions: wf.actions.map((a) => ({ id: a.actionId, runtime: a.runtime || 'hubspot', codeBytes: Buffer.byteLength(a.code) })),
  };
}

/** `{"reason": "…"}` (optional) of enable/disable. */
function reasonOf(req: RouteRequest): string {
  if (req.body === undefined) return '';
  if (!isObj(req.body)) throw new ValidationError('body must be a JSON object like {"reason": "bad deploy"} (or no body)');
  const known = new Set(['reason']);
  const unknown = Object.keys(req.body).find((k) => !known.has(k));
  if (unknown) throw new ValidationError(`body.${unknown} is not a field of this request; send {"reason": "…"} or no body`, { field: unknown });
  const reason = req.body.reason ?? '';
  if (typeof reason !== 'string' || reason.length > 500) throw new ValidationError('body.reason must be a string of at most 500 characters', { field: 'reason' });
  return reason;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A workflow's schedule as `GET /v1/workflows/{id}/schedule` shows it. */
export function scheduleView(s: workflowsV1.WorkflowSchedule): Record<string, unknown> {
  return {
    workflowId: s.workflowId,
    trigger: s.trigger ? triggerToInput(s.trigger) : null,
    status: s.status,
    armed: s.armed,
    nextFireTimes: s.nextFireTimes.map(iso),
    lastTick: s.lastTickAt ? { tickAt: iso(s.lastTickAt), outcome: s.lastOutcome, enrollmentId: s.lastEnrollmentId || null, missed: s.lastMissed } : null,
  };
}

export function workflowLifecycleRoutes(c: ApiClients, limitsOf: TenantLimitsOf): Route[] {
  const setStatus =
    (status: 'enabled' | 'disabled' | 'archived'): Route['handle'] =>
    async (req) => {
      const reason = reasonOf(req);
      const state = await c.workflows.setWorkflowStatus({ tenantId: req.tenantId, workflowId: req.params.id!, status, reason });
      return { status: 200, body: { id: req.params.id, ...stateView(state) } };
    };
  return [
    { method: 'POST', path: '/v1/workflows/:id/enable', auth: 'tenant', handle: setStatus('enabled') },
    { method: 'POST', path: '/v1/workflows/:id/disable', auth: 'tenant', handle: setStatus('disabled') },
    { method: 'DELETE', path: '/v1/workflows/:id', auth: 'tenant', handle: setStatus('archived') },
    {
      method: 'GET',
      path: '/v1/workflows/:id/versions',
      auth: 'tenant',
      handle: async (req) => {
        const { versions } = await c.workflows.listWorkflowVersions({ tenantId: req.tenantId, workflowId: req.params.id! });
        // Newest first, as before paging.
        const page = pageOf(versions, (v) => [-v.version], req.query);
        return { status: 200, body: { workflowId: req.params.id, versions: page.items.map(versionSummary), nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'GET',
      path: '/v1/workflows/:id/schedule',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: scheduleView(await c.workflows.getWorkflowSchedule({ tenantId: req.tenantId, workflowId: req.params.id!, version: 0 })) }),
    },
    {
      method: 'GET',
      path: '/v1/workflows/:id/diff',
      auth: 'tenant',
      handle: async (req) => {
        const workflowId = req.params.id!;
        const head = await c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId, version: 0 });
        const to = queryInteger(req.query, 'to', { ...VERSION_PARAM, default: head.version }) || head.version;
        const from = queryInteger(req.query, 'from', { ...VERSION_PARAM, default: Math.max(1, to - 1) }) || Math.max(1, to - 1);
        for (const [name, v] of [
          ['from', from],
          ['to', to],
        ] as const)
          if (v > head.version) throw new NotFoundError(`workflow ${workflowId} has no version ${v} (query parameter "${name}"): its versions are 1 to ${head.version}`);
        const [a, b] = await Promise.all([
          from === head.version ? head : c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId, version: from }),
          to === head.version ? head : c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId, version: to }),
        ]);
        return { status: 200, body: diffWorkflows(a, b) };
      },
    },
    {
      method: 'POST',
      path: '/v1/workflows/:id/rollback',
      auth: 'tenant',
      handle: async (req) => {
        const body = req.body;
        if (!isObj(body) || body.toVersion === undefined)
          throw new ValidationError('body must be {"toVersion": N}: the version to roll back to (see GET /v1/workflows/{id}/versions)', { field: 'toVersion' });
        const unknown = Object.keys(body).find((k) => k !== 'toVersion');
        if (unknown) throw new ValidationError(`body.${unknown} is not a field of this request; send {"toVersion": N}`, { field: unknown });
        const toVersion = body.toVersion;
        if (typeof toVersion !== 'number' || !Number.isInteger(toVersion) || toVersion < 1 || toVersion > VERSION_PARAM.max)
          throw new ValidationError(`toVersion must be a whole number from 1 (a version of the workflow), got ${JSON.stringify(toVersion)}`, { field: 'toVersion' });
        const { policy } = await limitsOf(req.tenantId);
        const wf = await c.workflows.rollbackWorkflow({ tenantId: req.tenantId, workflowId: req.params.id!, toVersion, limits: policy });
        return { status: 200, body: workflowView(wf, await c.workflows.getWorkflowState({ tenantId: req.tenantId, workflowId: wf.workflowId, version: 0 })) };
      },
    },
  ];
}
