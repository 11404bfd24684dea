/**
 * Query parameters of the public API reach the gRPC services only within what their fields hold:
 * a limit or version that is negative, too large, fractional or not a number, and a status that
 * is not one of the enrollment statuses, are a 400 naming the parameter (a negative limit used to
 * reach the uint32 encoder and come back as a 500 saying "invalid uint32").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCodestepError } from '@codestep/core';
import { apiRoutes, workflowView, type ApiClients } from './api.routes.ts';
import type { Route, RouteRequest } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

function fixture() {
  const calls: Array<Record<string, unknown>> = [];
  const clients = {
    history: {
      listEnrollments: async (req: Record<string, unknown>) => (calls.push(req), { enrollments: [], more: false }),
    },
    workflows: {
      getWorkflow: async (req: Record<string, unknown>) => (calls.push(req), { workflowId: 'wf-1', version: 1, name: 'n', objectType: 'CONTACT', createdAt: 1, actions: [] }),
      createWorkflow: async (req: Record<string, unknown>) => (calls.push(req), { workflowId: 'wf-1', version: 1, name: 'n', objectType: 'CONTACT', createdAt: 1, actions: req.actions }),
      getWorkflowState: async () => ({ workflowId: 'wf-1', status: 'enabled', sequence: 0, changedAt: 0, headVersion: 1 }),
    },
  } as unknown as ApiClients;
  const routes = apiRoutes(clients, (async () => ({ bounds: undefined, policy: undefined })) as unknown as TenantLimitsOf);
  const route = (method: Route['method'], path: string) => routes.find((r) => r.method === method && r.path === path)!;
  const request = (query: string, params: Record<string, string> = {}): RouteRequest => ({ tenantId: 't-1', params, query: new URLSearchParams(query), body: undefined, headers: {} });
  return {
    calls,
    list: (query: string) => route('GET', '/v1/enrollments').handle(request(query)),
    getWorkflow: (query: string) => route('GET', '/v1/workflows/:id').handle(request(query, { id: 'wf-1' })),
    createWorkflow: (body: unknown) => route('POST', '/v1/workflows').handle({ ...request(''), body }),
  };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isCodestepError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  assert.fail('the request was accepted');
}

describe('query parameters of the API routes', () => {
  it('refuses a limit that is negative, zero, too large, fractional or not a number with 400 naming "limit"', async () => {
    const f = fixture();
    for (const limit of ['-1', '0', '5001', '4294967296', '1.5', 'ten', '', '1e3', '0x10']) {
      const r = await refusal(f.list(`limit=${encodeURIComponent(limit)}`));
      assert.equal(r.code, 'INVALID_ARGUMENT', limit);
      assert.match(r.message, /query parameter "limit" must be an integer from 1 to 5000/, limit);
    }
    assert.deepEqual(f.calls, [], 'nothing reached the history service');
  });

  it('passes a limit within range, and 50 when none is given', async () => {
    const f = fixture();
    await f.list('limit=5000');
    await f.list('');
    assert.deepEqual(
      f.calls.map((c) => c.limit),
      [5000, 50],
    );
  });

  it('refuses a status that is not an enrollment status with 400 naming "status" and the values', async () => {
    const f = fixture();
    const r = await refusal(f.list('status=done'));
    assert.equal(r.code, 'INVALID_ARGUMENT');
    assert.match(r.message, /query parameter "status" must be one of running, completed, failed/);
    await f.list('status=failed');
    assert.equal(f.calls[0]?.status, 'failed');
  });

  it('passes the object id and the time range as UNIX ms, and refuses a time that is not ISO 8601 with its zone, or a range that holds nothing', async () => {
    const f = fixture();
    await f.list('objectId=901&startedAfter=2026-12-01T00:00:00Z&startedBefore=2026-12-01T01:00:00.500%2B01:00');
    assert.deepEqual([f.calls[0]?.objectId, f.calls[0]?.startedAfter, f.calls[0]?.startedBefore], ['901', Date.parse('2026-12-01T00:00:00Z'), Date.parse('2026-12-01T00:00:00.500Z')]);
    await f.list('');
    assert.deepEqual([f.calls[1]?.objectId, f.calls[1]?.startedAfter, f.calls[1]?.startedBefore], ['', 0, 0]);
    for (const [query, message] of [
      ['startedAfter=yesterday', /query parameter "startedAfter" must be an ISO 8601 time with its zone/],
      ['startedBefore=2026-12-01', /query parameter "startedBefore" must be an ISO 8601 time/],
      ['startedBefore=2026-12-01T10:00:00', /"startedBefore" must be an ISO 8601 time with its zone/],
      ['startedAfter=2026-13-45T10:00:00Z', /"startedAfter" must be an ISO 8601 time/],
      ['startedAfter=2026-12-02T00:00:00Z&startedBefore=2026-12-01T00:00:00Z', /"startedAfter" must be before "startedBefore"/],
      [`objectId=${'9'.repeat(201)}`, /"objectId" must be at most 200 characters/],
    ] as const) {
      const r = await refusal(f.list(query));
      assert.equal(r.code, 'INVALID_ARGUMENT', query);
      assert.match(r.message, message, query);
    }
    assert.equal(f.calls.length, 2, 'nothing refused reached the history service');
  });

  it('passes the cursor as the last enrollment of the previous page, and refuses one it did not hand out with 400 naming "cursor"', async () => {
    const f = fixture();
    const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    await f.list(`status=failed&cursor=${cursor([1_765_000_000_000, 'enr_9'])}`);
    await f.list('');
    assert.deepEqual(
      f.calls.map((c) => [c.status, c.afterStartedAt, c.afterEnrollmentId]),
      [
        ['failed', 1_765_000_000_000, 'enr_9'],
        ['', 0, ''],
      ],
    );
    for (const bad of ['not-a-cursor', cursor(['enr_9']), cursor(['x', 'enr_9']), cursor([1.5, 'enr_9']), cursor([-1, 'enr_9']), cursor([1, ''])]) {
      const r = await refusal(f.list(`cursor=${bad}`));
      assert.equal(r.code, 'INVALID_ARGUMENT', bad);
      assert.match(r.message, /query parameter "cursor" is not a cursor/, bad);
    }
    assert.equal(f.calls.length, 2, 'nothing refused reached the history service');
  });

  it('refuses a workflow version that is negative or not an integer, and reads the latest without one', async () => {
    const f = fixture();
    for (const version of ['-1', 'latest', '2.5', '4294967296']) {
      const r = await refusal(f.getWorkflow(`version=${version}`));
      assert.equal(r.code, 'INVALID_ARGUMENT', version);
      assert.match(r.message, /query parameter "version"/);
    }
    await f.getWorkflow('');
    await f.getWorkflow('version=3');
    assert.deepEqual(
      f.calls.map((c) => c.version),
      [0, 3],
    );
  });
});

describe('runtime versions of the workflow routes', () => {
  const code = 'exports.main = async () => ({})';
  it('refuses an unknown runtimeVersion with 400 naming the field and the allowed values, before reaching the workflows service', async () => {
    const f = fixture();
    const r = await refusal(f.createWorkflow({ name: 'w', actions: [{ id: 'a', code, runtimeVersion: 'node16' }] }));
    assert.equal(r.code, 'INVALID_ARGUMENT');
    assert.match(r.message, /^actions\[0\]\.runtimeVersion: "node16" is not a runtime version; use one of node20, node24, latest/);
    assert.deepEqual(f.calls, []);
  });

  it("saves node20 (HubSpot's documented set) for an action that chooses none, and node24 for latest", async () => {
    const f = fixture();
    await f.createWorkflow({
      name: 'w',
      actions: [
        { id: 'a', code },
        { id: 'b', code, runtimeVersion: 'latest' },
      ],
    });
    assert.deepEqual(
      (f.calls[0]?.actions as Array<{ runtimeVersion: string }>).map((a) => a.runtimeVersion),
      ['node20', 'node24'],
    );
  });

  it('shows an action saved before runtime versions existed with the version it runs, node24', () => {
    const action = { actionId: 'a', name: 'a', runtime: 'hubspot', code, inputFields: [], outputFields: [], secretNames: [], timeoutMs: 0, memoryMb: 0, connectionHandles: [] };
    const view = workflowView({
      workflowId: 'wf-1',
      version: 1,
      name: 'n',
      objectType: 'CONTACT',
      createdAt: 1,
      actions: [
        { ...action, runtimeVersion: '' },
        { ...action, runtimeVersion: 'node20' },
      ],
    });
    assert.deepEqual(
      (view.actions as Array<{ runtimeVersion: string }>).map((a) => a.runtimeVersion),
      ['node24', 'node20'],
    );
  });
});
