/**
 * The lease reaper over the claim store on SQLite (in memory), on a clock the test moves: a claim
 * whose lease ran out with no outcome is reported lost once (its lost records stored as its
 * outcome and appended), a renewed or finished claim is left alone, and of two reapers only one
 * appends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import type { LogRecord } from '@codestep/event-log';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { createClaimStore } from './claim.store.ts';
import { startLeaseReaper } from './lease.reaper.ts';

const LEASE = 1_000;

const record = (name: string): LogRecord => ({ topic: 'codestep.actions', key: 'enr1', value: new TextEncoder().encode(name), headers: { h: name }, id: `id-${name}` });
const names = (records: LogRecord[]) => records.map((r) => new TextDecoder().decode(r.value));

/** An executor's claim store and reaper over `store`, appending to `appended`, on the clock `time`. */
async function executorOver(store: DocumentStore, executorId: string, time: { now: number }, appended: LogRecord[][]) {
  const claims = createClaimStore({ store, clock: () => time.now, logger: silentLogger, executorId, leaseMs: LEASE });
  await claims.ensureCollection();
  const reaper = startLeaseReaper({ claims, eventLog: { append: async (records) => void appended.push(records) }, logger: silentLogger, intervalMs: 60_000 });
  return { claims, reaper };
}

describe('lease reaper', () => {
  it('given a claim not renewed for a whole lease, records it lost with its lost records and appends them once', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper } = await executorOver(store, 'x1', time, appended);
    await claims.claim('ex1', [record('lost-ex1')]);
    time.now += LEASE - 1;
    assert.equal(await reaper.reapOnce(), 0, 'the lease still runs');
    time.now += 1;
    assert.equal(await reaper.reapOnce(), 1);
    assert.equal(await reaper.reapOnce(), 0, 'reported once');
    assert.deepEqual(appended.map(names), [['lost-ex1']]);
    const claim = (await claims.get('ex1'))!.doc;
    assert.equal(claim.done, true);
    assert.equal(claim.leaseOpen, undefined);
    // The request consumed again produces the same records, without a second report.
    assert.deepEqual(names(await claims.outcomeOfClaimed('ex1', null, () => [record('other')])), ['lost-ex1']);
    await reaper.stop();
    await store.close();
  });

  it('given a claim renewed by its live owner, leaves it alone; and its outcome recorded later stands', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper } = await executorOver(store, 'x1', time, appended);
    const token = (await claims.claim('ex1', [record('lost-ex1')]))!;
    for (let i = 0; i < 6; i++) {
      time.now += LEASE / 3;
      assert.equal(await claims.renew('ex1', token), true);
      assert.equal(await reaper.reapOnce(), 0);
    }
    assert.deepEqual(names(await claims.recordOutcome('ex1', token, [record('succeeded')])), ['succeeded']);
    assert.deepEqual(appended, []);
    await reaper.stop();
    await store.close();
  });

  it('given a finished claim, leaves it alone however old it is', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper } = await executorOver(store, 'x1', time, appended);
    const token = (await claims.claim('ex1', [record('lost-ex1')]))!;
    await claims.recordOutcome('ex1', token, [record('succeeded')]);
    time.now += 100 * LEASE;
    assert.equal(await reaper.reapOnce(), 0);
    assert.deepEqual(appended, []);
    assert.deepEqual(names(await claims.outcomeOfClaimed('ex1', null, () => [record('other')])), ['succeeded']);
    await reaper.stop();
    await store.close();
  });

  it('given two reapers racing over the same lapsed claims, each claim is appended once', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const a = await executorOver(store, 'x1', time, appended);
    const b = await executorOver(store, 'x2', time, appended);
    await a.claims.claim('ex1', [record('lost-ex1')]);
    await a.claims.claim('ex2', [record('lost-ex2')]);
    time.now += 2 * LEASE;
    const [ra, rb] = await Promise.all([a.reaper.reapOnce(), b.reaper.reapOnce()]);
    assert.equal(ra + rb, 2);
    assert.deepEqual(
      appended
        .flat()
        .map((r) => new TextDecoder().decode(r.value))
        .sort(),
      ['lost-ex1', 'lost-ex2'],
    );
    await Promise.all([a.reaper.stop(), b.reaper.stop()]);
    await store.close();
  });

  it('given a stalled owner finishing after the reaper reported it lost, the lost outcome stands', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper } = await executorOver(store, 'x1', time, appended);
    const token = (await claims.claim('ex1', [record('lost-ex1')]))!;
    time.now += LEASE;
    assert.equal(await reaper.reapOnce(), 1);
    assert.equal(await claims.renew('ex1', token), false, 'the owner learns the claim is no longer its own');
    assert.deepEqual(names(await claims.recordOutcome('ex1', token, [record('succeeded')])), ['lost-ex1']);
    await reaper.stop();
    await store.close();
  });
});
