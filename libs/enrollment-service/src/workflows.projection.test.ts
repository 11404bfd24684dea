import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { Topics, envelope, toRecord } from '@codestep/events';
import type { ProjectedRecord } from '@codestep/store';
import { actionDef, openFixture, removeDir, type Fixture } from './testing.fixtures.ts';
import { WORKFLOW_COLLECTIONS, headKey, versionKey, workflowsProjection, type HeadDoc } from './workflows.projection.ts';

function publishedRecord(wf: WorkflowDefinition, offset: number): ProjectedRecord {
  const env = envelope(
    { eventId: `evt_${wf.workflowId}_${wf.version}`, tenantId: 't1', aggregateId: wf.workflowId, occurredAt: wf.createdAt },
    { $case: 'workflowPublished', value: { workflow: wf } },
  );
  return { ...toRecord(env), partition: 0, offset };
}

const wf = (version: number, name = `v${version}`): WorkflowDefinition => ({ workflowId: 'wf1', version, name, objectType: 'CONTACT', actions: [actionDef('a')], createdAt: 100 + version });

describe('workflows projection', () => {
  let f: Fixture;
  const dirs: string[] = [];
  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await workflowsProjection.ensure(f.store);
  });
  after(() => dirs.forEach(removeDir));

  it('given published versions, when applied, then each version is stored and the head is the latest', async () => {
    await workflowsProjection.apply(f.store, [publishedRecord(wf(1), 0), publishedRecord(wf(2), 1)]);
    const head = await f.store.get<HeadDoc>(WORKFLOW_COLLECTIONS.heads, headKey('t1', 'wf1'));
    assert.deepEqual(head?.doc, { tenantId: 't1', workflowId: 'wf1', version: 2, name: 'v2', createdAt: 102 });
    assert.equal((await f.store.get<WorkflowDefinition>(WORKFLOW_COLLECTIONS.versions, versionKey('t1', 'wf1', 1)))?.doc.name, 'v1');
  });

  it('given a batch applied again or out of order, when applied, then the head never moves back and the first payload of a version stays', async () => {
    await workflowsProjection.apply(f.store, [publishedRecord(wf(2), 1)]);
    await workflowsProjection.apply(f.store, [publishedRecord(wf(1), 0), publishedRecord(wf(2, 'a second payload'), 2)]);
    const head = await f.store.get<HeadDoc>(WORKFLOW_COLLECTIONS.heads, headKey('t1', 'wf1'));
    assert.equal(head?.doc.version, 2);
    assert.equal((await f.store.get<WorkflowDefinition>(WORKFLOW_COLLECTIONS.versions, versionKey('t1', 'wf1', 2)))?.doc.name, 'v2');
  });

  it('reads the workflows topic only', () => {
    assert.deepEqual(workflowsProjection.topics, [Topics.workflows]);
    assert.equal(workflowsProjection.service, 'enrollment');
  });
});
