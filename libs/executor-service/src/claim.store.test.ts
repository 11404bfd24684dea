/**
 * The claim store over the SQLite store (in memory): a claim is taken once, its outcome recorded
 * by compare-and-set only by the run holding it, a stale claim reported lost only over the very
 * version seen, and a finished outcome always stands. A claim is held by its executor's liveness
 * (one document per executor process, renewed with one write however many claims it holds); a
 * run writes nothing to its claim while it runs and its outcome over the version it last wrote,
 * reading nothing, falling back to reading the claim when another executor wrote it meanwhile. A
 * released claim is a tombstone: a write of its former run in flight at the release never
 * brings it back over the next run's claim.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger, type Logger } from '@codestep/core';
import type { LogRecord } from '@codestep/event-log';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { CLAIMS, ClaimHeld, createClaimStore, EXECUTORS, fromStored, toStored, type ClaimDoc, type LivenessDoc } from './claim.store.ts';

const TTL = 1_000;

const record = (name: string): LogRecord => ({ topic: 'codestep.actions', key: 'enr1', value: new TextEncoder().encode(name), headers: { h: name }, id: `id-${name}` });
const names = (records: LogRecord[]) => records.map((r) => new TextDecoder().decode(r.value));

/** A claim store of executor `executorId` over `store`, on a clock the test moves. */
async function claimsOver(store: DocumentStore, executorId = 'x1', logger: Logger = silentLogger) {
  const time = { now: 10_000 };
  const claims = createClaimStore({ store, clock: () => time.now, logger, executorId, leaseMs: TTL });
  await claims.ensureCollection();
  return { claims, time };
}

