import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { deterministicId } from '@codestep/core';
import { Topics } from '@codestep/events';
import { DEFAULT_OPERATOR_LIMITS } from '@codestep/workflows';
import { actionDef, createRequest, decode, failingOnce, openFixture, removeDir, tickingClock, updateRequest, type Fixture } from './testing.fixtures.ts';
import { createWorkflowCommands, ensureWorkflowOutbox } from './workflow.commands.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import { WORKFLOW_COLLECTIONS, ensureWorkflowCollections } from './workflows.projection.ts';
import type { DocumentStore } from '@codestep/store';

const publishedId = (workflowId: string, version: number) => deterministicId('evt', 'published', 't1', workflowId, version);

function commandsOver(f: Fixture, store: DocumentStore = f.store, clock = tickingClock()) {
  const repository = createWorkflowRepository(store);
  return { repository, ...createWorkflowCommands({ store, eventLog: f.eventLog, clock, repository, limits: DEFAULT_OPERATOR_LIMITS }) };
}

describe('workflow commands', () => {
  let f: Fixture;
  const dirs: string[] = [];
  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await ensureWorkflowCollections(f.store);
    await ensureWorkflowOutbox(f.store);
    await f.eventLog.ensureTopics([Topics.workflows]);
  });
  after(() => dirs.forEach(removeDir));

  it('given a created workflow, when it is read back, then get and list return it (read-your-writes)', async () => {
    const c = commandsOver(f);
    const wf = await c.createWorkflow(createRequest());
    assert.equal(wf.version, 1);
    assert.deepEqual((await c.repository.load('t1', wf.workflowId, 0)).actions, wf.actions);
    assert.deepEqual(
      (await c.repository.listHeads('t1')).map((w) => w.workflowId),
      [wf.workflowId],
    );
    const events = decode(await f.read([Topics.workflows]));
    assert.equal(events.length, 1);
    assert.equal(events[0]!.eventId, publishedId(wf.workflowId, 1));
  });

  it('given a created workflow, when it is updated twice, then the head moves to version 3 and keeps its name', async () => {
    const c = commandsOver(f);
    const wf = await c.createWorkflow(createRequest());
    await c.updateWorkflow(updateRequest(wf.workflowId));
    const v3 = await c.updateWorkflow(updateRequest(wf.workflowId, { actions: [actionDef('c')] }));
    assert.equal(v3.version, 3);
    assert.equal(v3.name, 'Welcome');
    assert.equal((await c.repository.load('t1', wf.workflowId, 0)).version, 3);
    assert.equal((await c.repository.load('t1', wf.workflowId, 2)).actions.length, 2);
  });

  it('given no such workflow, when it is updated, then it is not found', async () => {
    await assert.rejects(commandsOver(f).updateWorkflow(updateRequest('wf_missing')), { code: 'NOT_FOUND' });
  });

  it('given a request without a tenant or with a bad action, when it is created, then it is refused and nothing is appended', async () => {
    const c = commandsOver(f);
    await assert.rejects(c.createWorkflow(createRequest({ tenantId: '' })), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(c.createWorkflow(createRequest({ actions: [{ ...actionDef('a'), runtime: 'cobol' }] })), /runtime/);
    assert.equal(f.eventLog.appended.length, 0);
  });

  it('given a create with a request id, when it is sent again, then the same workflow comes back and one event is appended', async () => {
    const c = commandsOver(f);
    const first = await c.createWorkflow(createRequest({ requestId: 'r1' }));
    const again = await c.createWorkflow(createRequest({ requestId: 'r1', name: 'Other' }));
    assert.deepEqual(again, { ...first, tenantId: 't1' });
    assert.equal(f.eventLog.appended.length, 1);
  });

  it('given a crash after the append of a create, when it is retried with its request id, then the same payload is appended under the same id and nothing is lost', async () => {
    const crashing = failingOnce(f.store, 'writeVersioned', WORKFLOW_COLLECTIONS.versions);
    await assert.rejects(commandsOver(f, crashing, tickingClock(1_000)).createWorkflow(createRequest({ requestId: 'r1' })), /injected crash/);
    assert.equal(crashing.failed, true);
    // The restarted service's clock has moved on: the retry must not stamp a new createdAt.
    const restarted = commandsOver(f, f.store, tickingClock(9_000));
    const wf = await restarted.createWorkflow(createRequest({ requestId: 'r1' }));
    assert.equal(wf.createdAt, 1_000);
    const values = f.valuesOf(publishedId(wf.workflowId, 1));
    assert.equal(values.length, 2);
    assert.equal(values[0], values[1]);
    assert.equal((await restarted.repository.load('t1', wf.workflowId, 0)).createdAt, 1_000);
  });

  it('given a crash after the append of an update, when the next update comes, then it publishes the reserved version first and takes the one after', async () => {
    const c = commandsOver(f);
    const wf = await c.createWorkflow(createRequest());
    const crashing = failingOnce(f.store, 'writeVersioned', WORKFLOW_COLLECTIONS.versions);
    await assert.rejects(commandsOver(f, crashing).updateWorkflow(updateRequest(wf.workflowId, { name: 'Accepted' })), /injected crash/);
    const next = await commandsOver(f).updateWorkflow(updateRequest(wf.workflowId, { actions: [actionDef('z')] }));
    assert.equal(next.version, 3);
    assert.equal(next.name, 'Accepted', 'the update after builds on the reserved version 2');
    const v2 = f.valuesOf(publishedId(wf.workflowId, 2));
    assert.equal(new Set(v2).size, 1, 'version 2 was appended twice with the same bytes');
    assert.equal((await c.repository.load('t1', wf.workflowId, 2)).name, 'Accepted');
  });

  it('given two replicas updating one workflow at once, when both finish, then each version has one payload and both updates are kept', async () => {
    const wf = await commandsOver(f).createWorkflow(createRequest());
    const a = commandsOver(f);
    const b = commandsOver(f);
    const results = await Promise.all([a.updateWorkflow(updateRequest(wf.workflowId, { name: 'From A' })), b.updateWorkflow(updateRequest(wf.workflowId, { name: 'From B' }))]);
    assert.deepEqual(results.map((r) => r.version).sort(), [2, 3]);
    assert.deepEqual(new Set(results.map((r) => r.name)), new Set(['From A', 'From B']));
    for (const version of [2, 3]) assert.equal(new Set(f.valuesOf(publishedId(wf.workflowId, version))).size, 1);
    assert.equal(f.valuesOf(publishedId(wf.workflowId, 2)).length, 2, "the loser raced for version 2 and published the winner's");
    assert.equal((await a.repository.load('t1', wf.workflowId, 0)).version, 3);
  });
});
