import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { Topics, envelope, toRecord } from '@codestep/events';
import type { ProjectedRecord } from '@codestep/store';
import { runtimeVersionOf } from '@codestep/workflows';
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

  it('given versions saved with a runtime version and one saved before versions existed, when replayed into an empty store, then each keeps the libraries it was saved with', async () => {
    const on = (version: number, runtimeVersion: string): WorkflowDefinition => ({ ...wf(version), actions: [{ ...actionDef('a'), runtimeVersion }] });
    // Version 1 predates runtime versions: its event has no runtime_version field at all.
    const records = [publishedRecord(on(1, ''), 0), publishedRecord(on(2, 'node20'), 1), publishedRecord(on(3, 'node24'), 2)];
    await workflowsProjection.apply(f.store, records);
    const replayed = openFixture();
    dirs.push(replayed.dir);
    await workflowsProjection.ensure(replayed.store);
    await workflowsProjection.apply(replayed.store, records);
    for (const store of [f.store, replayed.store]) {
      const saved: string[] = [];
      for (const version of [1, 2, 3]) {
        const doc = (await store.get<WorkflowDefinition>(WORKFLOW_COLLECTIONS.versions, versionKey('t1', 'wf1', version)))?.doc;
        saved.push(runtimeVersionOf(doc!.actions[0]!));
      }
      assert.deepEqual(saved, ['node24', 'node20', 'node24']);
    }
  });

  it('reads the workflows topic only', () => {
    assert.deepEqual(workflowsProjection.topics, [Topics.workflows]);
    assert.equal(workflowsProjection.service, 'enrollment');
  });
});
