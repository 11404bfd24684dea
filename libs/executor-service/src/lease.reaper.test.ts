/**
 * The lease reaper over the claim store on SQLite (in memory), on a clock the test moves: the
 * claims of an executor whose liveness stopped for a lease are reported lost once (EXECUTOR_LOST
 * naming a partition the reaper consumes, recorded as its outcome and appended), those of a live
 * executor and finished claims are left alone, of two reapers only one appends, and a reaper that
 * lost touch with the store reports nothing until it has seen the liveness unchanged for a whole
 * lease again. A lease is judged on the reaper's clock alone (an owner's clock far off changes
 * nothing), and a reaper whose looks come late (a starved process) still reports within a few
 * looks, each long wait counting a third of a lease. A look reads only the liveness documents,
 * the open claims once a lease, and the claims of an executor found dead; claims no live executor
 * holds (marked unheld, or of older versions) are judged by their own version.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowDefinition } from '@codestep/contracts';
import { silentLogger } from '@codestep/core';
import type { LogRecord } from '@codestep/event-log';
import { fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { parseWorkflowInput, startEnrollment } from '@codestep/workflows';
import { CLAIMS, createClaimStore, EXECUTORS, type ClaimDoc, type ClaimStore } from './claim.store.ts';
import { maxStepMs, partitionFor, startLeaseReaper } from './lease.reaper.ts';

const LEASE = 1_000;
const INTERVAL = 100;
const input = parseWorkflowInput({ name: 'one', actions: [{ id: 'a', code: 'exports.main = async () => ({ outputFields: {} })' }] });
const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: input.name, objectType: input.objectType, actions: input.actions, createdAt: 0 };

/** The request of enrollment `enrollmentId`'s first action as consumed from partition 0 (its value and partition), and its execution id. */
function request(enrollmentId: string): { executionId: string; request: { value: Uint8Array; partition: number } } {
  const [, requested] = startEnrollment(wf, { tenantId: 't1', enrollmentId, object: { objectType: 'CONTACT', objectId: '1', properties: {} }, portalId: 0 }, 0) as [Envelope, Envelope];
  if (requested.event.$case !== 'actionRequested') throw new Error('no request');
  return { executionId: requested.event.value.executionId, request: { value: toRecord(requested).value, partition: 0 } };
}

/** What the appended records say: execution id, error code and retry partition of each failure. */
const reports = (appended: LogRecord[][]) =>
  appended.flat().map((r) => {
    const env = fromRecord(r.value);
    if (env?.event.$case !== 'actionFailed') throw new Error(`not a failure: ${env?.event.$case}`);
    return { executionId: env.event.value.executionId, code: env.event.value.error?.code, retryLanePartition: env.event.value.retryLanePartition };
  });

/** An executor's claim store and reaper over `store`, consuming `partitions`, appending to `appended`, on the clock `time`. */
async function executorOver(store: DocumentStore, executorId: string, time: { now: number }, appended: LogRecord[][], partitions = [1, 2]) {
  const claims: ClaimStore = createClaimStore({ store, clock: () => time.now, logger: silentLogger, executorId, leaseMs: LEASE });
  await claims.ensureCollection();
  const reaper = startLeaseReaper({
    claims,
    eventLog: { append: async (records) => void appended.push(records) },
    logger: silentLogger,
    clock: () => time.now,
    leaseMs: LEASE,
    intervalMs: INTERVAL,
    partitions: () => partitions,
  });
  /** Looks every interval for `ms`, as the timer would, while the executors of `live` renew their liveness: the claims reported lost. */
  const lookFor = async (ms: number, live: ClaimStore[] = []) => {
    let reported = 0;
    for (let t = 0; t < ms; t += INTERVAL) {
      time.now += INTERVAL;
      for (const l of live) await l.heartbeat();
      reported += await reaper.reapOnce();
    }
    return reported;
  };
  return { claims, reaper, lookFor };
}

