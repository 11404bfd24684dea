/**
 * A JsWorkflows run as a tree: steps under the step that scheduled them, attempts together,
 * statuses and durations of whole branches; HubSpot actions' steps as roots in workflow order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { branchKeys, formatDuration, hasWorkflowSteps, runTree, type RunExecution } from './web/lib/run-tree.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function x(id: string, patch: Partial<RunExecution> & { name?: string; branch?: string; by?: string | null; from?: number; to?: number | null }): RunExecution {
  const { name, branch, by, from = 0, to = from + 1, ...rest } = patch;
  return {
    id,
    actionId: 'flow',
    step: 0,
    attempt: 1,
    status: 'succeeded',
    durationMs: 100,
    requestedAt: at(from),
    finishedAt: to === null ? null : at(to),
    ...(name ? { workflowStep: { name, branch: branch ?? 'root', depth: 0, scheduledBy: by ?? null, dueAt: null } } : {}),
    ...rest,
  };
}

describe('a run as a tree', () => {
  it('puts each step under the one that scheduled it, children in the order they ran', () => {
    const tree = runTree([
      x('e-start', { name: 'start', from: 0, to: 1 }),
      x('e-b', { name: 'notify', branch: 'b2', by: 'e-start', from: 3, to: 4 }),
      x('e-a', { name: 'charge', branch: 'b1', by: 'e-start', from: 2, to: 3 }),
      x('e-a2', { name: 'receipt', branch: 'b1.1', by: 'e-a', from: 5, to: 9 }),
    ]);
    assert.equal(tree.length, 1);
    const start = tree[0]!;
    assert.equal(start.name, 'start');
    assert.deepEqual(
      start.children.map((c) => c.name),
      ['charge', 'notify'],
    );
    assert.deepEqual(
      start.children[0]!.children.map((c) => c.name),
      ['receipt'],
    );
    assert.equal(start.size, 4);
    assert.equal(start.spanMs, 9000, "the whole run's span: from start's request to the last finish");
    assert.equal(start.children[0]!.spanMs, 7000, "charge's branch ends when receipt does");
    assert.deepEqual(branchKeys(tree), ['0/root', '0/b1']);
  });

  it("keeps a step's attempts together, its status the last one's, its time their sum, and counts failures up the tree", () => {
    const tree = runTree([
      x('s', { name: 'start' }),
      x('c1', { name: 'charge', branch: 'b1', by: 's', status: 'retry_scheduled', attempt: 1, from: 2, to: 3, durationMs: 40 }),
      x('c2', { name: 'charge', branch: 'b1', by: 's', status: 'failed', attempt: 2, from: 5, to: 6, durationMs: 60 }),
    ]);
    const charge = tree[0]!.children[0]!;
    assert.deepEqual(
      charge.attempts.map((a) => a.id),
      ['c1', 'c2'],
    );
    assert.equal(charge.status, 'failed');
    assert.equal(charge.durationMs, 100);
    assert.equal(tree[0]!.failed, 1, 'a collapsed parent still says one step under it failed');
  });

  it('shows a step waiting for its resume URL as waiting, and a branch still open has no span yet', () => {
    const tree = runTree([
      x('s', { name: 'start', from: 0, to: 1 }),
      x('w', { name: 'onApproved', branch: 'b1', by: 's', status: 'waiting', requestedAt: null, finishedAt: null, durationMs: 0, wait: { state: 'waiting' } }),
    ]);
    assert.equal(tree[0]!.children[0]!.status, 'waiting');
    assert.equal(tree[0]!.spanMs, undefined, 'unfinished: no span');
    assert.equal(hasWorkflowSteps(tree[0]!.attempts), true);
  });

  it("makes HubSpot actions' steps roots in workflow order, and a step whose parent is not in the list a root too", () => {
    const tree = runTree([x('h2', { actionId: 'second', step: 1, from: 5 }), x('h1', { actionId: 'first', step: 0, from: 1 }), x('o', { name: 'orphan', branch: 'b9', by: 'gone', step: 2, from: 7 })]);
    assert.deepEqual(
      tree.map((n) => n.name),
      ['first', 'second', 'orphan'],
    );
    assert.equal(hasWorkflowSteps([x('h', {})]), false);
  });

  it('says durations the way people read them', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(3240), '3.2 s');
    assert.equal(formatDuration(245_000), '4 min 05 s');
    assert.equal(formatDuration(2 * 3600_000 + 3 * 60_000), '2 h 03 min');
    assert.equal(formatDuration(undefined), '—');
  });
});
