/**
 * Webhook triggers (JsWorkflows): every workflow can have a secret hook URL. A request to it
 * enrolls the workflow with `data` = the JSON body merged over the query parameters and
 * `headers` = the request headers, waits for the enrollment, and answers with what the last
 * action's `start` returned. Still running after the wait: 202 with the enrollment id.
 *
 * Two collections. The public index (`webhooks`, token → tenant and workflow) stays on the plain
 * store: a request to `/hooks/{token}` names no tenant, the token alone is the credential, so
 * that lookup is not per tenant by nature. Each tenant's hook per workflow (`webhook_workflows`)
 * is reached through `tenantScoped`, keyed by workflow id, so another tenant's workflow is simply
 * absent. Hooks created before the per-tenant collection get their entry when the gateway starts.
 *
 * A hook URL can be rotated (a new token; the old one is refused at once) and revoked (no token
 * until the next `POST …/webhook`). A disabled or archived workflow refuses hook calls with 409,
 * like any enrollment.
 */
import { randomBytes } from 'node:crypto';
import type { historyV1 } from '@codestep/contracts';
import { CodestepError, NotFoundError, randomHex } from '@codestep/core';
import { tenantScoped, type DocumentStore } from '@codestep/store';
import type { ApiClients } from './api.routes.ts';
import { historyChangesOf, readUntil, type HistoryChanges } from './history-changes.ts';
import type { Route, RouteResponse } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

const HOOKS = 'webhooks';
const HOOKS_BY_WORKFLOW = 'webhook_workflows';

/** The public index entry, stored under the token (the layout hooks always had). */
interface HookDoc {
  tenantId: string;
  workflowId: string;
  createdAt: number;
}

/** A tenant's hook of one workflow, stored under the workflow id in the tenant's scope. */
interface WorkflowHookDoc {
  workflowId: string;
  token: string;
  createdAt: number;
}

export interface HookOptions {
  store: DocumentStore;
  clock: () => number;
  /** The tenant's limits, carried by the enrollment a hook starts. */
  limitsOf: TenantLimitsOf;
  /** How long a hook request waits for its enrollment, ms. @default 25000 */
  waitMs?: number;
}

/** Headers that say something about our own proxying, not the sender. */
const DROP = new Set(['authorization', 'cookie', 'x-api-key', 'host', 'connection', 'content-length', 'traceparent', 'tracestate']);

/**
 * Creates the hook collections and gives every hook made before the per-tenant collection its
 * entry there (the first token found per workflow, as the old lookup answered with).
 */
export async function ensureHookCollection(store: DocumentStore): Promise<void> {
  await store.ensureCollection(HOOKS, [{ fields: ['tenantId', 'workflowId'] }]);
  await store.ensureCollection(HOOKS_BY_WORKFLOW, [{ fields: ['tenantId'] }]);
  for (const { id, doc } of await store.find<HookDoc>(HOOKS, { limit: 1_000_000 })) {
    if (!doc.tenantId || !doc.workflowId) continue;
    await tenantScoped(store, doc.tenantId).insertIfAbsent<WorkflowHookDoc>(HOOKS_BY_WORKFLOW, doc.workflowId, { workflowId: doc.workflowId, token: id, createdAt: doc.createdAt });
  }
}

/** The tenant's hook token of a workflow, made on first ask; of two concurrent first asks, one token wins. */
async function hookToken(store: DocumentStore, tenantId: string, workflowId: string, createdAt: number): Promise<string> {
  const tenant = tenantScoped(store, tenantId);
  const existing = await tenant.get<WorkflowHookDoc>(HOOKS_BY_WORKFLOW, workflowId);
  if (existing) return existing.doc.token;
  const token = `hk_${randomBytes(24).toString('base64url')}`;
  // The public index first, so that a token handed out always resolves.
  await store.put<HookDoc>(HOOKS, token, { tenantId, workflowId, createdAt });
  if (await tenant.insertIfAbsent<WorkflowHookDoc>(HOOKS_BY_WORKFLOW, workflowId, { workflowId, token, createdAt })) return token;
  await store.delete(HOOKS, token);
  const winner = await tenant.get<WorkflowHookDoc>(HOOKS_BY_WORKFLOW, workflowId);
  if (!winner) throw new Error(`the webhook of workflow ${workflowId} vanished while being created`);
  return winner.doc.token;
}

