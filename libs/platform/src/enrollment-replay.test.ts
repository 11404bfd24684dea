import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ActionDefinition, workflowsV1 } from '@codestep/contracts';
import { silentLogger, systemClock, type Clock } from '@codestep/core';
import { createEnrollmentService, enrollRequestsProjection, retryTimersProjection, workflowsProjection, type EnrollmentService } from '@codestep/enrollment-service';
import type { EventLog, LogRecord } from '@codestep/event-log';
import { Topics, envelope, fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { DEFAULT_RETRY_POLICY } from '@codestep/workflows';
import { openEventLog, openStore } from './adapters.ts';
import { loadPlatformConfig, type PlatformConfig } from './platform.config.ts';
import { PROJECTIONS } from './projections.ts';
import { replayProjections } from './replay.ts';

const ENROLLMENT_PROJECTIONS = PROJECTIONS.filter((p) => p.service === 'enrollment');

const action: ActionDefinition = {
  actionId: 'a',
  name: 'a',
  runtime: 'hubspot',
  code: 'exports.main = async () => ({});',
  inputFields: [],
  outputFields: [],
  secretNames: [],
  timeoutMs: 0,
  memoryMb: 0,
  connectionHandles: [],
  runtimeVersion: 'node20',
};
const createReq = (requestId: string): workflowsV1.CreateWorkflowRequest => ({ tenantId: 't1', name: 'Replayed', objectType: 'CONTACT', actions: [action], requestId, limits: undefined });

interface Running {
  store: DocumentStore;
  log: EventLog & { appended: LogRecord[] };
  service: EnrollmentService;
  stop(): Promise<void>;
}

/**
 * The enrollment service over the embedded data dir. With `crashAfterAppend`, the process "dies"
 * right after its first append to the workflows topic: the append lands, the call fails before
 * the store write, and no consumer of that process applies anything.
 */
async function startService(config: PlatformConfig, options: { crashAfterAppend?: boolean; clock?: Clock } = {}): Promise<Running> {
  const store = await openStore(config, 'enrollment');
  const inner = await openEventLog(config, 'test');
  const appended: LogRecord[] = [];
  let crashed = false;
  const log: EventLog & { appended: LogRecord[] } = {
    appended,
    ensureTopics: (t) => inner.ensureTopics(t),
    append: async (records) => {
      await inner.append(records);
      appended.push(...records);
      if (options.crashAfterAppend && !crashed && records.some((r) => r.topic === Topics.workflows)) {
        crashed = true;
        throw new Error('injected crash between the append and the store write');
      }
    },
    consume: async (o) => (options.crashAfterAppend ? { stop: async () => {} } : inner.consume(o)),
    readAll: (t, h) => inner.readAll(t, h),
    close: () => inner.close(),
  };
  const retryPolicy = { ...DEFAULT_RETRY_POLICY, initialDelayMs: 20 };
  const service = createEnrollmentService({
    store,
    eventLog: log,
    clock: options.clock ?? systemClock,
    logger: silentLogger,
    retryPolicy,
    timerIntervalMs: 20,
    grants: { key: Buffer.alloc(32, 1), ttlMs: 3_600_000 },
  });
  await service.start();
  return {
    store,
    log,
    service,
    async stop() {
      await service.stop();
      await inner.close();
      await store.close();
    },
  };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function readTopic(config: PlatformConfig, topic: string): Promise<Envelope[]> {
  const log = await openEventLog(config, 'test-read');
  const out: Envelope[] = [];
  await log.readAll([topic], async (batch) => void out.push(...batch.flatMap((r) => fromRecord(r.value) ?? [])));
  await log.close();
  return out;
}

describe('replay of the enrollment service projections (embedded)', () => {
  const dirs: string[] = [];
  const configIn = () => {
    const dir = mkdtempSync(join(tmpdir(), 'codestep-replay-'));
    dirs.push(dir);
    return loadPlatformConfig({ CODESTEP_DATA_DIR: dir });
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('registers the workflows, enroll requests and retry timers projections for replay', () => {
    for (const p of [workflowsProjection, enrollRequestsProjection, retryTimersProjection]) assert.ok(ENROLLMENT_PROJECTIONS.includes(p), p.name);
  });

  it('given workflows, an enrollment and a fired retry, when replayed with verify, then every enrollment collection is rebuilt equal to the live one', async () => {
    const config = configIn();
    const running = await startService(config);
    const wf = await running.service.workflows.createWorkflow(createReq('r1'));
    await running.service.workflows.updateWorkflow({ tenantId: 't1', workflowId: wf.workflowId, name: 'Replayed v2', objectType: '', actions: [action], limits: undefined });
    await running.service.enrollments.enroll({
      tenantId: 't1',
      workflowId: wf.workflowId,
      object: { objectType: '', objectId: '1', properties: {} },
      requestId: 'e1',
      portalId: 0,
      trigger: undefined,
      limits: undefined,
    });
    const requested = running.log.appended.map((r) => fromRecord(r.value)).find((e) => e?.event.$case === 'actionRequested');
    assert.ok(requested?.event.$case === 'actionRequested');
    const { executionId, context } = requested.event.value;
    const failed = envelope(
      { eventId: 'evt_failed_once', tenantId: 't1', aggregateId: executionId, occurredAt: Date.now() },
      {
        $case: 'actionFailed',
        value: { executionId, context, error: { code: 'RATE_LIMITED', message: 'later', retryable: true, retryAfterMs: 0 }, durationMs: 1, continueEnrollment: false, outputFields: {} },
      },
    );
    await running.log.append([toRecord(failed)]);
    await eventually('the retry to fire', async () => {
      const timers = await running.store.find<{ kind: string }>('retry_timers', {});
      return timers.length === 1 && timers[0]!.doc.kind === 'fired' ? true : undefined;
    });
    await running.stop();

    const report = await replayProjections(config, silentLogger, { verify: true, projections: ENROLLMENT_PROJECTIONS });
    assert.equal(report.equal, true, JSON.stringify(report.collections));
    assert.equal(report.collections['enrollment/workflows']?.live, 2);
    assert.equal(report.collections['enrollment/workflow_heads']?.live, 1);
    assert.equal(report.collections['enrollment/enroll_requests']?.live, 1);
    assert.equal(report.collections['enrollment/retry_timers']?.live, 1);
  });

  it('given a disable, a rollback, a failed enrollment retried and a bulk retry job, when replayed with verify, then statuses, enrollment states and jobs are rebuilt equal', async () => {
    const config = configIn();
    const running = await startService(config);
    const wf = await running.service.workflows.createWorkflow(createReq('d1'));
    await running.service.workflows.updateWorkflow({ tenantId: 't1', workflowId: wf.workflowId, name: 'v2', objectType: '', actions: [action], limits: undefined });
    await running.service.workflows.rollbackWorkflow({ tenantId: 't1', workflowId: wf.workflowId, toVersion: 1, limits: undefined });
    await running.service.workflows.setWorkflowStatus({ tenantId: 't1', workflowId: wf.workflowId, status: 'disabled', reason: 'replay test' });
    await running.service.workflows.setWorkflowStatus({ tenantId: 't1', workflowId: wf.workflowId, status: 'enabled', reason: '' });
    const enrolled = await running.service.enrollments.enroll({
      tenantId: 't1',
      workflowId: wf.workflowId,
      object: { objectType: '', objectId: '1', properties: {} },
      requestId: 'd-e1',
      portalId: 0,
      trigger: undefined,
      limits: undefined,
    });
    const requested = running.log.appended.map((r) => fromRecord(r.value)).find((e) => e?.event.$case === 'actionRequested');
    assert.ok(requested?.event.$case === 'actionRequested');
    const { executionId, context } = requested.event.value;
    await running.log.append([
      toRecord(
        envelope(
          { eventId: 'evt_failed_for_good', tenantId: 't1', aggregateId: executionId, occurredAt: Date.now() },
          {
            $case: 'actionFailed',
            value: { executionId, context, error: { code: 'USER_CODE_ERROR', message: 'no', retryable: false, retryAfterMs: 0 }, durationMs: 1, continueEnrollment: false, outputFields: {} },
          },
        ),
      ),
    ]);
    await eventually('the enrollment to be failed', async () => {
      const state = await running.store.get<{ status: string }>('enrollment_states', `t1/${enrolled.enrollmentId}`);
      return state?.doc.status === 'failed' ? true : undefined;
    });
    const retried = await running.service.enrollments.retryEnrollment({ tenantId: 't1', enrollmentId: enrolled.enrollmentId, onLatestVersion: true, inputFields: undefined, reason: '', jobId: '' });
    assert.equal(retried.round, 1);
    await running.service.enrollments.startRetryJob({
      tenantId: 't1',
      workflowId: wf.workflowId,
      errorCode: '',
      failedAfter: 0,
      failedBefore: 0,
      limit: 10,
      onLatestVersion: false,
      requestId: 'job-1',
    });
    await eventually('the retry to be projected', async () => {
      const state = await running.store.get<{ status: string }>('enrollment_states', `t1/${enrolled.enrollmentId}`);
      return state?.doc.status === 'running' ? true : undefined;
    });
    await running.stop();

    const report = await replayProjections(config, silentLogger, { verify: true, projections: ENROLLMENT_PROJECTIONS });
    assert.equal(report.equal, true, JSON.stringify(report.collections));
    assert.equal(report.collections['enrollment/workflow_status']?.live, 1);
    assert.equal(report.collections['enrollment/workflows']?.live, 3);
    assert.equal(report.collections['enrollment/enrollment_states']?.live, 1);
    assert.equal(report.collections['enrollment/retry_jobs']?.live, 1);
  });

  it('given a crash between the append and the store write, when restarted and retried, then nothing is lost, the event id keeps one payload and replay is equal', async () => {
    const config = configIn();
    const crashed = await startService(config, { crashAfterAppend: true, clock: () => 1_000 });
    await assert.rejects(crashed.service.workflows.createWorkflow(createReq('r1')), /injected crash/);
    await crashed.stop();

    const restarted = await startService(config, { clock: () => 9_000 });
    const wf = await restarted.service.workflows.createWorkflow(createReq('r1'));
    assert.equal(wf.createdAt, 1_000, 'the retry returns the payload accepted before the crash');
    const updated = await restarted.service.workflows.updateWorkflow({
      tenantId: 't1',
      workflowId: wf.workflowId,
      name: '',
      objectType: '',
      actions: [action, { ...action, actionId: 'b' }],
      limits: undefined,
    });
    assert.equal(updated.version, 2);
    await restarted.stop();

    const published = await readTopic(config, Topics.workflows);
    const byId = new Map<string, Set<string>>();
    for (const e of published) byId.set(e.eventId, (byId.get(e.eventId) ?? new Set()).add(JSON.stringify(e)));
    assert.equal(byId.size, 2);
    for (const [id, payloads] of byId) assert.equal(payloads.size, 1, `one payload for ${id}`);
    const report = await replayProjections(config, silentLogger, { verify: true, projections: ENROLLMENT_PROJECTIONS });
    assert.equal(report.equal, true, JSON.stringify(report.collections));
    assert.equal(report.collections['enrollment/workflows']?.live, 2);
  });

  it('given a crash between the append and the store write and no retry, when restarted, then the projection consumer applies the accepted workflow', async () => {
    const config = configIn();
    const crashed = await startService(config, { crashAfterAppend: true });
    await assert.rejects(crashed.service.workflows.createWorkflow(createReq('r1')), /injected crash/);
    await crashed.stop();
    const restarted = await startService(config);
    const listed = await eventually('the workflow to be projected', async () => {
      const { workflows } = await restarted.service.workflows.listWorkflows({ tenantId: 't1' });
      return workflows.length ? workflows : undefined;
    });
    assert.equal(listed[0]!.name, 'Replayed');
    await restarted.stop();
    assert.equal((await replayProjections(config, silentLogger, { verify: true, projections: ENROLLMENT_PROJECTIONS })).equal, true);
  });
});
