/**
 * One action request through the runner, over the SQLite log and store in memory: a peer that is
 * down takes no claim and spends no attempt (the request comes again); a run is claimed, reported
 * started at once, and its result recorded on its claim; a request it cannot prepare fails without
 * running; a retry runs from the retry lane (its events in its key's partition of the actions
 * topic) and its copy in the actions topic is skipped; a lost execution names a partition of the
 * lane for its retry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { CodestepError, silentLogger } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord } from '@codestep/event-log';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { RETRY_LANE_HEADER, Topics, fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { ExecutionResult, Sandbox } from '@codestep/sandbox';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { parseWorkflowInput, startEnrollment } from '@codestep/workflows';
import { HELD_CLAIM_WAIT_MS, createActionRequestRunner } from './action-request.runner.ts';
import { CLAIMS, createClaimStore, type ClaimDoc } from './claim.store.ts';
import { DrainController, Requeue } from './drain.controller.ts';
import { createExecutionPreparer } from './execution.preparer.ts';
import { createSandboxRunner } from './sandbox.runner.ts';

const OPERATOR = { defaultTimeoutMs: 20_000, defaultMemoryMb: 128, maxTimeoutMs: 60_000, maxMemoryMb: 512 };
const input = parseWorkflowInput({ name: 'one', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} })' }] });
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };

/** A runner over fresh in-memory adapters; `getWorkflow` and `resolveSecrets` as the test needs. */
async function setup(
  ports: {
    getWorkflow?: () => Promise<WorkflowDefinition>;
    resolveSecrets?: () => Promise<{ values: Record<string, string>; missing: string[] }>;
    leaseMs?: number;
    failAppends?: boolean;
    /** Whether the store's next compare-and-set throws (the store away). */
    storeAway?: () => boolean;
    /** Called as each action runs. */
    onRun?: () => void;
  } = {},
) {
  const leaseMs = ports.leaseMs ?? 60_000;
  const log = new SqliteEventLog({ path: ':memory:' });
  const sqlite = new SqliteStore({ path: ':memory:' });
  const store: DocumentStore = Object.assign(Object.create(sqlite) as SqliteStore, {
    compareAndSet: async <T>(collection: string, id: string, expectedVersion: number, doc: T) => {
      if (ports.storeAway?.()) throw new Error('the store is away');
      return sqlite.compareAndSet(collection, id, expectedVersion, doc);
    },
  });
  const claims = createClaimStore({ store, clock: Date.now, logger: silentLogger, executorId: 'x1', leaseMs });
  await claims.ensureCollection();
  const runs: string[] = [];
  const sandbox: Sandbox = {
    execute: async (r): Promise<ExecutionResult> => (runs.push(r.executionId), ports.onRun?.(), { status: 'succeeded', outputFields: {}, logs: [], logsTruncated: false, error: null, durationMs: 1 }),
    close: async () => {},
  };
  const prepare = createExecutionPreparer({
    getWorkflow: ports.getWorkflow ?? (async () => wf),
    resolveSecrets: ports.resolveSecrets ?? (async () => ({ values: {}, missing: [] })),
    limits: OPERATOR,
  });
  const drain = new DrainController({ logger: silentLogger, concurrency: 1, drainTimeoutMs: 1_000, releaseClaim: claims.release });
  // The log, remembering the records appended through it (the SQLite log keeps no partitions).
  const appendedRecords: LogRecord[] = [];
  const eventLog: EventLog = {
    ensureTopics: (t) => log.ensureTopics(t),
    append: async (records) => {
      if (ports.failAppends) throw new Error('the log refused the append');
      appendedRecords.push(...records);
      return log.append(records);
    },
    consume: (o) => log.consume(o),
    readAll: (t, h) => log.readAll(t, h),
    close: () => log.close(),
  };
  const runOne = createActionRequestRunner({
    eventLog,
    claims,
    drain,
    prepare,
    runner: createSandboxRunner({ getOAuthToken: async () => ({}) }),
    sandbox: () => sandbox,
    clock: Date.now,
    logger: silentLogger,
    executorId: 'x1',
    leaseMs,
    holdMs: 120_000,
    // The retry lane's partitions this executor consumes: 7 for every execution.
    lanePartitionFor: () => 7,
  });
  const [started, request] = startEnrollment(wf, { tenantId: 't1', enrollmentId: 'enr1', object: { objectType: 'CONTACT', objectId: '1', properties: {} }, portalId: 0 }, Date.now()) as [
    Envelope,
    Envelope,
  ];
  const executionId = (request.event.value as { executionId: string }).executionId;
  const consumed = (e: Envelope): ConsumedRecord => ({ ...toRecord(e), partition: 0, offset: 0 });
  const appended = async (): Promise<string[]> => {
    const out: string[] = [];
    await log.readAll([Topics.actions], async (batch) => void out.push(...batch.map((r) => fromRecord(r.value)!.event.$case)));
    return out;
  };
  return { runOne, store, claims, runs, started, request, executionId, consumed, appended, appendedRecords, close: async () => (await log.close(), await sqlite.close()) };
}

