/**
 * Waiting without polling: a watch is woken by its own run's events of the types it asked for
 * (never another tenant's, never a change it was not told of), keeps a change that came before
 * it was asked, and `readUntil` reads again only when told.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHistoryChangesHub, readUntil } from './history-changes.ts';

const FINISHED = new Set(['EnrollmentCompleted', 'EnrollmentFailed']);

describe('history changes', () => {
  it('wakes a watch with its own run’s events of the types it asked for, and keeps one that came before it asked', async () => {
    const hub = createHistoryChangesHub();
    const watch = hub.watch('t1', 'enr_1', FINISHED);
    hub.publish([
      { tenantId: 't1', runId: 'enr_1', type: 'ActionStarted' },
      { tenantId: 't2', runId: 'enr_1', type: 'EnrollmentCompleted' },
      { tenantId: 't1', runId: 'enr_2', type: 'EnrollmentCompleted' },
    ]);
    assert.equal(await watch.changed(0), false, 'another type, another tenant’s run of the same id, another run: no change');
    hub.publish([{ tenantId: 't1', runId: 'enr_1', type: 'EnrollmentCompleted' }]);
    assert.equal(await watch.changed(60_000), true, 'told before it asked: answered at once');
    assert.equal(await watch.changed(0), false, 'each change is reported once');
    const later = watch.changed(60_000);
    hub.publish([{ tenantId: 't1', runId: 'enr_1', type: 'EnrollmentFailed' }]);
    assert.equal(await later, true);
    watch.close();
  });

  it('ends a wait when its signal aborts, and forgets a closed watch', async () => {
    const hub = createHistoryChangesHub();
    const watch = hub.watch('t1', 'enr_1', FINISHED);
    const abort = new AbortController();
    const waiting = watch.changed(60_000, abort.signal);
    abort.abort();
    assert.equal(await waiting, false);
    watch.close();
    hub.publish([{ tenantId: 't1', runId: 'enr_1', type: 'EnrollmentCompleted' }]);
    assert.equal(await watch.changed(0), false, 'a closed watch is told nothing');
  });

  it('reads again only when the run’s history changed, and returns the first result that is the answer', async () => {
    const hub = createHistoryChangesHub();
    const watch = hub.watch('t1', 'enr_1', FINISHED);
    const states = ['running', 'completed'];
    let reads = 0;
    const read = async () => {
      const status = states[Math.min(reads++, states.length - 1)]!;
      // The run finishes right after the first read: the wait is told, and reads once more.
      if (reads === 1) setImmediate(() => hub.publish([{ tenantId: 't1', runId: 'enr_1', type: 'EnrollmentCompleted' }]));
      return { status };
    };
    const out = await readUntil(watch, read, (v) => v.status !== 'running', Date.now() + 60_000, Date.now);
    watch.close();
    assert.deepEqual(out, { status: 'completed' });
    assert.equal(reads, 2);
  });

  it('with afterChange, reads first once the run changed (a run the request has just started)', async () => {
    const hub = createHistoryChangesHub();
    const watch = hub.watch('t1', 'enr_1', FINISHED);
    let reads = 0;
    const waiting = readUntil(
      watch,
      async () => (reads++, { status: 'completed' }),
      (v) => v.status !== 'running',
      Date.now() + 60_000,
      Date.now,
      undefined,
      true,
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reads, 0);
    hub.publish([{ tenantId: 't1', runId: 'enr_1', type: 'EnrollmentCompleted' }]);
    assert.deepEqual(await waiting, { status: 'completed' });
    assert.equal(reads, 1);
    watch.close();
  });

  it('answers at once with nothing read when the request is already aborted (a gateway that is stopping)', async () => {
    const hub = createHistoryChangesHub();
    const abort = new AbortController();
    abort.abort();
    let reads = 0;
    const out = await readUntil(
      hub.watch('t1', 'enr_1', FINISHED),
      async () => ({ status: String(++reads) }),
      () => false,
      Date.now() + 60_000,
      Date.now,
      abort.signal,
    );
    assert.equal(out, undefined);
    assert.equal(reads, 0);
  });
});
