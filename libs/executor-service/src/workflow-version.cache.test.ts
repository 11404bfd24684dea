/** The executor's workflow-version cache: each version asked for once, a failed lookup asked again. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { createWorkflowVersionCache } from './workflow-version.cache.ts';

/** A lookup that records what it was asked for, failing the versions in `failing`. */
function countingLookup(failing = new Set<number>()) {
  const asked: string[] = [];
  const lookup = async (tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition> => {
    asked.push(`${tenantId}/${workflowId}/v${version}`);
    if (failing.has(version)) throw new Error(`no version ${version}`);
    return { workflowId, version, name: 'w', objectType: 'CONTACT', actions: [], createdAt: 0 };
  };
  return { asked, lookup, failing };
}

describe('workflow version cache', () => {
  it('given the same version asked for many times, at once and later, looks it up once', async () => {
    const { asked, lookup } = countingLookup();
    const get = createWorkflowVersionCache(lookup);
    const all = await Promise.all([get('t1', 'wf', 1), get('t1', 'wf', 1), get('t1', 'wf', 1)]);
    await get('t1', 'wf', 1);
    assert.deepEqual(asked, ['t1/wf/v1']);
    assert.equal(all[0], all[2], 'every caller gets the one definition');
  });

  it('keeps tenants, workflows and versions apart', async () => {
    const { asked, lookup } = countingLookup();
    const get = createWorkflowVersionCache(lookup);
    await get('t1', 'wf', 1);
    await get('t1', 'wf', 2);
    await get('t2', 'wf', 1);
    await get('t1', 'other', 1);
    assert.deepEqual(asked, ['t1/wf/v1', 't1/wf/v2', 't2/wf/v1', 't1/other/v1']);
  });

  it('given a failed lookup, fails that caller and asks again next time', async () => {
    const { asked, lookup, failing } = countingLookup(new Set([1]));
    const get = createWorkflowVersionCache(lookup);
    await assert.rejects(get('t1', 'wf', 1), /no version 1/);
    failing.clear();
    assert.equal((await get('t1', 'wf', 1)).version, 1);
    await get('t1', 'wf', 1);
    assert.deepEqual(asked, ['t1/wf/v1', 't1/wf/v1'], 'asked again once, then kept');
  });

  it('given more versions than it keeps, drops the least recently used first', async () => {
    const { asked, lookup } = countingLookup();
    const get = createWorkflowVersionCache(lookup, 2);
    await get('t', 'wf', 1);
    await get('t', 'wf', 2);
    await get('t', 'wf', 1); // used again: version 2 is now the least recently used
    await get('t', 'wf', 3);
    asked.length = 0;
    await get('t', 'wf', 1);
    await get('t', 'wf', 3);
    assert.deepEqual(asked, [], 'versions 1 and 3 were kept');
    await get('t', 'wf', 2);
    assert.deepEqual(asked, ['t/wf/v2'], 'version 2 was dropped');
  });
});
