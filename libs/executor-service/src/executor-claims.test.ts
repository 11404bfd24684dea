/**
 * The executor's claims over the embedded adapters: a redelivered request never runs the action
 * again but produces its result again (the claim is the outbox), a running action's claim is
 * renewed past its lease, a claim left by an executor that died is reported as a retryable
 * EXECUTOR_LOST, and a retry runs from the retry lane (its copy in the actions topic skipped).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ActionRequested, WorkflowDefinition } from '@codestep/contracts';
import { silentLogger } from '@codestep/core';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { RETRY_LANE_HEADER, Topics, envelope, fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { ExecutionResult, Sandbox } from '@codestep/sandbox';
import { SqliteStore } from '@codestep/store-sqlite';
import { parseWorkflowInput, startEnrollment } from '@codestep/workflows';
import { ClaimHeld, createClaimStore } from './claim.store.ts';
import { createExecutorService } from './executor.service.ts';

const input = parseWorkflowInput({ name: 'one', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: { n: 1 } })', outputFields: [{ name: 'n', type: 'number' }] }] });
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };

/** Counts runs; answers like the real sandbox would for the action above. */
function countingSandbox(): Sandbox & { runs: number } {
  const s = {
    runs: 0,
    async execute(): Promise<ExecutionResult> {
      s.runs++;
      return { status: 'succeeded', outputFields: { n: 1 }, logs: [], logsTruncated: false, error: null, durationMs: 1 };
    },
    async close() {},
  };
  return s;
}

/** Like {@link countingSandbox}, but each run waits until `release()` is called. */
function heldSandbox(): Sandbox & { runs: number; release(): void } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const s = {
    runs: 0,
    release: () => release(),
    async execute(): Promise<ExecutionResult> {
      s.runs++;
      await held;
      return { status: 'succeeded', outputFields: { n: 1 }, logs: [], logsTruncated: false, error: null, durationMs: 1 };
    },
    async close() {},
  };
  return s;
}