describe('lease reaper', () => {
  it('given a claim not renewed for a whole lease, reports it lost once, naming a partition it consumes, and a redelivery produces the same report', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const dead = await executorOver(store, 'dead', time, appended);
    const live = await executorOver(store, 'live', time, appended, [2]);
    const req = request('enr1');
    await dead.claims.claim(req.executionId, req.request);
    assert.equal(await live.lookFor(LEASE - INTERVAL), 0, 'the lease still runs');
    assert.equal(await live.lookFor(2 * INTERVAL), 1);
    assert.equal(await live.lookFor(LEASE), 0, 'reported once');
    assert.deepEqual(reports(appended), [{ executionId: req.executionId, code: 'EXECUTOR_LOST', retryLanePartition: 2 }]);
    assert.equal(appended[0]![0]!.targetPartition, 0, "in the request's partition, with the execution's other events");
    const claim = (await live.claims.get(req.executionId))!.doc;
    assert.equal(claim.done, true);
    assert.equal(claim.leaseOpen, undefined);
    assert.equal(claim.request, undefined);
    // The request consumed again produces the same records, without a second report.
    assert.deepEqual(await live.claims.outcomeOfClaimed(req.executionId, null, () => []), appended[0]);
    await Promise.all([dead.reaper.stop(), live.reaper.stop()]);
    await store.close();
  });

  it('given more open claims than one page (a dead executor held 250), reports them all lost after one lease, not a page per lease', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const dead = await executorOver(store, 'dead', time, appended);
    const live = await executorOver(store, 'live', time, appended, [2]);
    const ids = new Set<string>();
    for (let i = 0; i < 250; i++) {
      const req = request(`enr${i}`);
      ids.add(req.executionId);
      await dead.claims.claim(req.executionId, req.request);
    }
    assert.equal(await live.lookFor(LEASE - INTERVAL), 0, 'the leases still run');
    assert.equal(await live.lookFor(2 * INTERVAL), 250);
    assert.deepEqual(new Set(reports(appended).map((r) => r.executionId)), ids);
    await Promise.all([dead.reaper.stop(), live.reaper.stop()]);
    await store.close();
  });

  it('given a claim whose live owner renews its liveness, leaves it alone; and its outcome recorded later stands', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper, lookFor } = await executorOver(store, 'x1', time, appended);
    const req = request('enr1');
    const token = (await claims.claim(req.executionId, req.request))!;
    for (let i = 0; i < 9; i++) {
      assert.equal(await lookFor(LEASE / 3), 0);
      await claims.heartbeat();
    }
    const succeeded: LogRecord = { topic: 't', key: 'k', value: new Uint8Array([1]), headers: {} };
    assert.deepEqual(await claims.recordOutcome(req.executionId, token, [succeeded]), [succeeded]);
    assert.equal(await lookFor(3 * LEASE), 0, 'a finished claim is left alone however old');
    assert.deepEqual(appended, []);
    await reaper.stop();
    await store.close();
  });

  it('given two reapers racing over the same lapsed claims, each claim is appended once', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const a = await executorOver(store, 'x1', time, appended);
    const b = await executorOver(store, 'x2', time, appended);
    const [r1, r2] = [request('enr1'), request('enr2')];
    await a.claims.claim(r1.executionId, r1.request);
    await a.claims.claim(r2.executionId, r2.request);
    for (let t = 0; t <= 2 * LEASE; t += INTERVAL) {
      time.now += INTERVAL;
      await Promise.all([a.reaper.reapOnce(), b.reaper.reapOnce()]);
    }
    assert.deepEqual(
      reports(appended)
        .map((r) => r.executionId)
        .sort(),
      [r1.executionId, r2.executionId].sort(),
    );
    await Promise.all([a.reaper.stop(), b.reaper.stop()]);
    await store.close();
  });

  it('given a stalled owner finishing after its claim was reported lost, the lost outcome stands', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper, lookFor } = await executorOver(store, 'x1', time, appended);
    const req = request('enr1');
    const token = (await claims.claim(req.executionId, req.request))!;
    assert.equal(await lookFor(LEASE + INTERVAL), 1);
    assert.equal(await claims.unhold(req.executionId, token), false, 'the claim is no longer its own');
    assert.deepEqual(await claims.recordOutcome(req.executionId, token, [{ topic: 't', key: 'k', value: new Uint8Array([1]), headers: {} }]), appended[0]);
    await reaper.stop();
    await store.close();
  });

  it('given a store that was away, reports nothing until it has seen the liveness unchanged for a whole lease again', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    let down = false;
    const failing: DocumentStore = Object.assign(Object.create(store) as DocumentStore, {
      find: (...args: Parameters<DocumentStore['find']>) => (down ? Promise.reject(new Error('down')) : store.find(...args)),
    });
    const { claims, reaper, lookFor } = await executorOver(failing, 'x1', time, appended);
    const req = request('enr1');
    await claims.claim(req.executionId, req.request);
    await lookFor(LEASE / 2);
    down = true;
    time.now += 10 * LEASE;
    await assert.rejects(reaper.reapOnce(), /down/);
    down = false;
    assert.equal(await lookFor(LEASE - INTERVAL), 0, 'back in touch for less than a lease: the owner may not have renewed yet');
    assert.equal(await lookFor(2 * INTERVAL), 1);
    // A claim taken after a long pause of its executor (its liveness written again first): seen unchanged for a lease from then.
    const again = request('enr2');
    await claims.claim(again.executionId, again.request);
    time.now += 10 * LEASE;
    assert.equal(await lookFor(LEASE - INTERVAL), 0);
    assert.equal(await lookFor(2 * INTERVAL), 1);
    await reaper.stop();
    await store.close();
  });

  it("given an owner whose clock is far behind or ahead of the reaper's, judges its claims on the reaper's clock alone", async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000_000 };
    const appended: LogRecord[][] = [];
    const reaper = await executorOver(store, 'reaper', time, appended);
    for (const skew of [-3_600_000, 3_600_000]) {
      // The owner writes `renewedAt` on its own clock, an hour off.
      const owner = createClaimStore({ store, clock: () => time.now + skew, logger: silentLogger, executorId: `owner${skew}`, leaseMs: LEASE });
      const req = request(`enr${skew}`);
      await owner.claim(req.executionId, req.request);
      for (let i = 0; i < 6; i++) {
        assert.equal(await reaper.lookFor(LEASE / 2), 0, 'renewed every half lease: never lapsed, however old its renewedAt reads');
        await owner.heartbeat();
      }
      // The owner dies: reported a lease after the reaper first saw its last renewal.
      assert.equal(await reaper.lookFor(LEASE), 0);
      assert.equal(await reaper.lookFor(2 * INTERVAL), 1);
    }
    await reaper.reaper.stop();
    await store.close();
  });

  it('given looks that come late (the reaper starved), reports a dead owner within a few looks, each long wait counting a third of a lease; a live owner renewing on time is left alone', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper } = await executorOver(store, 'x1', time, appended);
    const liveOwner = await executorOver(store, 'x2', time, appended);
    const step = maxStepMs(LEASE, INTERVAL);
    assert.equal(step, LEASE / 3);
    const dead = request('enr1');
    const live = request('enr2');
    await claims.claim(dead.executionId, dead.request);
    await liveOwner.claims.claim(live.executionId, live.request);
    // Looks 2.5 leases apart (each counts a third); the live owner renews between any two.
    const reported: number[] = [];
    for (let i = 0; i < 6; i++) {
      time.now += (5 * LEASE) / 2;
      reported.push(await reaper.reapOnce());
      await liveOwner.claims.heartbeat();
    }
    // First seen at the first look, then three long waits of a third of a lease each: a whole lease.
    assert.deepEqual(reported, [0, 0, 0, 1, 0, 0]);
    assert.deepEqual(
      reports(appended).map((r) => r.executionId),
      [dead.executionId],
    );
    await Promise.all([reaper.stop(), liveOwner.reaper.stop()]);
    await store.close();
  });

  it('given a stall of the reaper with a store outage hidden in it, counts the stall as a third of a lease: an owner renewing once the store is back keeps its claim', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper, lookFor } = await executorOver(store, 'x1', time, appended);
    const req = request('enr1');
    await claims.claim(req.executionId, req.request);
    // Seen unchanged for most of a renewal period, then the reaper stalls ten leases while the
    // store is down (nobody can renew): the stall counts a third of a lease.
    assert.equal(await lookFor(LEASE / 3 - INTERVAL), 0);
    time.now += 10 * LEASE;
    assert.equal(await reaper.reapOnce(), 0, 'the stall counted as a third of a lease: not lapsed');
    // The store is back: the owner renews within its next third of a lease.
    assert.equal(await lookFor(LEASE / 3), 0);
    await claims.heartbeat();
    assert.equal(await lookFor(LEASE - INTERVAL), 0, 'renewed: its lease is counted afresh');
    assert.deepEqual(appended, []);
    await reaper.stop();
    await store.close();
  });

  it('given an outcome recorded by a run that appends it itself and never said it did (it died), appends it a lease later, once; said in time, leaves it alone', async () => {
    // Its executor dead: appended once the liveness is found stale.
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper, lookFor } = await executorOver(store, 'x1', time, appended);
    const dying = request('enr1');
    const live = request('enr2');
    const succeeded = (n: number): LogRecord => ({ topic: 'codestep.actions', key: 'k', value: new Uint8Array([n]), headers: {}, id: `ok-${n}` });
    const dyingToken = (await claims.claim(dying.executionId, dying.request))!;
    const liveToken = (await claims.claim(live.executionId, live.request))!;
    assert.deepEqual(await claims.recordOutcome(dying.executionId, dyingToken, [succeeded(1)], { unpublished: true }), [succeeded(1)]);
    assert.deepEqual(await claims.recordOutcome(live.executionId, liveToken, [succeeded(2)], { unpublished: true }), [succeeded(2)]);
    await claims.markPublished({ executionId: live.executionId, token: liveToken });
    assert.equal(await lookFor(LEASE / 2), 0);
    assert.deepEqual(appended, [], 'nothing within a lease of the outcome');
    await lookFor(LEASE);
    assert.deepEqual(appended, [[succeeded(1)]], 'the outcome its run never said it appended, nothing reported lost');
    await lookFor(3 * LEASE);
    assert.equal(appended.length, 1, 'appended once');
    let lostAsked = false;
    assert.deepEqual(await claims.outcomeOfClaimed(dying.executionId, null, () => ((lostAsked = true), [])), [succeeded(1)], 'a redelivery of its request produces the same outcome');
    assert.equal(lostAsked, false);
    await reaper.stop();
    await store.close();
  });

  it("given an outcome its live executor never said it appended (the mark failed), appends it within two leases, judged by the claim's own version", async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper, lookFor } = await executorOver(store, 'x1', time, appended);
    const req = request('enr1');
    const succeeded: LogRecord = { topic: 'codestep.actions', key: 'k', value: new Uint8Array([1]), headers: {}, id: 'ok-1' };
    const token = (await claims.claim(req.executionId, req.request))!;
    await claims.recordOutcome(req.executionId, token, [succeeded], { unpublished: true });
    assert.equal(await lookFor(LEASE / 2, [claims]), 0);
    assert.deepEqual(appended, [], 'nothing within a lease of the outcome');
    await lookFor(2 * LEASE + INTERVAL, [claims]);
    assert.deepEqual(appended, [[succeeded]]);
    await lookFor(3 * LEASE, [claims]);
    assert.equal(appended.length, 1, 'appended once');
    await reaper.stop();
    await store.close();
  });

  it('given a run past every time limit (its claim marked unheld), reports it lost within two leases although its executor lives; its other claims stay', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper, lookFor } = await executorOver(store, 'x1', time, appended);
    const [stuck, running] = [request('enr1'), request('enr2')];
    const token = (await claims.claim(stuck.executionId, stuck.request))!;
    await claims.claim(running.executionId, running.request);
    assert.equal(await lookFor(3 * LEASE, [claims]), 0, 'held by the live executor');
    assert.equal(await claims.unhold(stuck.executionId, token), true);
    assert.equal(await lookFor(LEASE / 2, [claims]), 0, 'within a lease of the mark');
    assert.equal(await lookFor(2 * LEASE, [claims]), 1);
    assert.deepEqual(
      reports(appended).map((r) => r.executionId),
      [stuck.executionId],
    );
    assert.equal((await claims.get(running.executionId))?.doc.leaseOpen, true);
    await reaper.stop();
    await store.close();
  });

  it('given a claim taken by an older version (no holder; it renewed the claim itself), judges it by its own version', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const { claims, reaper, lookFor } = await executorOver(store, 'x1', time, appended);
    const req = request('enr1');
    const doc: ClaimDoc = {
      executorId: 'old',
      claimedAt: time.now,
      renewedAt: time.now,
      token: 'old/1',
      leaseOpen: true,
      request: Buffer.from(req.request.value).toString('base64'),
      requestPartition: 0,
    };
    await store.insertIfAbsent<ClaimDoc>(CLAIMS, req.executionId, doc);
    for (let i = 0; i < 6; i++) {
      assert.equal(await lookFor(LEASE / 2, [claims]), 0, 'renewed every half lease by the older version');
      const current = (await store.get<ClaimDoc>(CLAIMS, req.executionId))!;
      assert.equal(await store.compareAndSet<ClaimDoc>(CLAIMS, req.executionId, current.version, { ...current.doc, renewedAt: time.now }), true);
    }
    assert.equal(await lookFor(2 * LEASE + INTERVAL, [claims]), 1, 'its renewals stopped: reported within two leases');
    assert.deepEqual(
      reports(appended).map((r) => r.executionId),
      [req.executionId],
    );
    await reaper.stop();
    await store.close();
  });

  it("reads only what it needs: the executors' liveness at each look, the open claims once a lease, and a dead executor's claims once it is found dead", async () => {
    const sqlite = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const finds = new Map<string, number>();
    const store: DocumentStore = Object.assign(Object.create(sqlite) as DocumentStore, {
      find: (...args: Parameters<DocumentStore['find']>) => {
        const [collection, query] = args;
        const what = `${collection}${query.where?.holder ? ' of one holder' : ''}`;
        finds.set(what, (finds.get(what) ?? 0) + 1);
        return sqlite.find(...args);
      },
    });
    const live = await executorOver(store, 'live', time, appended);
    const dead = await executorOver(store, 'dead', time, appended);
    for (let i = 0; i < 300; i++) {
      const req = request(`live${i}`);
      await live.claims.claim(req.executionId, req.request);
    }
    const deadOnes = [request('dead1'), request('dead2')];
    for (const req of deadOnes) await dead.claims.claim(req.executionId, req.request);
    assert.equal(await live.lookFor(LEASE - INTERVAL, [live.claims]), 0);
    assert.equal(await live.lookFor(2 * INTERVAL, [live.claims]), 2);
    assert.equal(await live.lookFor(3 * LEASE, [live.claims]), 0, "the live executor's 300 claims are left alone");
    // 41 looks over 4.1 leases: the liveness each time, all open claims 5 times, the dead executor's claims from its death on.
    assert.equal(finds.get(EXECUTORS), 41);
    assert.equal(finds.get(CLAIMS), 5);
    assert.equal(finds.get(`${CLAIMS} of one holder`), 31);
    assert.deepEqual(new Set(reports(appended).map((r) => r.executionId)), new Set(deadOnes.map((r) => r.executionId)));
    await Promise.all([live.reaper.stop(), dead.reaper.stop()]);
    await sqlite.close();
  });

  it('given an executor found dead that renews and takes a claim while the look reads its claims (it stalled and came back), leaves that claim to it', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const back = await executorOver(store, 'back', time, appended);
    await back.claims.heartbeat();
    const reaperClaims = createClaimStore({ store, clock: () => time.now, logger: silentLogger, executorId: 'reaper', leaseMs: LEASE });
    const req = request('e1');
    let comeBack = false;
    const reaper = startLeaseReaper({
      // Between the look's read of the liveness and its read of the dead executor's claims, the executor comes back and takes one.
      claims: {
        ...reaperClaims,
        openOf: async (holder, limit) => {
          if (comeBack) comeBack = !(await back.claims.claim(req.executionId, req.request));
          return reaperClaims.openOf(holder, limit);
        },
      },
      eventLog: { append: async (records) => void appended.push(records) },
      logger: silentLogger,
      clock: () => time.now,
      leaseMs: LEASE,
      intervalMs: INTERVAL,
      partitions: () => [1],
    });
    for (let t = 0; t <= LEASE; t += INTERVAL) ((time.now += INTERVAL), await reaper.reapOnce());
    comeBack = true;
    time.now += INTERVAL;
    assert.equal(await reaper.reapOnce(), 0, 'nothing reported lost');
    assert.equal(comeBack, false, 'the executor came back during the look');
    assert.equal((await back.claims.get(req.executionId))?.doc.done, undefined, 'its claim is left to its run');
    assert.deepEqual(appended, []);
    await Promise.all([reaper.stop(), back.reaper.stop()]);
    await store.close();
  });

  it('given an executor dead for a long time with no open claim left, forgets its liveness document; a live one is kept', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const live = await executorOver(store, 'live', time, appended);
    const dead = await executorOver(store, 'dead', time, appended);
    await live.claims.heartbeat();
    await dead.claims.heartbeat();
    await live.lookFor(11 * LEASE, [live.claims]);
    assert.deepEqual((await live.claims.executors()).map((e) => e.doc.executorId).sort(), ['dead', 'live'], 'dead for ten leases: kept');
    await live.lookFor(2 * LEASE, [live.claims]);
    assert.deepEqual(
      (await live.claims.executors()).map((e) => e.doc.executorId),
      ['live'],
    );
    await Promise.all([live.reaper.stop(), dead.reaper.stop()]);
    await store.close();
  });

  it('given a lost report whose append failed, appends it again a lease later', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const time = { now: 10_000 };
    const appended: LogRecord[][] = [];
    const claims: ClaimStore = createClaimStore({ store, clock: () => time.now, logger: silentLogger, executorId: 'x1', leaseMs: LEASE });
    await claims.ensureCollection();
    let logDown = true;
    const reaper = startLeaseReaper({
      claims,
      eventLog: { append: async (records) => (logDown ? Promise.reject(new Error('kafka away')) : void appended.push(records)) },
      logger: silentLogger,
      clock: () => time.now,
      leaseMs: LEASE,
      intervalMs: INTERVAL,
      partitions: () => [1],
    });
    const req = request('enr1');
    await claims.claim(req.executionId, req.request);
    let failures = 0;
    for (let t = 0; t < 3 * LEASE && failures === 0; t += INTERVAL) {
      time.now += INTERVAL;
      await reaper.reapOnce().catch(() => failures++);
    }
    assert.equal(failures, 1, 'reported lost, its append failed');
    logDown = false;
    for (let t = 0; t < 2 * LEASE; t += INTERVAL) {
      time.now += INTERVAL;
      await reaper.reapOnce();
    }
    assert.deepEqual(reports(appended), [{ executionId: req.executionId, code: 'EXECUTOR_LOST', retryLanePartition: 1 }]);
    await reaper.stop();
    await store.close();
  });

  it('spreads retries over the partitions it is given, whatever their order, and names none when it has none', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `exe_${i}`);
    assert.deepEqual(new Set(ids.map((id) => partitionFor(id, [0, 2, 5]))), new Set([0, 2, 5]));
    assert.ok(ids.every((id) => partitionFor(id, [5, 0, 2]) === partitionFor(id, [0, 2, 5])));
    assert.equal(partitionFor('exe_1', []), undefined);
  });
});
