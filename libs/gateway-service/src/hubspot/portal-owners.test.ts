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
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { envelope, toRecord } from '@codestep/events';
import { startPortalOwners, type PortalOwners } from './portal-owners.ts';

const PORTAL = 62515;

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
    // The held answer comes last: given while a change arrived, it is not kept over the newer one.
    release();
    assert.ok((await Promise.all(calls)).includes('t-c/old'));
    assert.equal(await outcome(PORTAL), 't-c/new');
  });
});