async function setup(claimLeaseMs = 60_000, reuse?: { store?: SqliteStore; sandbox?: Sandbox & { runs: number }; getWorkflow?: () => Promise<WorkflowDefinition> }) {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-exec-'));
  const log = new SqliteEventLog({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  const store = reuse?.store ?? new SqliteStore({ path: join(dir, 'executor.db') });
  const sandbox = reuse?.sandbox ?? countingSandbox();
  const service = createExecutorService({
    eventLog: log,
    store,
    sandbox,
    clock: Date.now,
    logger: silentLogger,
    executorId: 'test',
    claimLeaseMs,
    limits: { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 },
    ports: {
      getWorkflow: reuse?.getWorkflow ?? (async () => wf),
      resolveSecrets: async () => ({ values: {}, missing: [] }),
      getOAuthToken: async () => ({ error: 'none' }),
    },
  });
  await service.start();
  const request = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr1', object: { objectType: 'CONTACT', objectId: '1', properties: {} }, portalId: 0 }, Date.now())[1]!;
  const results = async (): Promise<Envelope[]> => {
    const out: Envelope[] = [];
    await log.readAll([Topics.actions], async (batch) => void out.push(...batch.map((r) => fromRecord(r.value)!)));
    return out.filter((e) => e.event.$case === 'actionSucceeded' || e.event.$case === 'actionFailed');
  };
  const until = async (what: string, f: () => Promise<boolean>) => {
    for (let i = 0; i < 500 && !(await f()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(await f(), what);
  };
  return { log, store, sandbox, service, request, results, until, close: async (keepStore = false) => (await service.stop(), await log.close(), keepStore || (await store.close())) };
}

describe('executor claims', () => {
  it('given a request delivered twice, runs the action once and its result lands once', async () => {
    const t = await setup();
    const { id: _drop, ...withoutId } = toRecord(t.request);
    await t.log.append([withoutId]); // no record id: the log keeps both copies, as Kafka would
    await t.until('the first result', async () => (await t.results()).length === 1);
    await t.log.append([withoutId]);
    await new Promise((r) => setTimeout(r, 300));
    const results = await t.results();
    assert.equal(t.sandbox.runs, 1);
    assert.equal(results.length, 1, 'the re-produced result has the same event id and is dropped');
    assert.equal(results[0]!.event.$case, 'actionSucceeded');
    await t.close();
  });

  it("given a retry's request as the retry timers append it (to the retry lane, and marked to the actions topic), runs it once, from the lane, its result in the actions topic", async () => {
    const t = await setup();
    const first = t.request.event.value as ActionRequested;
    const retry: Envelope = {
      ...t.request,
      eventId: 'evt_retry',
      aggregateId: 'exe_retry',
      event: { $case: 'actionRequested', value: { ...first, executionId: 'exe_retry', context: { ...first.context!, attempt: 2 } } },
    };
    const record = toRecord(retry);
    // The actions topic's copy only: executors leave it to the lane's, so nothing runs.
    await t.log.append([{ ...record, headers: { ...record.headers, [RETRY_LANE_HEADER]: 'retries' } }]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.sandbox.runs, 0, 'the marked copy in the actions topic is not run');
    await t.log.append([{ ...record, topic: Topics.actionRetries }]);
    await t.until('the retry ran from the lane', async () => (await t.results()).length === 1);
    await new Promise((r) => setTimeout(r, 300));
    const [result] = await t.results();
    assert.equal(t.sandbox.runs, 1);
    assert.equal(result!.event.$case, 'actionSucceeded');
    assert.equal((result!.event.value as { executionId: string }).executionId, 'exe_retry');
    await t.close();
  });

  it('given a claim left by an executor that died, reports the execution lost and retryable without running it', async () => {
    const t = await setup(1_000);
    const executionId = (t.request.event.value as { executionId: string }).executionId;
    await t.store.ensureCollection('execution_claims', []);
    await t.store.insertIfAbsent('execution_claims', executionId, { executorId: 'dead', claimedAt: Date.now() - 5_000 });
    await t.log.append([toRecord(t.request)]);
    await t.until('the lost report', async () => (await t.results()).length === 1);
    const [lost] = await t.results();
    assert.equal(lost!.event.$case, 'actionFailed');
    if (lost!.event.$case !== 'actionFailed') return;
    assert.equal(lost!.event.value.error?.code, 'EXECUTOR_LOST');
    assert.equal(lost!.event.value.error?.retryable, true);
    assert.equal(t.sandbox.runs, 0);
    await t.close();
  });

  it('given an action running for several leases, renews its claim: another executor looking at it waits instead of reporting it lost', async () => {
    const sandbox = heldSandbox();
    const t = await setup(1_000, { sandbox });
    try {
      const executionId = (t.request.event.value as { executionId: string }).executionId;
      await t.log.append([toRecord(t.request)]);
      await t.until('the run to start', async () => sandbox.runs === 1);
      await new Promise((r) => setTimeout(r, 2_500));
      const other = createClaimStore({ store: t.store, clock: Date.now, logger: silentLogger, executorId: 'other', leaseMs: 1_000 });
      await assert.rejects(
        other.outcomeOfClaimed(executionId, null, () => []),
        (e: unknown) => e instanceof ClaimHeld,
      );
      sandbox.release();
      await t.until('the result', async () => (await t.results()).length === 1);
      assert.equal((await t.results())[0]!.event.$case, 'actionSucceeded');
    } finally {
      sandbox.release();
      await t.close();
    }
  });

  it('given an executor that finished but died before its results were committed, a redelivery produces them without running again', async () => {
    const first = await setup();
    await first.log.append([toRecord(first.request)]);
    await first.until('the result', async () => (await first.results()).length === 1);
    await first.close(true);
    // The same claims, a log that never received the results (the lost commit).
    const second = await setup(60_000, { store: first.store, sandbox: first.sandbox });
    await second.log.append([toRecord(second.request)]);
    await second.until('the result again', async () => (await second.results()).length === 1);
    assert.equal(first.sandbox.runs, 1);
    assert.equal((await second.results())[0]!.event.$case, 'actionSucceeded');
    await second.close();
  });

  it('given a run that finishes after another executor reported it lost, produces the lost outcome, never a second, different result', async () => {
    const sandbox = heldSandbox();
    const t = await setup(60_000, { sandbox });
    try {
      const executionId = (t.request.event.value as { executionId: string }).executionId;
      await t.log.append([toRecord(t.request)]);
      await t.until('the run to start', async () => sandbox.runs === 1);
      // What another executor does when this one looks dead (stalled past the claim TTL): it
      // records "lost" over the claim version it saw and produces that outcome.
      const claim = await t.store.get<{ executorId: string }>('execution_claims', executionId);
      assert.ok(claim && !('done' in claim.doc), 'the run holds an open claim');
      const req = t.request.event.value as ActionRequested;
      const lostEvent = envelope(
        { eventId: 'lost-event', tenantId: 't1', aggregateId: executionId, occurredAt: Date.now(), correlationId: 'enr1' },
        {
          $case: 'actionFailed',
          value: { executionId, context: req.context, error: { code: 'EXECUTOR_LOST', message: 'lost', retryable: true, retryAfterMs: 0 }, durationMs: 0, continueEnrollment: false, outputFields: {} },
        },
      );
      const r = toRecord(lostEvent);
      const lostRecord = { topic: r.topic, key: r.key, value: Buffer.from(r.value).toString('base64'), headers: r.headers, ...(r.id ? { id: r.id } : {}) };
      assert.equal(await t.store.compareAndSet('execution_claims', executionId, claim.version, { executorId: 'other', claimedAt: Date.now(), done: true, records: [lostRecord] }), true);
      sandbox.release();
      await t.until('the stalled run to produce an outcome', async () => (await t.results()).length === 1);
      await new Promise((r) => setTimeout(r, 300));
      const results = await t.results();
      assert.equal(results.length, 1, 'one outcome, not the lost one and a late success');
      assert.equal(results[0]!.event.$case, 'actionFailed');
      if (results[0]!.event.$case === 'actionFailed') assert.equal(results[0]!.event.value.error?.code, 'EXECUTOR_LOST');
      assert.equal(sandbox.runs, 1);
      const stored = await t.store.get<{ executorId: string }>('execution_claims', executionId);
      assert.equal(stored!.doc.executorId, 'other', 'the recorded outcome stands');
    } finally {
      sandbox.release(); // a failed assertion must not leave the run, and the test, hanging
      await t.close();
    }
  });

  it('asks for a workflow version once, however many of its executions run, and again after a failed lookup', async () => {
    let lookups = 0;
    let failNext = true;
    const t = await setup(60_000, {
      getWorkflow: async () => {
        lookups++;
        if (failNext) {
          failNext = false;
          throw new Error('no such workflow version');
        }
        return wf;
      },
    });
    try {
      const requests = ['e1', 'e2', 'e3'].map(
        (enrollmentId) => startEnrollment(wf, { tenantId: 't1', enrollmentId, object: { objectType: 'CONTACT', objectId: enrollmentId, properties: {} }, portalId: 0 }, Date.now())[1]!,
      );
      await t.log.append([toRecord(requests[0]!)]);
      await t.until('the first result', async () => (await t.results()).length === 1);
      const [first] = await t.results();
      assert.equal(first!.event.$case, 'actionFailed', 'the failed lookup fails that execution');
      await t.log.append(requests.slice(1).map((r) => toRecord(r)));
      await t.until('two more results', async () => (await t.results()).length === 3);
      assert.deepEqual(
        (await t.results()).slice(1).map((r) => r.event.$case),
        ['actionSucceeded', 'actionSucceeded'],
      );
      assert.equal(lookups, 2, 'one failed lookup, then one for both later executions');
    } finally {
      await t.close();
    }
  });
  it('given a long action, the requests behind it in its partition run meanwhile; its result lands once it ends, appended by the run itself', async () => {
    // The first run is held; every later one answers at once.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sandbox = {
      runs: 0,
      async execute(): Promise<ExecutionResult> {
        if (sandbox.runs++ === 0) await held;
        return { status: 'succeeded' as const, outputFields: { n: 1 }, logs: [], logsTruncated: false, error: null, durationMs: 1 };
      },
      async close() {},
    };
    const t = await setup(60_000, { sandbox });
    const long = (t.request.event.value as { executionId: string }).executionId;
    await t.log.append([toRecord(t.request)]);
    await t.until('the long action started', async () => sandbox.runs === 1);
    const behind = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr2', object: { objectType: 'CONTACT', objectId: '2', properties: {} }, portalId: 0 }, Date.now())[1]!;
    await t.log.append([toRecord(behind)]);
    await t.until('the request behind it completed while it runs', async () => (await t.results()).length === 1);
    assert.equal((await t.results())[0]!.aggregateId, (behind.event.value as { executionId: string }).executionId);
    release();
    await t.until("the long action's result", async () => (await t.results()).length === 2);
    await t.until(
      'its claim marked appended',
      async () => (await createClaimStore({ store: t.store, clock: Date.now, logger: silentLogger, executorId: 'reader', leaseMs: 60_000 }).get(long))?.doc.unpublished === undefined,
    );
    assert.equal(sandbox.runs, 2);
    await t.close();
  });
});
