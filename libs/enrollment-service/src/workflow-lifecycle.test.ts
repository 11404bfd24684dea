/**
 * A workflow's day-two operations in the enrollment service: enable/disable/archive as events,
 * enrollments refused while disabled (running ones untouched), an identical update that publishes
 * nothing, rollback as a new version equal to an older one, the version list, and all of it
 * rebuilt identically by replaying the workflows topic into an empty store.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import type { enrollmentsV1 } from '@codestep/contracts';
import { Topics } from '@codestep/events';
import { SqliteStore } from '@codestep/store-sqlite';
import { DEFAULT_OPERATOR_LIMITS } from '@codestep/workflows';
import { createEnrollCommand, ensureEnrollOutbox } from './enroll.command.ts';
import { enrollRequestsProjection } from './enroll-requests.projection.ts';
import { actionDef, createRequest, decode, openFixture, removeDir, stampGrants, tickingClock, updateRequest, type Fixture } from './testing.fixtures.ts';
import { createWorkflowCommands, ensureWorkflowOutbox } from './workflow.commands.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import { WORKFLOW_COLLECTIONS, ensureWorkflowCollections, workflowsProjection } from './workflows.projection.ts';

const enrollRequest = (workflowId: string, requestId = ''): enrollmentsV1.EnrollRequest => ({
  tenantId: 't1',
  workflowId,
  object: { objectType: '', objectId: '42', properties: {} },
  requestId,
  portalId: 0,
  trigger: undefined,
  limits: undefined,
});

describe('workflow lifecycle', () => {
  let f: Fixture;
  const dirs: string[] = [];
  const setup = () => {
    const repository = createWorkflowRepository(f.store);
    const commands = createWorkflowCommands({ store: f.store, eventLog: f.eventLog, clock: tickingClock(), repository, limits: DEFAULT_OPERATOR_LIMITS });
    const enroll = createEnrollCommand({ store: f.store, eventLog: f.eventLog, clock: tickingClock(), repository, limits: DEFAULT_OPERATOR_LIMITS, stampGrants });
    return { repository, ...commands, enroll };
  };
  const status = (workflowId: string, s: string, reason = '') => ({ tenantId: 't1', workflowId, status: s, reason });

  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    for (const ensure of [ensureWorkflowCollections, ensureWorkflowOutbox, ensureEnrollOutbox, enrollRequestsProjection.ensure]) await ensure(f.store);
    await f.eventLog.ensureTopics([Topics.workflows, Topics.enrollments, Topics.actions]);
  });
  after(() => dirs.forEach(removeDir));

  it('given a disabled workflow, when an object is enrolled, then it is refused with WORKFLOW_DISABLED naming the way back; enabled again, it enrolls', async () => {
    const c = setup();
    const wf = await c.createWorkflow(createRequest());
    const recorded = await c.enroll(enrollRequest(wf.workflowId, 'before-disable'));
    const state = await c.setWorkflowStatus(status(wf.workflowId, 'disabled', 'bad deploy'));
    assert.deepEqual([state.status, state.sequence], ['disabled', 1]);
    await assert.rejects(c.enroll(enrollRequest(wf.workflowId)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WORKFLOW_DISABLED');
      assert.match(e.message, new RegExp(`workflow ${wf.workflowId} is disabled since .*enrollments already running finish.*POST /v1/workflows/${wf.workflowId}/enable`));
      return true;
    });
    await assert.rejects(c.enroll(enrollRequest(wf.workflowId, 'new-key')), { code: 'WORKFLOW_DISABLED' });
    assert.deepEqual(await c.enroll(enrollRequest(wf.workflowId, 'before-disable')), recorded, 'a request recorded before the disable still answers with its enrollment');
    await c.setWorkflowStatus(status(wf.workflowId, 'enabled'));
    assert.ok((await c.enroll(enrollRequest(wf.workflowId))).enrollmentId);
  });

  it('given a status change, then it is one WorkflowStatusChanged event; setting the same status again publishes nothing', async () => {
    const c = setup();
    const wf = await c.createWorkflow(createRequest());
    await c.setWorkflowStatus(status(wf.workflowId, 'disabled', 'incident 12'));
    await c.setWorkflowStatus(status(wf.workflowId, 'disabled'));
    await c.setWorkflowStatus(status(wf.workflowId, 'enabled'));
    const changes = decode(await f.read([Topics.workflows])).filter((e) => e.event.$case === 'workflowStatusChanged');
    assert.deepEqual(
      changes.map((e) => (e.event.$case === 'workflowStatusChanged' ? [e.type, e.event.value.status, e.event.value.sequence, e.event.value.reason] : [])),
      [
        ['WorkflowStatusChanged', 'disabled', 1, 'incident 12'],
        ['WorkflowStatusChanged', 'enabled', 2, ''],
      ],
    );
  });

  it('refuses an unknown status, an unknown workflow, and updates or rollbacks of an archived workflow until it is restored', async () => {
    const c = setup();
    const wf = await c.createWorkflow(createRequest());
    await assert.rejects(c.setWorkflowStatus(status(wf.workflowId, 'paused')), { code: 'INVALID_ARGUMENT', message: /status must be one of enabled, disabled, archived/ });
    await assert.rejects(c.setWorkflowStatus(status('wf_missing', 'disabled')), { code: 'NOT_FOUND' });
    await c.setWorkflowStatus(status(wf.workflowId, 'archived'));
    await assert.rejects(c.updateWorkflow(updateRequest(wf.workflowId)), { code: 'WORKFLOW_ARCHIVED' });
    await assert.rejects(c.enroll(enrollRequest(wf.workflowId)), { code: 'WORKFLOW_ARCHIVED' });
    assert.equal((await c.repository.listHeads('t1')).length, 1, 'the archived workflow and its versions are kept');
    await c.setWorkflowStatus(status(wf.workflowId, 'enabled'));
    assert.equal((await c.updateWorkflow(updateRequest(wf.workflowId))).version, 2);
  });

  it('given an update equal to the latest version, then no version is published and the latest is the answer', async () => {
    const c = setup();
    const wf = await c.createWorkflow(createRequest());
    const same = await c.updateWorkflow(updateRequest(wf.workflowId, { actions: [actionDef('a')] }));
    assert.equal(same.version, 1);
    const v2 = await c.updateWorkflow(updateRequest(wf.workflowId));
    assert.equal(v2.version, 2);
    assert.equal((await c.updateWorkflow(updateRequest(wf.workflowId))).version, 2);
    assert.equal(decode(await f.read([Topics.workflows])).length, 2);
  });

  it('given three versions, when rolled back to version 1, then version 4 equals version 1 and says so; again publishes nothing', async () => {
    const c = setup();
    const wf = await c.createWorkflow(createRequest());
    await c.updateWorkflow(updateRequest(wf.workflowId));
    await c.updateWorkflow(updateRequest(wf.workflowId, { actions: [actionDef('c')] }));
    const v4 = await c.rollbackWorkflow({ tenantId: 't1', workflowId: wf.workflowId, toVersion: 1, limits: undefined });
    assert.equal(v4.version, 4);
    assert.equal(v4.rolledBackFrom, 1);
    assert.deepEqual(v4.actions, wf.actions);
    assert.equal((await c.rollbackWorkflow({ tenantId: 't1', workflowId: wf.workflowId, toVersion: 1, limits: undefined })).version, 4);
    assert.deepEqual(
      (await c.repository.listVersions('t1', wf.workflowId)).map((v) => [v.version, v.rolledBackFrom ?? 0]),
      [
        [4, 1],
        [3, 0],
        [2, 0],
        [1, 0],
      ],
    );
    await assert.rejects(c.rollbackWorkflow({ tenantId: 't1', workflowId: wf.workflowId, toVersion: 9, limits: undefined }), {
      code: 'NOT_FOUND',
      message: /has no version 9: its versions are 1 to 4/,
    });
    await assert.rejects(c.rollbackWorkflow({ tenantId: 't1', workflowId: wf.workflowId, toVersion: 0, limits: undefined }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(c.repository.listVersions('t2', wf.workflowId), { code: 'NOT_FOUND' }, "another tenant's workflow is absent");
  });

  it('given the workflows topic, when it is replayed into an empty store, then heads, versions and statuses come out identical', async () => {
    const c = setup();
    const a = await c.createWorkflow(createRequest());
    const b = await c.createWorkflow(createRequest({ name: 'Other' }));
    await c.updateWorkflow(updateRequest(a.workflowId));
    await c.rollbackWorkflow({ tenantId: 't1', workflowId: a.workflowId, toVersion: 1, limits: undefined });
    await c.setWorkflowStatus(status(a.workflowId, 'disabled'));
    await c.setWorkflowStatus(status(b.workflowId, 'archived'));
    await c.setWorkflowStatus(status(b.workflowId, 'enabled'));
    await c.setWorkflowStatus(status(b.workflowId, 'disabled'));

    const rebuilt = new SqliteStore({ path: join(f.dir, 'rebuilt.db') });
    await workflowsProjection.ensure(rebuilt);
    const records = await f.read(workflowsProjection.topics);
    // Applied twice: a redelivered log changes nothing.
    await workflowsProjection.apply(rebuilt, records);
    await workflowsProjection.apply(rebuilt, records);
    for (const collection of Object.values(WORKFLOW_COLLECTIONS)) {
      const dump = async (s: typeof rebuilt | Fixture['store']) => (await s.find(collection, { orderBy: { field: 'workflowId', direction: 'asc' } })).map((d) => [d.id, d.doc]).sort();
      assert.deepEqual(await dump(rebuilt), await dump(f.store), collection);
    }
    const replayed = createWorkflowRepository(rebuilt);
    assert.deepEqual(
      [(await replayed.state('t1', a.workflowId)).status, (await replayed.state('t1', b.workflowId)).status, (await replayed.state('t1', b.workflowId)).sequence],
      ['disabled', 'disabled', 3],
    );
    await rebuilt.close();
  });
});
