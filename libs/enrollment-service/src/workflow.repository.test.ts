import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { envelope } from '@codestep/events';
import { actionDef, openFixture, removeDir, type Fixture } from './testing.fixtures.ts';
import { createWorkflowRepository } from './workflow.repository.ts';
import { WORKFLOW_COLLECTIONS, applyWorkflowPublished, ensureWorkflowCollections, versionKey } from './workflows.projection.ts';

async function publish(f: Fixture, tenantId: string, workflowId: string, version: number, createdAt: number): Promise<void> {
  const wf: WorkflowDefinition = { workflowId, version, name: `${workflowId} v${version}`, objectType: 'CONTACT', actions: [actionDef('a')], createdAt };
  await applyWorkflowPublished(
    f.store,
    envelope({ eventId: `e_${workflowId}_${version}`, tenantId, aggregateId: workflowId, occurredAt: createdAt }, { $case: 'workflowPublished', value: { workflow: wf } }),
  );
}

describe('workflow repository', () => {
  let f: Fixture;
  const dirs: string[] = [];
  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await ensureWorkflowCollections(f.store);
  });
  after(() => dirs.forEach(removeDir));

  it('given two versions, when version 0 is asked for, then the head comes back', async () => {
    await publish(f, 't1', 'wf1', 1, 10);
    await publish(f, 't1', 'wf1', 2, 20);
    const repo = createWorkflowRepository(f.store);
    assert.equal((await repo.load('t1', 'wf1', 0)).version, 2);
    assert.equal((await repo.load('t1', 'wf1', 1)).name, 'wf1 v1');
    assert.equal(await repo.headVersion('t1', 'wf1'), 2);
    assert.equal(await repo.headVersion('t1', 'nope'), 0);
  });

  it("given another tenant's workflow, when it is loaded, then it is not found", async () => {
    await publish(f, 't2', 'wf1', 1, 10);
    const repo = createWorkflowRepository(f.store);
    await assert.rejects(repo.load('t1', 'wf1', 0), { code: 'NOT_FOUND', message: 'workflow wf1 not found' });
    await assert.rejects(repo.load('t2', 'wf1', 7), { code: 'NOT_FOUND', message: 'workflow wf1 version 7 not found' });
    await assert.rejects(repo.load('', 'wf1', 1), { code: 'INVALID_ARGUMENT' });
  });

  it('given a loaded version, when the store loses it, then it is still served from the cache', async () => {
    await publish(f, 't1', 'wf1', 1, 10);
    const repo = createWorkflowRepository(f.store);
    await repo.load('t1', 'wf1', 1);
    await f.store.delete(WORKFLOW_COLLECTIONS.versions, versionKey('t1', 'wf1', 1));
    assert.equal((await repo.load('t1', 'wf1', 1)).name, 'wf1 v1');
  });

  it('given workflows of two tenants, when one tenant lists, then it sees its own heads, newest first', async () => {
    await publish(f, 't1', 'old', 1, 10);
    await publish(f, 't1', 'new', 1, 30);
    await publish(f, 't1', 'new', 2, 40);
    await publish(f, 't2', 'other', 1, 50);
    const listed = await createWorkflowRepository(f.store).listHeads('t1');
    assert.deepEqual(
      listed.map((w) => `${w.workflowId}@${w.version}`),
      ['new@2', 'old@1'],
    );
  });
});
