/**
 * Schedule triggers in the enrollment service, on the SQLite adapters with a clock the tests move:
 * a tick fires once (again after a restart, again with two replicas racing, again after a crash
 * between the enrollment and the tick's event), missed ticks run once or are skipped as the
 * workflow says, a disabled workflow does not fire, and the schedules rebuild from the log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowTrigger } from '@codestep/contracts';
import type { EventLog } from '@codestep/event-log';
import { Topics, envelope, toRecord, type Envelope } from '@codestep/events';
import { SqliteStore } from '@codestep/store-sqlite';
import { DEFAULT_OPERATOR_LIMITS, parseTrigger } from '@codestep/workflows';
import { createEnrollCommand, ensureEnrollOutbox } from './enroll.command.ts';
import { enrollRequestsProjection } from './enroll-requests.projection.ts';
import { createScheduleTicker, ensureScheduleOutbox, tickRequestId } from './schedule.ticker.ts';
import { SCHEDULES, ensureSchedules, schedulesProjection, scheduleKey, type ScheduleDoc } from './schedules.projection.ts';
import { createRequest, decode, logger, openFixture, removeDir, stampGrants, type Fixture } from './testing.fixtures.ts';
import { tenantLimitsProjection } from './tenant-limits.projection.ts';
import { createWorkflowCommands, ensureWorkflowOutbox } from './workflow.commands.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import { ensureWorkflowCollections } from './workflows.projection.ts';

const HOUR = 3600_000;
/** 2026-12-07T10:00:00Z, a whole hour. */
const T0 = Date.UTC(2026, 11, 7, 10);
const BOUNDS = { minIntervalMs: 1000, graceMs: 60_000 };