/** The workflow version's last action: its index, and whether it is a JsWorkflows run of steps. */
async function lastActionOf(c: ApiClients, tenantId: string, workflowId: string, version: number): Promise<{ index: number; steps: boolean }> {
  const wf = await c.workflows.getWorkflow({ tenantId, workflowId, version });
  const actions = wf.actions ?? [];
  return { index: actions.length - 1, steps: actions.at(-1)?.runtime === 'jsworkflows' };
}

/** Headers a `Response` may not set on ours: the connection's own. */
const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer']);

/**
 * What JsWorkflows answers an HTTP trigger with: the `Response` start returned as it is, an
 * object (any JSON value) as JSON, nothing as `{"success":true}`.
 */
function startResponse(start: historyV1.ExecutionView, extra: Record<string, string>): RouteResponse {
  if (start.httpResponseJson) {
    const r = JSON.parse(start.httpResponseJson) as { status: number; headers: Record<string, string>; body: string };
    const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
    return { status: r.status, body: r.body, headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers, ...extra } };
  }
  if (!start.returnValueJson) return { status: 200, body: { success: true }, headers: extra };
  return { status: 200, body: JSON.parse(start.returnValueJson) as unknown, headers: extra };
}

/** Replaces the tenant's hook token of a workflow (rotation), or removes it (`next` undefined: revocation); the old token stops resolving. */
async function replaceHookToken(store: DocumentStore, tenantId: string, workflowId: string, createdAt: number, rotate: boolean): Promise<string | undefined> {
  const tenant = tenantScoped(store, tenantId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await tenant.get<WorkflowHookDoc>(HOOKS_BY_WORKFLOW, workflowId);
    if (!existing) {
      if (!rotate) throw new NotFoundError(`workflow ${workflowId} has no webhook to revoke; POST /v1/workflows/${workflowId}/webhook creates one`);
      return hookToken(store, tenantId, workflowId, createdAt);
    }
    if (!rotate) {
      // The public entry first: from here the old URL is refused.
      await store.delete(HOOKS, existing.doc.token);
      await tenant.delete(HOOKS_BY_WORKFLOW, workflowId);
      return undefined;
    }
    const token = `hk_${randomBytes(24).toString('base64url')}`;
    await store.put<HookDoc>(HOOKS, token, { tenantId, workflowId, createdAt });
    if (await tenant.compareAndSet<WorkflowHookDoc>(HOOKS_BY_WORKFLOW, workflowId, existing.version, { workflowId, token, createdAt })) {
      await store.delete(HOOKS, existing.doc.token);
      return token;
    }
    await store.delete(HOOKS, token);
  }
  throw new CodestepError('CONFLICT', `the webhook of workflow ${workflowId} is being changed by others at the same time; try again`);
}

/** The events after which a hook's answer may be ready: the run finished (or was retried), or an action returned. */
const HOOK_ANSWER_EVENTS: ReadonlySet<string> = new Set(['EnrollmentCompleted', 'EnrollmentFailed', 'EnrollmentRetried', 'ActionSucceeded']);

/**
 * The enrollment once the hook can answer (finished, or its JsWorkflows `start` returned), read
 * again each time its history says it may be, until `until`; the last view read otherwise. An
 * enrollment this request has just started (`started`: its workflow version), watched in-process,
 * is read once it changed, not before: meanwhile only its version's last action is.
 */
async function answerOf(
  c: ApiClients,
  changes: HistoryChanges,
  run: { tenantId: string; workflowId: string; enrollmentId: string; started?: number },
  until: number,
  signal?: AbortSignal,
): Promise<{ view: historyV1.EnrollmentView | undefined; start: historyV1.ExecutionView | undefined }> {
  const { tenantId, workflowId, enrollmentId } = run;
  let lastAction: Promise<{ index: number; steps: boolean }> | undefined;
  const lastActionAt = (version: number) => {
    const known = lastActionOf(c, tenantId, workflowId, version);
    known.catch(() => (lastAction = undefined)); // asked again with the next view
    return known;
  };
  const afterChange = run.started !== undefined && changes.inProcess === true;
  if (afterChange) lastAction = lastActionAt(run.started!);
  let start: historyV1.ExecutionView | undefined;
  const watch = changes.watch(tenantId, enrollmentId, HOOK_ANSWER_EVENTS);
  try {
    const view = await readUntil(
      watch,
      async () => {
        const v = await c.history.getEnrollment({ tenantId, enrollmentId });
        const last = await (lastAction ??= lastActionAt(v.workflowVersion));
        // A JsWorkflows run answers once its start has returned: its later steps may run for days.
        start = last.steps ? v.executions.find((x) => x.stepIndex === last.index && x.stepName === 'start' && x.status === 'succeeded') : undefined;
        return v;
      },
      (v) => v.status !== 'running' || start !== undefined,
      until,
      Date.now,
      signal,
      afterChange,
    );
    return { view, start };
  } finally {
    watch.close();
  }
}

