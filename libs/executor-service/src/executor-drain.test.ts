/**
 * The executor drains on stop(), over the embedded adapters: an execution in flight finishes and
 * its real result is committed; requests not started yet are delivered again, not lost; an
 * execution still running at the drain timeout is handed back (claim released, request appended
 * again) and runs again as the same attempt elsewhere, never reported as the action's failure.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { silentLogger } from '@codestep/core';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { Topics, fieldMapToPlain, fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { ExecutionRequest, ExecutionResult, Sandbox } from '@codestep/sandbox';
import { SqliteStore } from '@codestep/store-sqlite';
import { parseWorkflowInput, startEnrollment } from '@codestep/workflows';
import { createExecutorService, type ExecutorService } from './executor.service.ts';

const input = parseWorkflowInput({ name: 'one', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: { n: 1 } })', outputFields: [{ name: 'n', type: 'number' }] }] });
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };

/**
 * A sandbox whose executions take `ms` and answer n = 42, like a slow action; once closed, the
 * executions still running fail as the real sandbox's do (SANDBOX_CLOSED, retryable).
 */
function slowSandbox(ms: number): Sandbox & { runs: string[]; started: Promise<void> } {
  const started = Promise.withResolvers<void>();
  const running = new Set<() => void>();
  let closed = false;
  const s = {
    runs: [] as string[],
    started: started.promise,
    async execute(request: ExecutionRequest): Promise<ExecutionResult> {
      s.runs.push(request.executionId);
      started.resolve();
      const outcome = await new Promise<'done' | 'closed'>((resolve) => {
        const timer = setTimeout(() => resolve('done'), ms);
        const onClose = () => (clearTimeout(timer), resolve('closed'));
        running.add(onClose);
      });
      if (outcome === 'closed' || closed)
        return { status: 'failed', outputFields: {}, logs: [], logsTruncated: false, error: { code: 'SANDBOX_CLOSED', message: 'closed', retryable: true }, durationMs: ms };
      return { status: 'succeeded', outputFields: { n: 42 }, logs: [], logsTruncated: false, error: null, durationMs: ms };
    },
    async close() {
      closed = true;
      for (const f of running) f();
    },
  };
  return s;
}

interface Harness {
  log: SqliteEventLog;
  store: SqliteStore;
  start(sandbox: Sandbox, options?: { concurrency?: number; drainTimeoutMs?: number }): Promise<ExecutorService>;
  request(enrollmentId: string): Envelope;
  results(): Promise<Envelope[]>;
  until(what: string, f: () => Promise<boolean>): Promise<void>;
  close(): Promise<void>;
}

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-drain-'));
  const log = new SqliteEventLog({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  const store = new SqliteStore({ path: join(dir, 'executor.db') });
  const services: ExecutorService[] = [];
  return {
    log,
    store,
    async start(sandbox, options = {}) {
      const service = createExecutorService({
        eventLog: log,
        store,
        // A factory: the service owns the sandbox and closes it on stop, as in the apps.
        sandbox: async () => sandbox,
        clock: Date.now,
        logger: silentLogger,
        executorId: `x${services.length}`,
        limits: { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 },
        ...options,
        ports: { getWorkflow: async () => wf, resolveSecrets: async () => ({ values: {}, missing: [] }), getOAuthToken: async () => ({ error: 'none' }) },
      });
      await service.start();
      services.push(service);
      return service;
    },
    request: (enrollmentId) => startEnrollment(wf, { tenantId: 't1', enrollmentId, object: { objectType: 'CONTACT', objectId: '1', properties: {} }, portalId: 0 }, Date.now())[1]!,
    async results() {
      const out: Envelope[] = [];
      await log.readAll([Topics.actions], async (batch) => void out.push(...batch.map((r) => fromRecord(r.value)!)));
      return out.filter((e) => e.event.$case === 'actionSucceeded' || e.event.$case === 'actionFailed');
    },
    async until(what, f) {
      for (let i = 0; i < 500 && !(await f()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(await f(), what);
    },
    async close() {
      for (const s of services) await s.stop();
      await log.close();
      await store.close();
    },
  };
}

const outputsOf = (e: Envelope) => (e.event.$case === 'actionSucceeded' ? fieldMapToPlain(e.event.value.outputFields) : undefined);

describe('executor drain on stop', () => {
  it('given a slow action in flight when stop() is called, it completes with its real result, committed before stop() resolves', async () => {
    const t = await harness();
    const sandbox = slowSandbox(600);
    const service = await t.start(sandbox);
    await t.log.append([toRecord(t.request('enr1'))]);
    await sandbox.started;
    const stopAt = Date.now();
    await service.stop();
    assert.ok(Date.now() - stopAt >= 400, 'stop() waited for the running execution');
    const results = await t.results();
    assert.equal(results.length, 1);
    assert.equal(results[0]!.event.$case, 'actionSucceeded');
    assert.deepEqual(outputsOf(results[0]!), { n: 42 });
    // Committed: a new executor over the same log is not given the request again.
    const next = slowSandbox(10);
    await t.start(next);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(next.runs, []);
    assert.equal((await t.results()).length, 1);
    await t.close();
  });

  it('given requests of the batch not started yet, runs none of them and delivers them again to the next executor', async () => {
    const t = await harness();
    const first = slowSandbox(400);
    const service = await t.start(first, { concurrency: 1 });
    await t.log.append([toRecord(t.request('enr1')), toRecord(t.request('enr2'))]);
    await first.started;
    await service.stop();
    assert.equal(first.runs.length, 1, 'the second request was not started during the drain');
    assert.equal((await t.results()).length, 1, "the running one's result was committed at stop");
    const second = slowSandbox(10);
    await t.start(second);
    await t.until('both results', async () => (await t.results()).length === 2);
    assert.equal(second.runs.length, 1, 'the next executor ran only the request that never ran');
    assert.notEqual(second.runs[0], first.runs[0]);
    assert.deepEqual(
      (await t.results()).map((e) => e.event.$case),
      ['actionSucceeded', 'actionSucceeded'],
    );
    await t.close();
  });

  it('given an execution still running at the drain timeout, hands it back: no failure is reported and the next executor runs it again as the same attempt', async () => {
    const t = await harness();
    const stuck = slowSandbox(60_000);
    const service = await t.start(stuck, { drainTimeoutMs: 200 });
    const request = t.request('enr1');
    await t.log.append([toRecord(request)]);
    await stuck.started;
    const stopAt = Date.now();
    await service.stop();
    assert.ok(Date.now() - stopAt < 5_000, `stop() gave up after the drain timeout (took ${Date.now() - stopAt} ms)`);
    assert.deepEqual(await t.results(), [], 'no SANDBOX_CLOSED or EXECUTOR_LOST failure was reported');
    const next = slowSandbox(10);
    await t.start(next);
    await t.until('the result from the next executor', async () => (await t.results()).length === 1);
    const [result] = await t.results();
    assert.equal(result!.event.$case, 'actionSucceeded');
    assert.deepEqual(next.runs, stuck.runs, 'the same execution (same attempt) ran again');
    if (result!.event.$case === 'actionSucceeded') assert.equal(result!.event.value.context?.attempt, 1);
    await t.close();
  });
});