describe('schedule triggers', () => {
  let f: Fixture;
  let now: number;
  const dirs: string[] = [];
  const clock = () => now;

  /** One replica: its own repository, commands and ticker over the shared store and log. */
  const replica = (eventLog: EventLog = f.eventLog) => {
    const repository = createWorkflowRepository(f.store);
    const commands = createWorkflowCommands({ store: f.store, eventLog, clock, repository, limits: DEFAULT_OPERATOR_LIMITS, schedule: BOUNDS });
    const enroll = createEnrollCommand({ store: f.store, eventLog, clock, repository, limits: DEFAULT_OPERATOR_LIMITS, stampGrants });
    return { ...commands, enroll, ticker: createScheduleTicker({ store: f.store, eventLog, clock, logger, enroll, bounds: { ...BOUNDS } }) };
  };
  const trigger = (raw: Record<string, unknown>): WorkflowTrigger => parseTrigger({ type: 'schedule', ...raw }, BOUNDS)!;
  const events = async (c: Envelope['event']['$case']) => decode(await f.read([Topics.workflows, Topics.enrollments])).filter((e) => e.event.$case === c);
  /** Distinct enrollments started (a record appended twice under one id is one event). */
  const started = async () => [...new Set((await events('enrollmentStarted')).map((e) => (e.event.$case === 'enrollmentStarted' ? e.event.value.enrollmentId : '')))];
  const ticks = async () => {
    const byId = new Map((await events('scheduleTicked')).map((e) => [e.eventId, e.event.$case === 'scheduleTicked' ? e.event.value : undefined]));
    return [...byId.values()];
  };

  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    for (const ensure of [ensureWorkflowCollections, ensureWorkflowOutbox, ensureEnrollOutbox, enrollRequestsProjection.ensure, ensureSchedules, ensureScheduleOutbox, tenantLimitsProjection.ensure])
      await ensure(f.store);
    await f.eventLog.ensureTopics([Topics.workflows, Topics.enrollments, Topics.actions, Topics.tenants]);
    now = T0 - 30 * 60_000;
  });
  after(() => dirs.forEach(removeDir));

  it('given an hourly schedule, when its tick comes, then it fires one enrollment keyed by the tick, and nothing more until the next', async () => {
    const r = replica();
    const wf = await r.createWorkflow(createRequest({ trigger: trigger({ every: '1 hr' }) }));
    await r.ticker.runDue();
    assert.deepEqual(await started(), []);
    now = T0 + 500;
    await r.ticker.runDue();
    await r.ticker.runDue();
    const [enrollment] = await events('enrollmentStarted');
    assert.equal(enrollment?.event.$case === 'enrollmentStarted' && enrollment.event.value.requestId, tickRequestId(wf.workflowId, T0));
    assert.equal(tickRequestId(wf.workflowId, T0), `schedule:${wf.workflowId}:2026-12-07T10:00:00.000Z`);
    assert.equal((await started()).length, 1);
    assert.deepEqual(
      (await ticks()).map((t) => [t?.tickAt, t?.outcome, t?.missed]),
      [[T0, 'fired', 0]],
    );
    const doc = (await f.store.get<ScheduleDoc>(SCHEDULES, scheduleKey('t1', wf.workflowId)))!.doc;
    assert.deepEqual([doc.armed, doc.nextDueAt, doc.lastTickAt], [true, T0 + HOUR, T0]);
    now = T0 + HOUR + 10;
    await r.ticker.runDue();
    assert.equal((await started()).length, 2);
  });

  it('given a fired tick, when the service restarts, then the tick does not fire again', async () => {
    const wf = await replica().createWorkflow(createRequest({ trigger: trigger({ every: '1 hr' }) }));
    now = T0 + 10;
    await replica().ticker.runDue();
    await replica().ticker.runDue();
    assert.equal((await started()).length, 1);
    assert.equal((await ticks()).length, 1);
    assert.ok(wf.workflowId);
  });

  it('given two replicas, when both look for due schedules at once, then each tick fires exactly once', async () => {
    const a = replica();
    const b = replica();
    for (let i = 0; i < 5; i++) await a.createWorkflow(createRequest({ name: `w${i}`, trigger: trigger({ every: '1 hr' }) }));
    for (const t of [T0 + 10, T0 + HOUR + 10, T0 + 2 * HOUR + 10]) {
      now = t;
      await Promise.all([a.ticker.runDue(), b.ticker.runDue(), a.ticker.runDue(), b.ticker.runDue()]);
    }
    assert.equal((await started()).length, 15);
    assert.equal((await ticks()).length, 15);
  });

  it('given a crash after the enrollment and before the tick event, when a replica looks again, then it finishes the tick without a second enrollment', async () => {
    const r = replica();
    const wf = await r.createWorkflow(createRequest({ trigger: trigger({ every: '1 hr' }) }));
    let crashed = false;
    const crashing: EventLog = {
      ...f.eventLog,
      append: async (records) => {
        if (!crashed && records.some((x) => decode([x])[0]?.event.$case === 'scheduleTicked')) {
          crashed = true;
          throw new Error('injected crash before the ScheduleTicked append');
        }
        await f.eventLog.append(records);
      },
    };
    now = T0 + 10;
    await assert.rejects(replica(crashing).ticker.runDue(), /injected crash/);
    assert.ok(crashed);
    assert.equal((await started()).length, 1);
    assert.equal((await ticks()).length, 0);
    now = T0 + 2000;
    await replica().ticker.runDue();
    assert.equal((await started()).length, 1);
    assert.deepEqual(
      (await ticks()).map((t) => [t?.workflowId, t?.tickAt]),
      [[wf.workflowId, T0]],
    );
  });

  it('given ticks missed while the platform was down, when it starts, then runOnce runs them once and skip skips them', async () => {
    const r = replica();
    const once = await r.createWorkflow(createRequest({ name: 'once', trigger: trigger({ every: '1 hr' }) }));
    const skip = await r.createWorkflow(createRequest({ name: 'skip', trigger: trigger({ every: '1 hr', missed: 'skip' }) }));
    now = T0 + 4 * HOUR + 20 * 60_000; // down from before 10:00 until 14:20
    await replica().ticker.runDue();
    const byWf = new Map((await ticks()).map((t) => [t?.workflowId, t]));
    assert.deepEqual([byWf.get(once.workflowId)?.outcome, byWf.get(once.workflowId)?.tickAt, byWf.get(once.workflowId)?.missed], ['fired', T0 + 4 * HOUR, 4]);
    assert.deepEqual([byWf.get(skip.workflowId)?.outcome, byWf.get(skip.workflowId)?.enrollmentId, byWf.get(skip.workflowId)?.missed], ['skipped', '', 5]);
    assert.equal((await started()).length, 1);
    now = T0 + 5 * HOUR + 5; // both on time again
    await r.ticker.runDue();
    assert.equal((await started()).length, 3);
  });

  it('given a disabled workflow, when its ticks come, then it does not fire, and enabled again it does not catch up on them', async () => {
    const r = replica();
    const wf = await r.createWorkflow(createRequest({ trigger: trigger({ every: '1 hr' }) }));
    await r.setWorkflowStatus({ tenantId: 't1', workflowId: wf.workflowId, status: 'disabled', reason: '' });
    now = T0 + 3 * HOUR + 10;
    await r.ticker.runDue();
    assert.equal((await started()).length, 0);
    await r.setWorkflowStatus({ tenantId: 't1', workflowId: wf.workflowId, status: 'enabled', reason: '' });
    await r.ticker.runDue();
    assert.equal((await started()).length, 0);
    now = T0 + 4 * HOUR + 10;
    await r.ticker.runDue();
    assert.deepEqual(
      (await ticks()).map((t) => [t?.tickAt, t?.missed]),
      [[T0 + 4 * HOUR, 0]],
    );
  });

  it('given a cron schedule in a time zone, when its ticks come, then they fire at its local times', async () => {
    const r = replica();
    now = Date.UTC(2026, 11, 6, 12); // a Sunday
    await r.createWorkflow(createRequest({ trigger: trigger({ cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' }) }));
    now = Date.UTC(2026, 11, 7, 8, 0, 5); // Monday 9:00:05 in Paris (UTC+1)
    await r.ticker.runDue();
    now = Date.UTC(2026, 11, 8, 8, 0, 5);
    await r.ticker.runDue();
    assert.deepEqual(
      (await ticks()).map((t) => new Date(t!.tickAt).toISOString()),
      ['2026-12-07T08:00:00.000Z', '2026-12-08T08:00:00.000Z'],
    );
  });

  it("given a tenant with limits of its own, when its schedule fires, then the enrollment runs with the tenant's limits, not the operator's defaults", async () => {
    const limits = { defaultTimeoutMs: 5_000, defaultMemoryMb: 64, maxTimeoutMs: 8_000, maxMemoryMb: 96 };
    const tenantEvents = [
      envelope({ eventId: 'evt_t1_created', tenantId: 't1', aggregateId: 't1', occurredAt: now }, { $case: 'tenantCreated', value: { name: 'one', limits: undefined, sequence: 1 } }),
      envelope({ eventId: 'evt_t1_limits', tenantId: 't1', aggregateId: 't1', occurredAt: now }, { $case: 'tenantLimitsSet', value: { limits, sequence: 2 } }),
    ];
    await f.eventLog.append(tenantEvents.map((e) => toRecord(e)));
    await tenantLimitsProjection.apply(f.store, await f.read([Topics.tenants]));
    const r = replica();
    await r.createWorkflow(createRequest({ trigger: trigger({ every: '1 hr' }) }));
    now = T0 + 10;
    await r.ticker.runDue();
    const requested = decode(await f.read([Topics.actions])).flatMap((e) => (e.event.$case === 'actionRequested' ? [e.event.value] : []));
    assert.equal(requested.length, 1);
    assert.deepEqual(requested[0]!.context?.limits, limits);
    assert.deepEqual(requested[0]!.limits, { timeoutMs: 5_000, memoryMb: 64 });
  });

  it('given the workflows topic, when it is replayed into an empty store, then the schedules come out identical', async () => {
    const r = replica();
    const a = await r.createWorkflow(createRequest({ name: 'a', trigger: trigger({ every: '1 hr' }) }));
    const b = await r.createWorkflow(createRequest({ name: 'b', trigger: trigger({ every: '1 hr', missed: 'skip' }) }));
    await r.createWorkflow(createRequest({ name: 'none' }));
    now = T0 + 2 * HOUR + 10;
    await r.ticker.runDue();
    await r.setWorkflowStatus({ tenantId: 't1', workflowId: b.workflowId, status: 'disabled', reason: '' });
    await r.updateWorkflow({ tenantId: 't1', workflowId: a.workflowId, name: 'a2', objectType: '', actions: createRequest().actions, limits: undefined, trigger: trigger({ every: '2 hr' }) });
    const rebuilt = new SqliteStore({ path: join(f.dir, 'rebuilt.db') });
    try {
      await schedulesProjection.ensure(rebuilt);
      await schedulesProjection.apply(rebuilt, await f.read(schedulesProjection.topics));
      const live = await f.store.find<ScheduleDoc>(SCHEDULES, { limit: 100 });
      const again = await rebuilt.find<ScheduleDoc>(SCHEDULES, { limit: 100 });
      assert.equal(live.length, 3);
      assert.deepEqual(new Map(again.map((d) => [d.id, d.doc])), new Map(live.map((d) => [d.id, d.doc])));
      const docA = live.find((d) => d.doc.workflowId === a.workflowId)!.doc;
      assert.deepEqual([docA.trigger?.every, docA.nextDueAt], ['2 hr', T0 + 4 * HOUR]);
      assert.equal(live.find((d) => d.doc.workflowId === b.workflowId)!.doc.armed, false);
    } finally {
      await rebuilt.close();
    }
  });
});