describe('claim store', () => {
  it('given an execution claimed once, a second claim of it is refused', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { claims } = await claimsOver(store);
    const token = await claims.claim('ex1');
    assert.ok(token?.startsWith('x1/'), 'the token names the executor');
    assert.equal(await claims.claim('ex1'), undefined);
    assert.equal((await claims.get('ex1'))?.doc.token, token);
    await store.close();
  });

  it('given a run holding its claim, records its outcome and a redelivery produces that outcome again without reporting it lost', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { claims, time } = await claimsOver(store);
    const token = (await claims.claim('ex1'))!;
    assert.deepEqual(names(await claims.recordOutcome('ex1', token, [record('succeeded')])), ['succeeded']);
    time.now += 10 * TTL;
    let lostAsked = false;
    const again = await claims.outcomeOfClaimed('ex1', null, () => ((lostAsked = true), [record('lost')]));
    assert.deepEqual(names(again), ['succeeded']);
    assert.equal(lostAsked, false);
    await store.close();
  });

  it('given a claim younger than the TTL with no outcome, waits for its owner: throws and reports nothing', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { claims, time } = await claimsOver(store);
    await claims.claim('ex1');
    time.now += TTL - 1;
    await assert.rejects(
      claims.outcomeOfClaimed('ex1', null, () => [record('lost')]),
      /is claimed by x1; waiting for its result/,
    );
    assert.equal((await claims.get('ex1'))?.doc.done, undefined);
    await store.close();
  });

  it('given a claim older than the TTL with no outcome, records the lost outcome over it and produces it', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const dead = await claimsOver(store, 'dead');
    await dead.claims.claim('ex1');
    const { claims, time } = await claimsOver(store, 'x2');
    time.now = dead.time.now + TTL;
    assert.deepEqual(names(await claims.outcomeOfClaimed('ex1', null, () => [record('lost')])), ['lost']);
    const claim = await claims.get('ex1');
    assert.equal(claim?.doc.done, true);
    assert.equal(claim?.doc.executorId, 'x2');
    assert.deepEqual(names(claim!.doc.records!.map(fromStored)), ['lost']);
    await store.close();
  });

  it('given a run whose executor renews its liveness, its claim is held past the lease and reported lost only once renewals stop', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const owner = await claimsOver(store, 'owner');
    const token = (await owner.claims.claim('ex1'))!;
    const other = await claimsOver(store, 'x2');
    for (let i = 0; i < 5; i++) {
      owner.time.now += TTL / 2;
      await owner.claims.heartbeat();
    }
    assert.equal((await store.get(CLAIMS, 'ex1'))?.version, 1, 'the renewals wrote nothing to the claim');
    other.time.now = owner.time.now + TTL - 1;
    const held = await other.claims.outcomeOfClaimed('ex1', null, () => [record('lost')]).catch((e: unknown) => e);
    assert.ok(held instanceof ClaimHeld, 'renewed 2.5 leases after the claim, it is still held');
    assert.equal(held.leaseLeftMs, 1);
    other.time.now += 1;
    assert.deepEqual(names(await other.claims.outcomeOfClaimed('ex1', null, () => [record('lost')])), ['lost']);
    assert.equal(await owner.claims.unhold('ex1', token), false, 'the claim is no longer its own');
    await store.close();
  });

  it('given a claim released or taken by another run, marking it unheld with the old token answers false and changes nothing', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { claims } = await claimsOver(store);
    const first = (await claims.claim('ex1'))!;
    await claims.release('ex1');
    assert.equal(await claims.get('ex1'), null, 'a released claim is no claim');
    assert.equal(await claims.unhold('ex1', first), false);
    const second = (await claims.claim('ex1'))!;
    const before = await claims.get('ex1');
    assert.equal(before?.version, 3, 'claimed over the tombstone: its version goes on growing');
    assert.equal(await claims.unhold('ex1', first), false);
    assert.deepEqual(await claims.get('ex1'), before);
    assert.equal(await claims.unhold('ex1', second), true);
    assert.equal((await claims.get('ex1'))?.doc.unheld, true);
    await store.close();
  });

  it('given a write of a run in flight when its claim is released (drain timeout) and taken by the next run, the late write fails: the next run keeps its claim', async () => {
    const sqlite = new SqliteStore({ path: ':memory:' });
    // The first compare-and-set of the claim waits until the test lets it go.
    let hold: ((go: () => void) => void) | undefined;
    const store: DocumentStore = Object.assign(Object.create(sqlite) as DocumentStore, {
      compareAndSet: async (...args: Parameters<DocumentStore['compareAndSet']>) => {
        const h = hold;
        hold = undefined;
        if (h) await new Promise<void>((go) => h(go));
        return sqlite.compareAndSet(...args);
      },
    });
    const first = await claimsOver(store, 'x1');
    const next = await claimsOver(store, 'x2');
    const token = (await first.claims.claim('ex1'))!;
    let letGo: (() => void) | undefined;
    const arrived = new Promise<void>((r) => (hold = (go) => ((letGo = go), r())));
    // The first run finishes just as the drain timeout hands it back: its outcome is in flight.
    const late = first.claims.recordOutcome('ex1', token, [record('late')]);
    await arrived;
    await first.claims.release('ex1');
    const nextToken = (await next.claims.claim('ex1'))!;
    assert.ok(nextToken);
    letGo!();
    assert.deepEqual(await late, [], "the late outcome is dropped: the next run's result will be produced");
    const claim = await next.claims.get('ex1');
    assert.equal(claim?.doc.token, nextToken);
    assert.equal(claim?.doc.done, undefined);
    assert.equal(claim?.doc.leaseOpen, true);
    assert.deepEqual(names(await next.claims.recordOutcome('ex1', nextToken, [record('next')])), ['next']);
    await sqlite.close();
  });

  it('given an owner that finishes after its claim was seen stale, its outcome stands over the lost report', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const owner = await claimsOver(store, 'owner');
    const token = (await owner.claims.claim('ex1'))!;
    const { claims, time } = await claimsOver(store, 'x2');
    time.now = owner.time.now + TTL;
    const seenStale = await claims.get('ex1');
    await owner.claims.recordOutcome('ex1', token, [record('succeeded')]);
    assert.deepEqual(names(await claims.outcomeOfClaimed('ex1', seenStale, () => [record('lost')])), ['succeeded']);
    assert.equal((await claims.get('ex1'))?.doc.executorId, 'owner');
    await store.close();
  });

  it('given a stale claim released by its owner while it was being reported lost, throws so the request comes again', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const owner = await claimsOver(store, 'owner');
    await owner.claims.claim('ex1');
    const { claims, time } = await claimsOver(store, 'x2');
    time.now = owner.time.now + TTL;
    const seenStale = await claims.get('ex1');
    await owner.claims.release('ex1');
    await assert.rejects(
      claims.outcomeOfClaimed('ex1', seenStale, () => [record('lost')]),
      /changed while it was being reported lost/,
    );
    assert.equal(await claims.get('ex1'), null);
    await store.close();
  });

  it('given a run whose claim was reported lost meanwhile, produces the lost outcome and drops its own result', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const stalled = await claimsOver(store, 'stalled');
    const token = (await stalled.claims.claim('ex1'))!;
    const other = await claimsOver(store, 'other');
    other.time.now = stalled.time.now + TTL;
    await other.claims.outcomeOfClaimed('ex1', null, () => [record('lost')]);
    assert.deepEqual(names(await stalled.claims.recordOutcome('ex1', token, [record('succeeded')])), ['lost']);
    assert.equal((await stalled.claims.get('ex1'))?.doc.executorId, 'other');
    await store.close();
  });

  it('given a run whose claim was released and taken by another run, produces nothing and leaves that claim open', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { claims } = await claimsOver(store);
    const first = (await claims.claim('ex1'))!;
    await claims.release('ex1');
    const second = (await claims.claim('ex1'))!;
    assert.deepEqual(await claims.recordOutcome('ex1', first, [record('succeeded')]), []);
    const claim = await claims.get('ex1');
    assert.equal(claim?.doc.token, second);
    assert.equal(claim?.doc.done, undefined);
    assert.deepEqual(await claims.recordOutcome('ex1', first, [record('succeeded')]), [], 'a released claim not taken again records nothing either');
    await store.close();
  });

  it('given a store that cannot write, releasing a claim warns and does not throw (the claim ages out instead)', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_fields, message) => void warnings.push(message) };
    // The SQLite store, but its compare-and-set fails (a store that is down).
    const failing: DocumentStore = Object.assign(Object.create(store) as DocumentStore, { compareAndSet: () => Promise.reject(new Error('down')) });
    const { claims } = await claimsOver(failing, 'x1', logger);
    await claims.claim('ex1');
    await claims.release('ex1');
    assert.deepEqual(warnings, ['could not release the claim of a handed-back execution']);
    assert.notEqual(await claims.get('ex1'), null);
    await store.close();
  });

  it('keeps a record on a claim as it was: value, headers and id', () => {
    const r = record('x');
    assert.deepEqual(fromStored(toStored(r)), r);
    const { id: _id, ...withoutId } = r;
    assert.deepEqual(fromStored(toStored(withoutId)), withoutId);
  });

  it('stores claims in the execution_claims collection, each naming the executor process whose liveness holds it', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { claims } = await claimsOver(store);
    await claims.claim('ex1');
    const claim = (await store.get<ClaimDoc>(CLAIMS, 'ex1'))?.doc;
    assert.equal(claim?.executorId, 'x1');
    assert.equal(claim?.holder, claims.incarnation);
    assert.equal((await store.get<LivenessDoc>(EXECUTORS, claims.incarnation))?.doc.executorId, 'x1', 'its liveness was written before the claim');
    await store.close();
  });
  it('given a run holding its claim, writes nothing to it while its executor renews its liveness and records its outcome without reading it; once another executor reported it lost, learns so from the claim read again', async () => {
    const sqlite = new SqliteStore({ path: ':memory:' });
    let reads = 0;
    const store: DocumentStore = Object.assign(Object.create(sqlite) as DocumentStore, {
      get: (...args: Parameters<DocumentStore['get']>) => (reads++, sqlite.get(...args)),
    });
    const { claims, time } = await claimsOver(store);
    const token = (await claims.claim('ex1'))!;
    for (let i = 0; i < 3; i++) await claims.heartbeat();
    assert.deepEqual(names(await claims.recordOutcome('ex1', token, [record('succeeded')])), ['succeeded']);
    assert.equal(reads, 0, 'claim, three renewals and the outcome: no read');
    const stored = (await sqlite.get<ClaimDoc>(CLAIMS, 'ex1'))!;
    assert.equal(stored.version, 2, 'the claim and its outcome: the renewals went to the liveness document');
    assert.equal(stored.doc.done, true);
    assert.equal(stored.doc.leaseOpen, undefined);

    // Another executor reports the second claim lost: the run's write over its version fails, it reads the claim.
    const token2 = (await claims.claim('ex2'))!;
    time.now += 2 * TTL;
    const { claims: other } = await claimsOver(store, 'x2');
    const [lapsed] = await other.open(10);
    assert.equal(lapsed?.claim.id, 'ex2');
    assert.equal(await other.reportLost(lapsed!.claim, [record('lost')]), true);
    assert.equal(await claims.unhold('ex2', token2), false, 'no longer its own');
    assert.deepEqual(names(await claims.recordOutcome('ex2', token2, [record('late')])), ['lost'], 'the lost report stands');
    assert.ok(reads > 0);
    await sqlite.close();
  });

  it('given an outcome recorded as not yet appended, marks it appended over the version it wrote, reading nothing', async () => {
    const sqlite = new SqliteStore({ path: ':memory:' });
    let reads = 0;
    const store: DocumentStore = Object.assign(Object.create(sqlite) as DocumentStore, {
      get: (...args: Parameters<DocumentStore['get']>) => (reads++, sqlite.get(...args)),
    });
    const { claims } = await claimsOver(store);
    const token = (await claims.claim('ex1'))!;
    await claims.recordOutcome('ex1', token, [record('succeeded')], { unpublished: true });
    assert.equal((await sqlite.get<ClaimDoc>(CLAIMS, 'ex1'))!.doc.unpublished, true);
    await claims.markPublished({ executionId: 'ex1', token });
    assert.equal(reads, 0);
    const stored = (await sqlite.get<ClaimDoc>(CLAIMS, 'ex1'))!.doc;
    assert.equal(stored.unpublished, undefined);
    assert.equal(stored.leaseOpen, undefined);
    assert.deepEqual(names(stored.records!.map(fromStored)), ['succeeded']);
    await sqlite.close();
  });

  it("given an executor's liveness renewed after it was seen dead, forgetting it over the version seen dead keeps it; over its current version deletes it", async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const { claims, time } = await claimsOver(store);
    await claims.heartbeat();
    const seenDead = (await claims.executor(claims.incarnation))!.version;
    time.now += 100;
    await claims.heartbeat();
    await claims.forgetExecutor(claims.incarnation, seenDead);
    const renewed = await claims.executor(claims.incarnation);
    assert.ok(renewed && renewed.version !== seenDead, 'the renewed liveness is kept');
    await claims.forgetExecutor(claims.incarnation, renewed.version);
    assert.equal(await claims.executor(claims.incarnation), null);
    await store.close();
  });
});
