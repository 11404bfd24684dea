/**
 * Webhook tokens on the embedded store: each tenant's hook of a workflow is its own even when
 * two tenants use the same workflow id, a hook URL starts its own tenant's workflow, hooks
 * made before the per-tenant collection keep their URL, and a hook request answers at once when
 * the gateway is stopping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '@codestep/core';
import { SqliteStore } from '@codestep/store-sqlite';
import type { ApiClients } from './api.routes.ts';
import { createHistoryChangesHub } from './history-changes.ts';
import { ensureHookCollection, hookRoutes } from './hooks.routes.ts';
import type { Route, RouteRequest } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

/** Fake services: each tenant owns the workflows listed for it; enrollments finish at once. */
function fixture(store: SqliteStore, owned: Record<string, string[]>) {
  const enrolled: Array<{ tenantId: string; workflowId: string }> = [];
  const clients = {
    workflows: {
      getWorkflow: async (req: { tenantId: string; workflowId: string }) => {
        if (!owned[req.tenantId]?.includes(req.workflowId)) throw new NotFoundError('no such workflow');
        return {};
      },
    },
    enrollments: {
      enroll: async (req: { tenantId: string; workflowId: string }) => {
        enrolled.push({ tenantId: req.tenantId, workflowId: req.workflowId });
        return { enrollmentId: `enr-${enrolled.length}` };
      },
    },
    history: { getEnrollment: async () => ({ status: 'succeeded', executions: [] }) },
  } as unknown as ApiClients;
  const limitsOf = (async () => ({ policy: {} })) as unknown as TenantLimitsOf;
  const routes = hookRoutes(clients, { store, clock: () => 1_000, limitsOf, waitMs: 1_000 });
  const route = (method: Route['method'], path: string) => routes.find((r) => r.method === method && r.path === path)!;
  const request = (tenantId: string, params: Record<string, string>): RouteRequest => ({ tenantId, params, query: new URLSearchParams(), body: undefined, headers: {} });
  return {
    enrolled,
    async hookPath(tenantId: string, workflowId: string): Promise<string> {
      const res = await route('POST', '/v1/workflows/:id/webhook').handle(request(tenantId, { id: workflowId }));
      return (res.body as { path: string }).path;
    },
    call: (path: string) => route('POST', '/hooks/:token').handle(request('', { token: path.slice('/hooks/'.length) })),
  };
}

describe('webhook routes', () => {
  it('gives two tenants with the same workflow id each their own hook, starting their own workflow', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await ensureHookCollection(store);
    const f = fixture(store, { 'tenant-a': ['wf-1'], 'tenant-b': ['wf-1', 'wf-b'] });
    const a = await f.hookPath('tenant-a', 'wf-1');
    const b = await f.hookPath('tenant-b', 'wf-1');
    assert.notEqual(a, b);
    assert.equal(await f.hookPath('tenant-a', 'wf-1'), a, 'asking again gives the same hook');
    await assert.rejects(f.hookPath('tenant-a', 'wf-b'), NotFoundError);

    await f.call(b);
    await f.call(a);
    assert.deepEqual(f.enrolled, [
      { tenantId: 'tenant-b', workflowId: 'wf-1' },
      { tenantId: 'tenant-a', workflowId: 'wf-1' },
    ]);
    await assert.rejects(f.call('/hooks/tenant-a/wf-1'), NotFoundError);
    await store.close();
  });

  it('keeps the URL of a hook made before hooks were kept per tenant', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.ensureCollection('webhooks', []);
    await store.put('webhooks', 'hk_earlier', { tenantId: 'tenant-a', workflowId: 'wf-1', createdAt: 500 });
    await ensureHookCollection(store);
    await ensureHookCollection(store);
    const f = fixture(store, { 'tenant-a': ['wf-1'], 'tenant-b': ['wf-1'] });
    assert.equal(await f.hookPath('tenant-a', 'wf-1'), '/hooks/hk_earlier');
    assert.notEqual(await f.hookPath('tenant-b', 'wf-1'), '/hooks/hk_earlier');
    assert.equal((await f.call('/hooks/hk_earlier')).status, 200);
    assert.deepEqual(f.enrolled, [{ tenantId: 'tenant-a', workflowId: 'wf-1' }]);
    await store.close();
  });

  it('answers 202 with the enrollment id, without waiting for the workflow, when the gateway is stopping', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await ensureHookCollection(store);
    let polls = 0;
    const clients = {
      workflows: { getWorkflow: async () => ({}) },
      enrollments: { enroll: async () => ({ enrollmentId: 'enr-1' }) },
      history: { getEnrollment: async () => (polls++, { status: 'running', executions: [] }) },
    } as unknown as ApiClients;
    const limitsOf = (async () => ({ policy: {} })) as unknown as TenantLimitsOf;
    const routes = hookRoutes(clients, { store, clock: () => 1_000, limitsOf, waitMs: 60_000 });
    const created = await routes.find((r) => r.path === '/v1/workflows/:id/webhook')!.handle({ tenantId: 't', params: { id: 'wf-1' }, query: new URLSearchParams(), body: undefined, headers: {} });
    const token = (created.body as { path: string }).path.slice('/hooks/'.length);
    const stopping = new AbortController();
    stopping.abort();
    const res = await routes
      .find((r) => r.method === 'POST' && r.path === '/hooks/:token')!
      .handle({ tenantId: '', params: { token }, query: new URLSearchParams(), body: {}, headers: {}, signal: stopping.signal });
    assert.deepEqual(res, { status: 202, body: { enrollmentId: 'enr-1', status: 'running' } });
    assert.equal(polls, 0, 'the stopping gateway did not wait for the workflow');
    await store.close();
  });

  it('reads the history of the enrollment it has just started only once that changed, when changes are pushed in-process', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await ensureHookCollection(store);
    const hub = createHistoryChangesHub();
    const reads: string[] = [];
    const versions: number[] = [];
    const clients = {
      workflows: {
        getWorkflow: async (req: { version: number }) => (versions.push(req.version), { actions: [{ runtime: 'jsworkflows' }] }),
      },
      enrollments: { enroll: async () => ({ enrollmentId: 'enr-1', workflowVersion: 3 }) },
      history: {
        getEnrollment: async () => {
          reads.push('read');
          return { status: 'running', workflowVersion: 3, executions: [{ stepIndex: 0, stepName: 'start', status: 'succeeded', returnValueJson: '{"n":2}' }] };
        },
      },
      changes: hub,
    } as unknown as ApiClients;
    const limitsOf = (async () => ({ policy: {} })) as unknown as TenantLimitsOf;
    const routes = hookRoutes(clients, { store, clock: () => 1_000, limitsOf, waitMs: 60_000 });
    const created = await routes.find((r) => r.path === '/v1/workflows/:id/webhook')!.handle({ tenantId: 't', params: { id: 'wf-1' }, query: new URLSearchParams(), body: undefined, headers: {} });
    const token = (created.body as { path: string }).path.slice('/hooks/'.length);
    const answer = routes.find((r) => r.method === 'POST' && r.path === '/hooks/:token')!.handle({ tenantId: '', params: { token }, query: new URLSearchParams(), body: {}, headers: {} });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(reads, [], 'nothing read while the run has not changed');
    assert.deepEqual(versions, [0, 3], "the version's last action was looked up meanwhile");
    hub.publish([{ tenantId: 't', runId: 'enr-1', type: 'ActionSucceeded' }]);
    const res = await answer;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { n: 2 });
    assert.deepEqual(reads, ['read'], 'read once, when it changed');
    await store.close();
  });
});
