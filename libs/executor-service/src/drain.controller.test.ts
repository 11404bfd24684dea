/**
 * The drain controller, with runs the test holds and releases: batches run up to the concurrency;
 * draining starts nothing new and appends unstarted requests again; a run still going at the drain
 * timeout is handed back (claim released, request appended again, late result dropped).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import type { ConsumedRecord, LogRecord } from '@codestep/event-log';
import { DrainController, Draining, HandedBack, Requeue, requeued, type BatchRun } from './drain.controller.ts';

const text = (r: LogRecord) => new TextDecoder().decode(r.value);

function batchOf(n: number): ConsumedRecord[] {
  return Array.from({ length: n }, (_, i) => ({ topic: 'codestep.actions', key: `k${i}`, value: new TextEncoder().encode(`req${i}`), headers: {}, id: `id${i}`, partition: 0, offset: 10 + i }));
}

/** Runs the test holds: each produces `out<key>` once released; tracks how many run at once. */
function heldRuns() {
  const gates = new Map<string, PromiseWithResolvers<void>>();
  const gate = (key: string) => gates.get(key) ?? (gates.set(key, Promise.withResolvers<void>()), gates.get(key)!);
  const started: string[] = [];
  let active = 0;
  let maxActive = 0;
  return {
    started,
    get maxActive() {
      return maxActive;
    },
    release: (key: string) => gate(key).resolve(),
    async runOne(record: ConsumedRecord): Promise<LogRecord[]> {
      started.push(record.key);
      maxActive = Math.max(maxActive, ++active);
      try {
        await gate(record.key).promise;
      } finally {
        active--;
      }
      return [{ topic: 'codestep.actions', key: record.key, value: new TextEncoder().encode(`out-${record.key}`), headers: {} }];
    },
  };
}