describe('action request runner', () => {
  it('given a record that is not an action request, produces nothing and claims nothing', async () => {
    const t = await setup();
    assert.equal(t.started.event.$case, 'enrollmentStarted');
    assert.deepEqual(await t.runOne(t.consumed(t.started)), []);
    assert.equal(await t.claims.get(t.executionId), null);
    assert.deepEqual(t.runs, []);
    await t.close();
  });

  it('given a peer that is down, takes no claim, runs nothing and throws so the request is delivered again', async () => {
    let down = true;
    const t = await setup({ getWorkflow: async () => (down ? Promise.reject(new CodestepError('UNAVAILABLE', 'enrollment service down')) : wf) });
    await assert.rejects(t.runOne(t.consumed(t.request)), /enrollment service down/);
    assert.equal(await t.claims.get(t.executionId), null, 'no attempt spent');
    assert.deepEqual(await t.appended(), [], 'not even reported started');
    down = false;
    const records = await t.runOne(t.consumed(t.request));
    assert.deepEqual(
      records.map((r) => fromRecord(r.value)!.event.$case),
      ['actionSucceeded'],
      'the redelivery runs it',
    );
    assert.deepEqual(t.runs, [t.executionId]);
    await t.close();
  });

  it("given a request consumed from a partition, its execution's events go to that partition, and so does a redelivery's", async () => {
    const t = await setup();
    const fromPartition2 = { ...t.consumed(t.request), partition: 2 };
    const records = await t.runOne(fromPartition2);
    assert.deepEqual(
      records.map((r) => [fromRecord(r.value)!.event.$case, r.targetPartition]),
      [['actionSucceeded', 2]],
    );
    assert.deepEqual(
      t.appendedRecords.map((r) => [fromRecord(r.value)!.event.$case, r.targetPartition]),
      [['actionStarted', 2]],
    );
    assert.deepEqual(await t.runOne({ ...fromPartition2, offset: 9 }), records, 'produced again from the claim, partition included');
    await t.close();
  });

  it("given a retry's request in the actions topic marked as laned, skips it: no claim, no run, nothing produced", async () => {
    const t = await setup();
    const laned = { ...t.consumed(t.request), headers: { ...t.consumed(t.request).headers, [RETRY_LANE_HEADER]: 'retries' } };
    assert.deepEqual(await t.runOne(laned), []);
    assert.equal(await t.claims.get(t.executionId), null);
    assert.deepEqual(t.runs, []);
    assert.deepEqual(await t.appended(), []);
    await t.close();
  });

  it("given a request consumed from the retry lane, runs it with its execution's events in the actions topic by key (no partition of the lane's)", async () => {
    const t = await setup();
    const fromLane = { ...t.consumed(t.request), topic: Topics.actionRetries, partition: 2 };
    const records = await t.runOne(fromLane);
    assert.deepEqual(
      records.map((r) => [r.topic, fromRecord(r.value)!.event.$case, r.targetPartition]),
      [[Topics.actions, 'actionSucceeded', undefined]],
    );
    assert.deepEqual(
      t.appendedRecords.map((r) => [r.topic, fromRecord(r.value)!.event.$case, r.targetPartition]),
      [[Topics.actions, 'actionStarted', undefined]],
    );
    assert.deepEqual(t.runs, [t.executionId]);
    await t.close();
  });

  it('given a request whose executor died, found in the actions topic or in the retry lane, names a partition of the lane this executor consumes for the retry', async () => {
    for (const [topic, expected] of [
      [Topics.actions, 7],
      [Topics.actionRetries, 2],
    ] as const) {
      const t = await setup({ leaseMs: 200 });
      const renewedAt = Date.now() - 1_000;
      await t.store.insertIfAbsent<ClaimDoc>(CLAIMS, t.executionId, { executorId: 'dead', claimedAt: renewedAt, renewedAt, token: 'dead/1' });
      const [lost] = await t.runOne({ ...t.consumed(t.request), topic, partition: 2 });
      const event = fromRecord(lost!.value)!.event;
      assert.ok(event.$case === 'actionFailed');
      assert.equal(event.value.error?.code, 'EXECUTOR_LOST');
      assert.equal(event.value.retryLanePartition, expected, `consumed from ${topic}`);
      assert.equal(event.value.retryPartition, undefined, 'the actions topic is no longer named for the retry');
      assert.equal(lost!.targetPartition, topic === Topics.actions ? 2 : undefined, "in the partition of the request's copy in the actions topic");
      await t.close();
    }
  });

  it('given a request, claims it, reports it started at once, and records the result on the claim for the batch to commit', async () => {
    const t = await setup();
    const records = await t.runOne(t.consumed(t.request));
    assert.deepEqual(await t.appended(), ['actionStarted'], 'started is appended at once, the result goes with the batch');
    assert.deepEqual(
      records.map((r) => fromRecord(r.value)!.event.$case),
      ['actionSucceeded'],
    );
    const claim = await t.claims.get(t.executionId);
    assert.equal(claim?.doc.done, true);
    assert.equal(claim?.doc.records?.length, 1);
    assert.deepEqual(await t.runOne(t.consumed(t.request)), records, 'a redelivery produces the same records');
    assert.equal(t.runs.length, 1);
    await t.close();
  });

  it('given a started report whose append fails, runs the action all the same and commits the report with the result, first', async () => {
    const t = await setup({ failAppends: true });
    const records = await t.runOne(t.consumed(t.request));
    assert.deepEqual(t.runs, [t.executionId], 'the run did not wait for the append');
    assert.deepEqual(
      records.map((r) => fromRecord(r.value)!.event.$case),
      ['actionStarted', 'actionSucceeded'],
    );
    assert.deepEqual(await t.runOne(t.consumed(t.request)), records, 'recorded on the claim: a redelivery produces both again');
    assert.equal(t.runs.length, 1);
    await t.close();
  });

  it('given a request whose secrets do not exist, reports it started and failed without running it', async () => {
    const withSecret: WorkflowDefinition = { ...wf, actions: [{ ...wf.actions[0]!, secretNames: ['KEY'] }] };
    const t = await setup({ getWorkflow: async () => withSecret, resolveSecrets: async () => ({ values: {}, missing: ['KEY'] }) });
    const [failed] = await t.runOne(t.consumed(t.request));
    const event = fromRecord(failed!.value)!.event;
    assert.ok(event.$case === 'actionFailed');
    assert.equal(event.value.error?.code, 'SECRET_NOT_FOUND');
    assert.deepEqual(await t.appended(), ['actionStarted']);
    assert.deepEqual(t.runs, []);
    await t.close();
  });

  it('given a request claimed by another run whose lease still runs, looks again briefly, then asks for it to be appended again without reporting anything', async () => {
    const t = await setup();
    await t.store.insertIfAbsent<ClaimDoc>(CLAIMS, t.executionId, { executorId: 'x2', claimedAt: Date.now(), renewedAt: Date.now(), token: 'x2/1' });
    const startedAt = Date.now();
    await assert.rejects(t.runOne(t.consumed(t.request)), (e: unknown) => e instanceof Requeue && /claimed by x2/.test(e.message));
    const waited = Date.now() - startedAt;
    assert.ok(waited >= HELD_CLAIM_WAIT_MS - 50 && waited < HELD_CLAIM_WAIT_MS + 1_000, `looked again for about ${HELD_CLAIM_WAIT_MS} ms (${waited} ms)`);
    assert.deepEqual(t.runs, []);
    assert.deepEqual(await t.appended(), []);
    assert.equal((await t.claims.get(t.executionId))?.doc.done, undefined, 'the claim is left to its run');
    await t.close();
  });

  it('given a request whose claim was renewed last by an executor that died, reports it lost as soon as the lease runs out', async () => {
    const t = await setup({ leaseMs: 1_000 });
    const renewedAt = Date.now() - 800;
    await t.store.insertIfAbsent<ClaimDoc>(CLAIMS, t.executionId, { executorId: 'dead', claimedAt: renewedAt - 30_000, renewedAt, token: 'dead/1' });
    const startedAt = Date.now();
    const records = await t.runOne(t.consumed(t.request));
    const waited = Date.now() - startedAt;
    const event = fromRecord(records[0]!.value)!.event;
    assert.ok(event.$case === 'actionFailed');
    assert.equal(event.value.error?.code, 'EXECUTOR_LOST');
    assert.ok(waited >= 150 && waited < 800, `waited for the rest of the lease only (${waited} ms)`);
    assert.deepEqual(t.runs, []);
    await t.close();
  });

  it('given a run whose outcome could not be recorded (the store away), gives its claim up: a redelivery reports it lost within a lease although its executor lives', async () => {
    let away = false;
    // The action runs, then the store goes away for the first write of its outcome.
    const t = await setup({ leaseMs: 300, storeAway: () => away, onRun: () => void (away = true) });
    // The executor lives: its liveness is renewed all along.
    const beat = setInterval(() => void t.claims.heartbeat().catch(() => {}), 100);
    try {
      await assert.rejects(t.runOne(t.consumed(t.request)), /the store is away/);
      away = false;
      for (let i = 0; i < 100 && !(await t.claims.get(t.executionId))?.doc.unheld; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await t.claims.get(t.executionId))?.doc.unheld, true, 'the claim is no longer held by its live executor');
      const records = await t.runOne({ ...t.consumed(t.request), offset: 1 });
      const event = fromRecord(records[0]!.value)!.event;
      assert.ok(event.$case === 'actionFailed', `reported ${event.$case}`);
      assert.equal(event.value.error?.code, 'EXECUTOR_LOST');
    } finally {
      clearInterval(beat);
    }
    assert.deepEqual(t.runs, [t.executionId], 'run once');
    await t.close();
  });
});
