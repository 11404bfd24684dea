/**
 * The run-ends half of the workflow runs projection on a real store (`workflow-runs.projection.test.ts`
 * on SQLite, `workflow-runs.projection.int.test.ts` on MongoDB/FerretDB): a batch of ended
 * enrollments is read, inserted and read back at once, a run another writer created or already
 * holds is written under compare-and-set, and applying the batch again writes nothing.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { envelope, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { applyToRunState, emptyRunState, type RunState } from '@codestep/workflows';
import { WORKFLOW_RUNS, applyToWorkflowRuns, ensureWorkflowRuns } from './workflow-runs.projection.ts';

const completed = (id: string): Envelope =>
  envelope({ eventId: `done-${id}`, tenantId: 't1', aggregateId: id, occurredAt: 2 }, { $case: 'enrollmentCompleted', value: { enrollmentId: id, outputs: {} } });
const retried = (id: string): Envelope =>
  envelope(
    { eventId: `retried-${id}`, tenantId: 't1', aggregateId: id, occurredAt: 1 },
    { $case: 'enrollmentRetried', value: { enrollmentId: id, round: 1, actionId: 'a', workflowVersion: 1, executionId: 'x', jobId: 'j', reason: '' } },
  );
const failed = (id: string): Envelope =>
  envelope(
    { eventId: `failed-${id}`, tenantId: 't1', aggregateId: id, occurredAt: 3 },
    { $case: 'enrollmentFailed', value: { enrollmentId: id, failedActionId: 'a', error: undefined, context: undefined } },
  );

/** The store's calls, by method and collection (what the adapter turns into commands). */
function counting(store: DocumentStore): { store: DocumentStore; calls: string[] } {
  const calls: string[] = [];
  const counted = new Proxy(store, {
    get: (target, name, receiver) => {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, calls };
}

export function runEndsScenarios(open: () => Promise<{ store: DocumentStore; close(): Promise<void> }>): void {
  it('given ended enrollments that ran no step, one batch reads, inserts and reads back once, whatever its size', async () => {
    const { store, close } = await open();
    try {
      await ensureWorkflowRuns(store);
      const ids = Array.from({ length: 20 }, (_, i) => `enr${i}`);
      const { store: counted, calls } = counting(store);
      await applyToWorkflowRuns(counted, ids.map(completed));
      assert.deepEqual(calls, ['getMany', 'writeVersioned', 'getMany']);
      const stored = await store.getMany<RunState>(WORKFLOW_RUNS, ids);
      for (const id of ids) assert.deepEqual(stored.get(id), { id, version: 1, doc: applyToRunState(emptyRunState('t1'), completed(id)) });
      calls.length = 0;
      await applyToWorkflowRuns(counted, ids.map(completed));
      assert.deepEqual(calls, ['getMany'], 'applied again: one read, no write');
      assert.equal((await store.get<RunState>(WORKFLOW_RUNS, 'enr0'))?.version, 1, 'nothing rewritten');
    } finally {
      await close();
    }
  });

  it('folds an end over a run stored before the batch, or created by another writer between the read and the insert', async () => {
    const { store, close } = await open();
    try {
      await ensureWorkflowRuns(store);
      const before = applyToRunState(emptyRunState('t1'), retried('old'));
      assert.equal(await store.compareAndSet(WORKFLOW_RUNS, 'old', 0, before), true);
      const racer = applyToRunState(emptyRunState('t1'), retried('raced'));
      // The step machine creates `raced` after the batch's first read, before its insert.
      const raced: DocumentStore = Object.create(store) as DocumentStore;
      raced.writeVersioned = async (collection, writes) => {
        assert.equal(await store.compareAndSet(WORKFLOW_RUNS, 'raced', 0, racer), true);
        return store.writeVersioned(collection, writes);
      };
      await applyToWorkflowRuns(raced, [failed('old'), failed('raced'), completed('new')]);
      const stored = await store.getMany<RunState>(WORKFLOW_RUNS, ['old', 'raced', 'new']);
      assert.deepEqual(stored.get('old'), { id: 'old', version: 2, doc: applyToRunState(before, failed('old')) });
      assert.deepEqual(stored.get('raced'), { id: 'raced', version: 2, doc: applyToRunState(racer, failed('raced')) }, "the other writer's state kept, the end folded over it");
      assert.deepEqual(stored.get('new'), { id: 'new', version: 1, doc: applyToRunState(emptyRunState('t1'), completed('new')) });
    } finally {
      await close();
    }
  });
}
