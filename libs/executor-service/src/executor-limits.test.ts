/**
 * The executor runs each action with the limits its request states (resolved for the tenant when
 * the action was requested), falls back to the action's own or its defaults for requests that
 * state none, and never goes above its operator bounds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { silentLogger } from '@codestep/core';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { toRecord } from '@codestep/events';
import type { ExecutionLimits, ExecutionRequest, ExecutionResult, Sandbox } from '@codestep/sandbox';
import { SqliteStore } from '@codestep/store-sqlite';
import { parseWorkflowInput, resolveLimitPolicy, startEnrollment, type TenantLimitSettings } from '@codestep/workflows';
import { createExecutorService } from './executor.service.ts';

const OPERATOR = { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 };

function workflow(action: Record<string, unknown>): WorkflowDefinition {
  const input = parseWorkflowInput({ name: 'one', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} })', ...action }] });
  return { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };
}

/** Runs one request through a real executor over the embedded adapters; returns the limits the sandbox was given. */
async function limitsOfOneRun(wf: WorkflowDefinition, tenant: TenantLimitSettings | undefined, executorBounds = OPERATOR): Promise<ExecutionLimits | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-exec-limits-'));
  const log = new SqliteEventLog({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  const store = new SqliteStore({ path: join(dir, 'executor.db') });
  const seen = Promise.withResolvers<ExecutionLimits | undefined>();
  const sandbox: Sandbox = {
    async execute(request: ExecutionRequest): Promise<ExecutionResult> {
      seen.resolve(request.limits);
      return { status: 'succeeded', outputFields: {}, logs: [], logsTruncated: false, error: null, durationMs: 1 };
    },
    async close() {},
  };
  const service = createExecutorService({
    eventLog: log,
    store,
    sandbox,
    clock: Date.now,
    logger: silentLogger,
    executorId: 'test',
    limits: executorBounds,
    ports: { getWorkflow: async () => wf, resolveSecrets: async () => ({ values: {}, missing: [] }), getOAuthToken: async () => ({ error: 'none' }) },
  });
  await service.start();
  const limits = tenant ? resolveLimitPolicy(tenant, OPERATOR) : undefined;
  const request = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr1', object: { objectType: 'CONTACT', objectId: '1', properties: {} }, portalId: 0, limits }, Date.now())[1]!;
  await log.append([toRecord(request)]);
  try {
    return await seen.promise;
  } finally {
    await service.stop();
    await log.close();
    await store.close();
  }
}

describe('executor limits', () => {
  it("given a request from a tenant with a 300 ms default, runs the action with 300 ms and the operator's memory", async () => {
    assert.deepEqual(await limitsOfOneRun(workflow({}), { defaultTimeoutMs: 300 }), { timeoutMs: 300, memoryMb: 128 });
  });

  it("given an action with its own limits within the tenant's ceiling, runs it with them", async () => {
    assert.deepEqual(await limitsOfOneRun(workflow({ timeoutMs: 2_000, memoryMb: 64 }), { defaultTimeoutMs: 300, maxTimeoutMs: 5_000 }), { timeoutMs: 2_000, memoryMb: 64 });
  });

  it('given a request that states no limits (written before they were carried), falls back to the action and the executor defaults', async () => {
    assert.deepEqual(await limitsOfOneRun(workflow({ timeoutMs: 2_000 }), undefined), { timeoutMs: 2_000, memoryMb: 128 });
  });

  it('given a request stating more than this executor allows, clamps to its operator bounds', async () => {
    assert.deepEqual(await limitsOfOneRun(workflow({ timeoutMs: 50_000 }), {}, { ...OPERATOR, maxTimeoutMs: 10_000 }), { timeoutMs: 10_000, memoryMb: 128 });
  });
});
