/**
 * Portal → tenant kept in the gateway between connection changes, on the embedded event log:
 * asked of the broker once while nothing changes; forgotten at a connection's change (removed,
 * `needs_reauth`, a new one), so a removed connection is refused at the next call after its
 * event; a refusal is never kept; an answer the broker gave while a change arrived is not kept.
 * The broker's part is a map of portal → connection behind `findAccountConnection`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NotFoundError, deterministicId } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { envelope, toRecord } from '@codestep/events';
import { startPortalOwners, type PortalOwners } from './portal-owners.ts';

const PORTAL = 62515;

/** What the broker appends when a connection changes (the whole view after the change). */
function appendChange(log: SqliteEventLog, tenantId: string, handle: string, status: string, sequence: number) {
  return log.append([
    toRecord(
      envelope(
        { eventId: deterministicId('evt', 'test-connection', tenantId, handle, sequence), tenantId, aggregateId: `${tenantId}/${handle}`, occurredAt: Date.now() },
        {
          $case: 'connectionChanged',
          value: {
            handle,
            sequence,
            provider: 'hubspot',
            grantType: 'authorization_code',
            scopes: [],
            permissions: [],
            grantedScopes: [],
            status,
            statusReason: '',
            createdAt: 1,
            authorizedAt: 1,
            expiresAt: 0,
            refreshedAt: 0,
            accountId: String(PORTAL),
          },
        },
      ),
    ),
  ]);
}

