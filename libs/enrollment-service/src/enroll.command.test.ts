import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { enrollmentsV1 } from '@codestep/contracts';
import { deterministicId } from '@codestep/core';
import { Topics } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { DEFAULT_OPERATOR_LIMITS } from '@codestep/workflows';
import { createEnrollCommand, ensureEnrollOutbox } from './enroll.command.ts';
import { ENROLL_REQUESTS, enrollRequestsProjection } from './enroll-requests.projection.ts';
import { createRequest, decode, failingOnce, openFixture, removeDir, stampGrants, tickingClock, updateRequest, type Fixture } from './testing.fixtures.ts';
import { createWorkflowCommands, ensureWorkflowOutbox } from './workflow.commands.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import { ensureWorkflowCollections } from './workflows.projection.ts';

const request = (overrides: Partial<enrollmentsV1.EnrollRequest> = {}): enrollmentsV1.EnrollRequest => ({
  tenantId: 't1',
  workflowId: '',
  object: { objectType: '', objectId: '42', properties: { email: 'a@b.c' } },
  requestId: '',
  portalId: 0,
  trigger: undefined,
  limits: undefined,
  ...overrides,
});

describe('enroll command', () => {
  let f: Fixture;
  let workflowId: string;
  const dirs: string[] = [];
  const enrollOver = (store: DocumentStore = f.store, clock = tickingClock()) =>
    createEnrollCommand({ store, eventLog: f.eventLog, clock, repository: createWorkflowRepository(store), limits: DEFAULT_OPERATOR_LIMITS, stampGrants });

  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    for (const ensure of [ensureWorkflowCollections, ensureWorkflowOutbox, ensureEnrollOutbox, enrollRequestsProjection.ensure]) await ensure(f.store);
    await f.eventLog.ensureTopics([Topics.workflows, Topics.enrollments, Topics.actions]);
    const repository = createWorkflowRepository(f.store);
    workflowId = (await createWorkflowCommands({ store: f.store, eventLog: f.eventLog, clock: tickingClock(), repository, limits: DEFAULT_OPERATOR_LIMITS }).createWorkflow(createRequest()))
      .workflowId;
  });
  after(() => dirs.forEach(removeDir));

  it('given a workflow, when an object is enrolled, then EnrollmentStarted and the first action request are appended', async () => {
    const out = await enrollOver()(request({ workflowId, requestId: 'r1' }));
    assert.equal(out.enrollmentId, deterministicId('enr', 't1', 'r1'));
    assert.equal(out.workflowVersion, 1);
    const started = decode(await f.read([Topics.enrollments]));
    assert.equal(started.length, 1);
    assert.equal(started[0]!.event.$case === 'enrollmentStarted' && started[0]!.event.value.requestId, 'r1');
    assert.equal(decode(await f.read([Topics.actions]))[0]?.event.$case, 'actionRequested');
  });

  it('given an enrolled request id, when it is sent again after the workflow changed, then the first enrollment comes back and nothing more is appended', async () => {
    const enroll = enrollOver();
    const first = await enroll(request({ workflowId, requestId: 'r1' }));
    const repository = createWorkflowRepository(f.store);
    await createWorkflowCommands({ store: f.store, eventLog: f.eventLog, clock: tickingClock(), repository, limits: DEFAULT_OPERATOR_LIMITS }).updateWorkflow(updateRequest(workflowId));
    const appended = f.eventLog.appended.length;
    assert.deepEqual(await enroll(request({ workflowId, requestId: 'r1' })), first);
    assert.equal(f.eventLog.appended.length, appended);
  });

  it('given no request id, when the same object is enrolled twice, then two enrollments start', async () => {
    const enroll = enrollOver();
    const a = await enroll(request({ workflowId }));
    const b = await enroll(request({ workflowId }));
    assert.notEqual(a.enrollmentId, b.enrollmentId);
    assert.equal(decode(await f.read([Topics.enrollments])).length, 2);
  });

  it('given a crash after the append, when the request is retried, then the same records are appended again under the same ids and the request is recorded', async () => {
    const crashing = failingOnce(f.store, 'writeVersioned', ENROLL_REQUESTS);
    await assert.rejects(enrollOver(crashing, tickingClock(1_000))(request({ workflowId, requestId: 'r1' })), /injected crash/);
    const retried = await enrollOver(f.store, tickingClock(9_000))(request({ workflowId, requestId: 'r1' }));
    assert.equal(retried.enrollmentId, deterministicId('enr', 't1', 'r1'));
    const startedId = deterministicId('evt', 'started', retried.enrollmentId);
    const values = f.valuesOf(startedId);
    assert.equal(values.length, 2);
    assert.equal(new Set(values).size, 1, 'one payload for the event id');
    assert.equal(decode(await f.read([Topics.enrollments])).length, 1);
    assert.ok(await f.store.get(ENROLL_REQUESTS, 't1/r1'));
  });

  it('given bad input, when enrolling, then it is refused naming what is wrong', async () => {
    const enroll = enrollOver();
    await assert.rejects(enroll(request({ workflowId, object: undefined })), /object\.objectId is required/);
    await assert.rejects(enroll(request({ workflowId: 'wf_nope' })), { code: 'NOT_FOUND' });
  });
});