export function hookRoutes(c: ApiClients, options: HookOptions): Route[] {
  const waitMs = options.waitMs ?? 25_000;
  const changes = historyChangesOf(c);

  const handleHook: Route['handle'] = async (req) => {
    // By token alone, on the plain store: the request names no tenant; the hook says whose it is.
    const hook = await options.store.get<HookDoc>(HOOKS, req.params.token!);
    if (!hook) throw new NotFoundError('unknown webhook; get the URL from POST /v1/workflows/{id}/webhook');
    const query = Object.fromEntries(req.query);
    const body = req.body;
    const data = body === undefined ? query : typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...query, ...body } : body;
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => v !== undefined && !DROP.has(k))) as Record<string, string>;
    const { tenantId, workflowId } = hook.doc;
    const { policy } = await options.limitsOf(tenantId);
    const out = await c.enrollments.enroll({
      tenantId,
      workflowId,
      object: { objectType: 'WEBHOOK', objectId: `hook-${options.clock()}-${randomHex(4)}`, properties: {} },
      requestId: req.headers['idempotency-key'] ?? '',
      portalId: 0,
      trigger: { dataJson: JSON.stringify(data), headers },
      limits: policy,
    });
    // A gateway that is stopping answers at once with what it has: the enrollment is committed.
    // Without an idempotency key the enrollment is a new one: nothing to read before it changed.
    const started = req.headers['idempotency-key'] ? undefined : out.workflowVersion;
    const { view, start } = await answerOf(c, changes, { tenantId, workflowId, enrollmentId: out.enrollmentId, ...(started === undefined ? {} : { started }) }, Date.now() + waitMs, req.signal);
    const enrollmentHeader = { 'x-codestep-enrollment-id': out.enrollmentId };
    if (start) return startResponse(start, enrollmentHeader);
    if (!view || view.status === 'running') return { status: 202, body: { enrollmentId: out.enrollmentId, status: 'running' } };
    if (view.status === 'failed') {
      return { status: 500, body: { error: { code: view.error?.code ?? 'ACTION_FAILED', message: view.error?.message ?? 'the workflow failed' }, enrollmentId: out.enrollmentId } };
    }
    const last = [...view.executions].reverse().find((x) => x.status === 'succeeded');
    const value: unknown = last?.returnValueJson ? JSON.parse(last.returnValueJson) : null;
    return { status: 200, body: value ?? null, headers: enrollmentHeader };
  };

  return [
    {
      method: 'POST',
      path: '/v1/workflows/:id/webhook',
      auth: 'tenant',
      handle: async (req) => {
        await c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId: req.params.id!, version: 0 }); // 404 for another tenant's
        const token = await hookToken(options.store, req.tenantId, req.params.id!, options.clock());
        return { status: 200, body: { workflowId: req.params.id, path: `/hooks/${token}` } };
      },
    },
    {
      method: 'POST',
      path: '/v1/workflows/:id/webhook/rotate',
      auth: 'tenant',
      handle: async (req) => {
        await c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId: req.params.id!, version: 0 }); // 404 for another tenant's
        const token = await replaceHookToken(options.store, req.tenantId, req.params.id!, options.clock(), true);
        return { status: 200, body: { workflowId: req.params.id, path: `/hooks/${token}`, rotated: true } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/workflows/:id/webhook',
      auth: 'tenant',
      handle: async (req) => {
        await c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId: req.params.id!, version: 0 });
        await replaceHookToken(options.store, req.tenantId, req.params.id!, options.clock(), false);
        return { status: 200, body: { workflowId: req.params.id, revoked: true } };
      },
    },
    { method: 'POST', path: '/hooks/:token', auth: 'none', handle: handleHook },
    { method: 'GET', path: '/hooks/:token', auth: 'none', handle: handleHook },
  ];
}