describe('HubSpot portal owners kept between connection changes', () => {
  let log: SqliteEventLog;
  let owners: PortalOwners;
  /** The broker's answer per portal (absent: no connection). */
  const installed = new Map<number, { tenantId: string; handle: string }>();
  let asked = 0;
  /** Set: the broker's next answer waits for it. */
  let hold: Promise<void> | undefined;
  let sequence = 0;

  before(async () => {
    log = new SqliteEventLog({ path: ':memory:' });
    owners = await startPortalOwners({
      eventLog: log,
      clock: Date.now,
      settleMs: 0,
      findAccountConnection: async ({ provider, accountId }) => {
        assert.equal(provider, 'hubspot');
        asked++;
        const owner = installed.get(Number(accountId));
        // Captured when asked: a hold set later does not hold this answer.
        const held = hold;
        if (held) await held;
        if (!owner) throw new NotFoundError(`no codestep account has installed the HubSpot app in account ${accountId}`);
        return owner;
      },
    });
  });
  after(async () => {
    await owners.stop();
    await log.close();
  });

  /** What the broker appends when a connection changes (the whole view after the change). */
  const changed = (tenantId: string, handle: string, status: string) => {
    sequence++;
    return appendChange(log, tenantId, handle, status, sequence);
  };

  /** Asks until `ok` holds for the answer (the change's event is delivered asynchronously), at most 200 times. */
  async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    for (let i = 0; ; i++) {
      const v = await read();
      if (ok(v) || i >= 200) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const outcome = (portalId: number) =>
    owners.of(portalId).then(
      (o) => `${o.tenantId}/${o.handle}`,
      (e: unknown) => `refused: ${(e as Error).message}`,
    );

  it('asks the broker once while no connection changes', async () => {
    installed.set(PORTAL, { tenantId: 't-a', handle: 'hubspot' });
    await changed('t-a', 'hubspot', 'active');
    await until(
      () => Promise.resolve(asked),
      () => true,
    );
    const before = asked;
    const answers = await Promise.all(Array.from({ length: 20 }, () => outcome(PORTAL)));
    assert.deepEqual(new Set(answers), new Set(['t-a/hubspot']));
    assert.ok(asked - before <= 1, `the broker was asked ${asked - before} times for 20 calls`);
    const again = asked;
    assert.equal(await outcome(PORTAL), 't-a/hubspot');
    assert.equal(asked, again, 'kept');
  });

  it('refuses a removed connection once its change is delivered, and keeps no refusal', async () => {
    installed.delete(PORTAL);
    await changed('t-a', 'hubspot', 'revoked');
    const refused = await until(
      () => outcome(PORTAL),
      (o) => o.startsWith('refused'),
    );
    assert.match(refused, /refused: no codestep account has installed the HubSpot app in account 62515/);
    const before = asked;
    assert.match(await outcome(PORTAL), /^refused/);
    assert.equal(asked, before + 1, 'a refusal is asked again, not kept');
    // Installed again by another tenant: the next call after its event routes there.
    installed.set(PORTAL, { tenantId: 't-b', handle: 'hs' });
    await changed('t-b', 'hs', 'active');
    assert.equal(
      await until(
        () => outcome(PORTAL),
        (o) => o === 't-b/hs',
      ),
      't-b/hs',
    );
  });

  it('forgets at needs_reauth (the broker decides which connection then routes)', async () => {
    assert.equal(await outcome(PORTAL), 't-b/hs');
    installed.set(PORTAL, { tenantId: 't-b', handle: 'hs-2' });
    await changed('t-b', 'hs', 'needs_reauth');
    assert.equal(
      await until(
        () => outcome(PORTAL),
        (o) => o === 't-b/hs-2',
      ),
      't-b/hs-2',
    );
  });

  it('does not keep an answer the broker gave while a connection changed', async () => {
    installed.set(PORTAL, { tenantId: 't-c', handle: 'old' });
    await changed('t-c', 'old', 'active');
    await until(
      () => outcome(PORTAL),
      (o) => o === 't-c/old',
    );
    await changed('t-c', 'old', 'needs_reauth');
    // Asked until a call reaches the broker (that change delivered); the broker's answer ("old") is held back.
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const start = asked;
    const calls: Array<Promise<string>> = [];
    await until(
      async () => (calls.push(outcome(PORTAL)), asked),
      (n) => n > start,
    );
    // Meanwhile the portal moves to another connection; once that change is delivered a call asks again and gets it at once.
    hold = undefined;
    installed.set(PORTAL, { tenantId: 't-c', handle: 'new' });
    await changed('t-c', 'new', 'active');
    const second = asked;
    await until(
      async () => (calls.push(outcome(PORTAL)), asked),
      (n) => n > second,
    );
    // The held answer comes last: it names a connection the stream says needs reauthorizing, so it
    // is refused (retry), and given while a change arrived, it is not kept over the newer one.
    release();
    assert.ok((await Promise.all(calls)).some((o) => /^refused: the HubSpot connection of account 62515 changed just now/.test(o)));
    assert.equal(await outcome(PORTAL), 't-c/new');
  });
});

/**
 * The broker's view may lag the changes the gateway has read (distributed mode): an answer
 * naming a connection the stream says is no longer active is refused, not served; no answer is
 * kept within the settle interval after a change of the portal; an answer is kept 5 s at most.
 */
describe('HubSpot portal owners never older than the changes read', () => {
  let log: SqliteEventLog;
  let owners: PortalOwners;
  let now = 1_000_000;
  /** The broker's (possibly stale) answer for PORTAL. */
  let broker: { tenantId: string; handle: string } | undefined;
  let asked = 0;
  let sequence = 100;

  before(async () => {
    log = new SqliteEventLog({ path: ':memory:' });
    owners = await startPortalOwners({
      eventLog: log,
      clock: () => now,
      findAccountConnection: async ({ accountId }) => {
        asked++;
        if (!broker) throw new NotFoundError(`no codestep account has installed the HubSpot app in account ${accountId}`);
        return broker;
      },
    });
  });
  after(async () => {
    await owners.stop();
    await log.close();
  });

  const outcome = () =>
    owners.of(PORTAL).then(
      (o) => `${o.tenantId}/${o.handle}`,
      (e: unknown) => `refused ${(e as { code?: string }).code}: ${(e as Error).message}`,
    );
  /** Asks until the answer is `want` (the change's event is delivered asynchronously), at most 200 times. */
  async function until(ok: (o: string) => boolean): Promise<string> {
    for (let i = 0; ; i++) {
      const o = await outcome();
      if (ok(o) || i >= 200) return o;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('refuses, and does not keep, a stale answer naming a connection the stream revoked; routes to the new owner once the broker has it', async () => {
    broker = { tenantId: 't-a', handle: 'hs' };
    await appendChange(log, 't-a', 'hs', 'active', ++sequence);
    now += 10_000; // settled
    assert.equal(await until((o) => o === 't-a/hs'), 't-a/hs');
    // Tenant A revokes, tenant B connects the portal; the broker's view still says A.
    await appendChange(log, 't-a', 'hs', 'revoked', ++sequence);
    await appendChange(log, 't-b', 'hs-b', 'active', ++sequence);
    const refused = await until((o) => o.startsWith('refused'));
    assert.match(refused, /^refused UNAVAILABLE: the HubSpot connection of account 62515 changed just now; retry shortly/);
    now += 10_000;
    const before = asked;
    assert.match(await outcome(), /^refused UNAVAILABLE/, 'never served from the cache, even after settling');
    assert.equal(asked, before + 1, 'the stale answer was not kept');
    broker = { tenantId: 't-b', handle: 'hs-b' };
    assert.equal(await outcome(), 't-b/hs-b');
  });

  it('keeps no answer within the settle interval after a change of the portal, and an answer 5 s at most', async () => {
    await appendChange(log, 't-b', 'hs-b', 'active', ++sequence);
    broker = { tenantId: 't-b', handle: 'hs-b' };
    // Once the change is delivered, answers are asked each time while the portal settles (the clock stands still).
    let before = asked;
    for (let i = 0; i < 200 && asked - before < 2; i++) {
      before = asked;
      await outcome();
      await outcome();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(asked - before, 2, 'not kept within the settle interval');
    now += 1_000;
    assert.equal(await outcome(), 't-b/hs-b');
    before = asked;
    assert.equal(await outcome(), 't-b/hs-b');
    assert.equal(asked, before, 'kept once settled');
    now += 4_999;
    assert.equal(await outcome(), 't-b/hs-b');
    assert.equal(asked, before, 'kept under 5 s');
    now += 1;
    assert.equal(await outcome(), 't-b/hs-b');
    assert.equal(asked, before + 1, 'asked again after 5 s');
  });
});

describe('HubSpot portal owners: a consumer group per replica, the same across its restarts', () => {
  it('follows with the same group after a restart (reading the changes made while stopped), and with groups of their own in one process', async () => {
    const log = new SqliteEventLog({ path: ':memory:' });
    const groups: string[] = [];
    const watched: EventLog = {
      ensureTopics: (topics) => log.ensureTopics(topics),
      append: (records) => log.append(records),
      consume: (options) => (groups.push(options.group), log.consume(options)),
      readAll: (topics, handle) => log.readAll(topics, handle),
      close: () => log.close(),
    };
    const broker = { tenantId: 't-a', handle: 'hs' };
    const start = (replicaId?: string) => startPortalOwners({ eventLog: watched, clock: Date.now, ...(replicaId ? { replicaId } : {}), findAccountConnection: async () => broker });
    try {
      await appendChange(log, 't-a', 'hs', 'active', 1);
      const first = await start('gw-1');
      assert.deepEqual(await first.of(PORTAL), broker);
      await first.stop();
      // Revoked while the replica was down; the broker's view still names it.
      await appendChange(log, 't-a', 'hs', 'revoked', 2);
      const again = await start('gw-1');
      const others = await Promise.all([start(), start()]);
      try {
        assert.equal(groups[1], groups[0], 'the same group after a restart');
        assert.equal(groups[0], 'codestep-gateway-hubspot-portals-gw-1');
        assert.equal(new Set(groups.slice(1)).size, 3, 'each started in the process has its own');
        let outcome = '';
        for (let i = 0; i < 200 && !outcome.startsWith('UNAVAILABLE'); i++) {
          outcome = await again.of(PORTAL).then(
            (o) => `${o.tenantId}/${o.handle}`,
            (e: unknown) => `${(e as { code?: string }).code}`,
          );
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(outcome, 'UNAVAILABLE', 'the change made while stopped is read after the restart');
      } finally {
        await Promise.all([again, ...others].map((o) => o.stop()));
      }
    } finally {
      await log.close();
    }
  });
});