function controller(options: { concurrency?: number; drainTimeoutMs?: number; urgentSlots?: number } = {}) {
  const released: string[] = [];
  const drain = new DrainController({
    logger: silentLogger,
    concurrency: options.concurrency ?? 2,
    drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
    releaseClaim: async (id) => void released.push(id),
    // Keys starting with `r` are retries.
    urgent: (r) => r.key.startsWith('r'),
    ...(options.urgentSlots !== undefined ? { urgentSlots: options.urgentSlots } : {}),
  });
  return { drain, released };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Drains `drain` as the executor does: the subscription stops once the batch in progress is committed. */
const drainAfter = (drain: DrainController, batch: Promise<unknown>) =>
  drain.drain(() =>
    batch.then(
      () => {},
      () => {},
    ),
  );

describe('drain controller', () => {
  it('given a batch larger than the concurrency, runs at most that many at once and returns the records in batch order', async () => {
    const runs = heldRuns();
    const { drain } = controller({ concurrency: 2 });
    const done = drain.runBatch(batchOf(4), (r) => runs.runOne(r));
    await tick();
    assert.deepEqual(runs.started, ['k0', 'k1']);
    for (const key of ['k1', 'k0', 'k3', 'k2']) {
      runs.release(key);
      await tick();
    }
    assert.deepEqual((await done).map(text), ['out-k0', 'out-k1', 'out-k2', 'out-k3']);
    assert.equal(runs.maxActive, 2);
  });

  it('given every slot held by long runs, starts a retry at once in the slot kept for retries, and only retries take it', async () => {
    const runs = heldRuns();
    const { drain } = controller({ concurrency: 1, urgentSlots: 1 });
    const first = drain.runBatch(batchOf(2), (r) => runs.runOne(r));
    await tick();
    assert.deepEqual(runs.started, ['k0'], 'one slot for first attempts');
    const retries = drain.runBatch(
      batchOf(2).map((r) => ({ ...r, key: `r${r.key}` })),
      (r) => runs.runOne(r),
    );
    await tick();
    assert.deepEqual(runs.started, ['k0', 'rk0'], "the retry starts in the retries' slot while k0 runs; the second retry waits for a slot");
    runs.release('rk0');
    await tick();
    assert.deepEqual(runs.started, ['k0', 'rk0', 'rk1'], "the retries' slot freed goes to the waiting retry, not to k1");
    runs.release('k0');
    await tick();
    assert.deepEqual(runs.started, ['k0', 'rk0', 'rk1', 'k1']);
    runs.release('rk1');
    runs.release('k1');
    assert.deepEqual((await retries).map(text), ['out-rk0', 'out-rk1']);
    assert.deepEqual((await first).map(text), ['out-k0', 'out-k1']);
    assert.equal(runs.maxActive, 2, 'concurrency plus the slot kept for retries');
  });

  it('given no slot kept for retries, a retry waits for a free slot but takes it before the first attempts waiting', async () => {
    const runs = heldRuns();
    const { drain } = controller({ concurrency: 1 });
    const first = drain.runBatch(batchOf(2), (r) => runs.runOne(r));
    await tick();
    const retry = drain.runBatch([{ ...batchOf(1)[0]!, key: 'rk0' }], (r) => runs.runOne(r));
    await tick();
    assert.deepEqual(runs.started, ['k0']);
    runs.release('k0');
    await tick();
    assert.deepEqual(runs.started, ['k0', 'rk0']);
    runs.release('rk0');
    runs.release('k1');
    await Promise.all([first, retry]);
    assert.equal(runs.maxActive, 1);
  });

  it('given a drain while a batch runs, lets the running one finish, starts none of the rest, and appends those again', async () => {
    const runs = heldRuns();
    const { drain } = controller({ concurrency: 1 });
    const batch = batchOf(3);
    const done = drain.runBatch(batch, (r) => runs.runOne(r));
    await tick();
    const drained = drainAfter(drain, done);
    runs.release('k0');
    const out = await done;
    await drained;
    assert.deepEqual(runs.started, ['k0']);
    assert.deepEqual(out.map(text), ['out-k0', 'req1', 'req2']);
    assert.deepEqual(
      out.slice(1).map((r) => r.id),
      ['id1~again@0:11', 'id2~again@0:12'],
      'a new record id, so the log keeps the copy',
    );
    assert.deepEqual(out.slice(1), batch.slice(1).map(requeued));
  });

  it('given a batch arriving while draining, refuses it so it is delivered again', async () => {
    const { drain } = controller();
    await drain.drain(async () => {});
    await assert.rejects(
      drain.runBatch(batchOf(1), async () => []),
      (e) => e instanceof Draining && e.code === 'EXECUTOR_DRAINING',
    );
  });

  it('given a run still going at the drain timeout, releases its claim, appends its request again and drops its late result', async () => {
    const runs = heldRuns();
    const { drain, released } = controller({ drainTimeoutMs: 50 });
    let lateOutcome: unknown;
    const runOne = async (record: ConsumedRecord) => {
      await drain.claimed(`ex-${record.key}`);
      const out = await runs.runOne(record);
      try {
        drain.finished(`ex-${record.key}`);
      } catch (error) {
        lateOutcome = error;
        throw error;
      }
      return out;
    };
    const done = drain.runBatch(batchOf(1), runOne);
    await tick();
    const stopAt = Date.now();
    await drainAfter(drain, done);
    assert.ok(Date.now() - stopAt < 1_000, 'the drain gave up at its timeout');
    assert.deepEqual((await done).map(text), ['req0'], 'the request is appended again, no result');
    assert.deepEqual(released, ['ex-k0']);
    assert.throws(() => drain.assertNotHandingBack('ex-new'), HandedBack);
    await assert.rejects(drain.claimed('ex-late'), HandedBack);
    assert.deepEqual(released, ['ex-k0', 'ex-late'], 'a claim taken after the timeout is given straight back');
    const settled = drain.settle();
    runs.release('k0');
    await settled;
    assert.ok(lateOutcome instanceof HandedBack, 'the run finishing after the hand-back is told its result is not to be reported');
  });

  it('given every run finished before the timeout, hands nothing back', async () => {
    const runs = heldRuns();
    const { drain, released } = controller({ drainTimeoutMs: 50 });
    const done = drain.runBatch(batchOf(1), async (record) => {
      await drain.claimed('ex0');
      const out = await runs.runOne(record);
      drain.finished('ex0');
      return out;
    });
    await tick();
    runs.release('k0');
    await drainAfter(drain, done);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual((await done).map(text), ['out-k0']);
    assert.deepEqual(released, []);
    assert.doesNotThrow(() => drain.assertNotHandingBack('ex1'));
  });

  it('given a run failing other than by a hand-back, fails the batch so it is not committed', async () => {
    const { drain } = controller();
    await assert.rejects(
      drain.runBatch(batchOf(2), async () => Promise.reject(new Error('store down'))),
      /store down/,
    );
  });

  it('given a request that asks to be appended again (held by another run), commits the rest of the batch and appends that request again', async () => {
    const { drain } = controller({ concurrency: 2 });
    const out = await drain.runBatch(batchOf(3), async (r) => {
      if (r.key === 'k1') throw new Requeue('execution ex1 is claimed by x2; waiting for its result');
      return [{ topic: 'codestep.actions', key: r.key, value: new TextEncoder().encode(`out-${r.key}`), headers: {} }];
    });
    assert.deepEqual(out.map(text), ['out-k0', 'out-k2', 'req1']);
    assert.equal(out[2]!.id, 'id1~again@0:11');
  });

  it('given a request appended again more than once, keeps one suffix naming its latest position', () => {
    const [first] = batchOf(1);
    const again = { ...first!, ...requeued(first!), partition: 0, offset: 40 };
    assert.equal(requeued(again).id, 'id0~again@0:40');
  });

  it('appends a request again to the partition it was consumed from (a retry routed there stays there)', () => {
    const [record] = batchOf(1);
    assert.equal(requeued({ ...record!, partition: 2 }).targetPartition, 2);
  });

  it('appends a request without a record id again under its key', () => {
    const [record] = batchOf(1);
    const { id: _id, ...withoutId } = record!;
    assert.equal(requeued(withoutId).id, 'k0~again@0:10');
  });
});

describe('drain controller: runs a batch leaves', () => {
  /** A controller leaving runs after 30 ms; what it appends again outside a batch is kept. */
  function leaving(options: { concurrency?: number; drainTimeoutMs?: number } = {}) {
    const released: string[] = [];
    const appended: LogRecord[] = [];
    const drain = new DrainController({
      logger: silentLogger,
      concurrency: options.concurrency ?? 2,
      drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
      releaseClaim: async (id) => void released.push(id),
      detachAfterMs: 30,
      appendAgain: async (records) => void appended.push(...records),
    });
    return { drain, released, appended };
  }
  /** A run as the executor's: claims, runs (held), then asks whether its batch left it; if so, "publishes" its own outcome. */
  function claimingRuns(drain: DrainController) {
    const runs = heldRuns();
    const published: string[] = [];
    const outcomes: unknown[] = [];
    const runOne = async (record: ConsumedRecord, run: BatchRun) => {
      await drain.claimed(`ex-${record.key}`, run);
      try {
        const out = await runs.runOne(record);
        drain.finished(`ex-${record.key}`);
        if (!run.leftByBatch()) return out;
        published.push(...out.map(text));
        return out;
      } catch (error) {
        outcomes.push(error);
        throw error;
      }
    };
    return { runs, runOne, published, outcomes };
  }
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('given a run outlasting its batch, commits the batch without it; the run appends its own outcome and holds its slot until then', async () => {
    const { drain, appended } = leaving({ concurrency: 2 });
    const { runs, runOne, published } = claimingRuns(drain);
    const first = drain.runBatch(batchOf(2), runOne);
    await tick();
    runs.release('k1');
    assert.deepEqual((await first).map(text), ['out-k1'], 'committed without the long run: neither its result nor its request');
    // The next batch of the partition runs while k0 goes on, in the one slot left.
    const next = batchOf(3)
      .slice(1)
      .map((r) => ({ ...r, key: `n${r.key}`, offset: r.offset + 10 }));
    const second = drain.runBatch(next, runOne);
    await tick();
    assert.deepEqual(runs.started, ['k0', 'k1', 'nk1'], 'at most the concurrency at once, the run left behind included');
    runs.release('nk1');
    await tick();
    runs.release('nk2');
    assert.deepEqual((await second).map(text), ['out-nk1', 'out-nk2']);
    runs.release('k0');
    await tick();
    assert.deepEqual(published, ['out-k0'], 'the run left behind appends its outcome itself');
    assert.deepEqual(appended, [], 'and its request is not appended again');
    assert.equal(runs.maxActive, 2);
  });

  it('given a run its batch left ending with no outcome (a peer down, a held claim), appends its request again', async () => {
    const { drain, appended } = leaving();
    const batch = batchOf(1);
    const gate = Promise.withResolvers<void>();
    assert.deepEqual(
      await drain.runBatch(batch, async () => {
        await gate.promise;
        throw new Error('the credentials service is down');
      }),
      [],
    );
    gate.resolve();
    await tick();
    assert.deepEqual(appended, batch.map(requeued));
  });

  it('given a run recording its outcome when its time is up, waits for it and commits its result with the batch', async () => {
    const { drain } = leaving();
    const recorded = Promise.withResolvers<void>();
    const out = drain.runBatch(batchOf(1), async (record, run) => {
      assert.equal(run.leftByBatch(), false);
      await recorded.promise;
      return [{ topic: 'codestep.actions', key: record.key, value: new TextEncoder().encode('out-k0'), headers: {} }];
    });
    await wait(60);
    recorded.resolve();
    assert.deepEqual((await out).map(text), ['out-k0']);
  });

  it('given a drain, waits for the runs batches left before it resolves', async () => {
    const { drain, released, appended } = leaving();
    const { runs, runOne, published } = claimingRuns(drain);
    assert.deepEqual(await drain.runBatch(batchOf(1), runOne), []);
    let drained = false;
    const stopping = drain.drain(async () => {}).then(() => (drained = true));
    await wait(20);
    assert.equal(drained, false, 'the drain waits for the run left behind');
    runs.release('k0');
    await stopping;
    assert.deepEqual(published, ['out-k0']);
    assert.deepEqual(released, []);
    assert.deepEqual(appended, []);
  });

  it('given a run its batch left still going at the drain timeout, appends its request again, then releases its claim and drops its late result', async () => {
    const { drain, released, appended } = leaving({ drainTimeoutMs: 50 });
    const { runs, runOne, published, outcomes } = claimingRuns(drain);
    const batch = batchOf(1);
    assert.deepEqual(await drain.runBatch(batch, runOne), []);
    await drain.drain(async () => {});
    assert.deepEqual(appended, batch.map(requeued), 'appended again at once: no batch will commit it');
    assert.deepEqual(released, ['ex-k0']);
    runs.release('k0');
    await drain.settle();
    assert.ok(outcomes[0] instanceof HandedBack);
    assert.deepEqual(published, []);
    assert.equal(appended.length, 1, 'appended again once');
  });
});

describe('drain controller: urgent requests', () => {
  it('given a retry behind first attempts, starts it first in its batch and gives it the next free slot over other batches', async () => {
    const runs = heldRuns();
    const drain = new DrainController({ logger: silentLogger, concurrency: 1, drainTimeoutMs: 10_000, releaseClaim: async () => {}, urgent: (r) => r.key.startsWith('retry') });
    const first = drain.runBatch(batchOf(2), (r) => runs.runOne(r));
    await tick();
    const other = drain.runBatch(
      batchOf(2).map((r) => ({ ...r, key: `b${r.key}` })),
      (r) => runs.runOne(r),
    );
    const retries = drain.runBatch(
      batchOf(2).map((r, i) => ({ ...r, key: i === 1 ? 'retry1' : `c${r.key}` })),
      (r) => runs.runOne(r),
    );
    await tick();
    for (const key of ['k0', 'retry1', 'k1', 'bk0', 'ck0', 'bk1']) {
      runs.release(key);
      await tick();
    }
    await Promise.all([first, other, retries]);
    assert.deepEqual(runs.started.slice(0, 2), ['k0', 'retry1'], 'the retry took the first free slot, ahead of the batches waiting before it');
    assert.deepEqual(runs.started.slice(2).sort(), ['bk0', 'bk1', 'ck0', 'k1']);
  });
});
