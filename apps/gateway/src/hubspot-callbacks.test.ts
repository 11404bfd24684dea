/**
 * The callback completer against the HubSpot fake: two replicas that both see every finished
 * enrollment complete each BLOCKed callback exactly once (one HubSpot call, the other stands
 * back), with the workflow's outputs or its failure; HubSpot's 429s are waited out; a record still
 * waiting for a synchronous answer is left alone until its budget ran out; a connection without a
 * token gives up with "reconnect HubSpot"; every outcome is one event. Callbacks of one connection
 * ready together go in one batch request, one by one when HubSpot refuses the batch; a batch
 * HubSpot does not take yet is parked at once (no lease waited out) without losing the outcome
 * events of the callbacks settled beside it; one callback another completer holds does not hold
 * up the others. A callback HubSpot refuses (429 with Retry-After, 503 for a while, 503 until the
 * block expires) is parked without holding up the partition, tried again as Retry-After says or
 * with a doubling backoff, and given up at the block's expiration, each attempt an event.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { Topics, envelope, fromRecord, plainToFieldMap, toRecord, type Envelope } from '@codestep/events';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { tenantScoped } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { CALLBACKS, startCallbackCompleter, type CallbackDoc } from '@codestep/gateway-service';

type CompleterOptions = Partial<Pick<Parameters<typeof startCallbackCompleter>[0], 'retryBaseMs' | 'retryPollMs' | 'blockExpirationMs' | 'answerWithinMs'>>;

const APP = { clientId: 'app', clientSecret: 'secret-9a', redirectUris: ['http://127.0.0.1/cb'], appId: 8200001 };
const T = 'tenant-a';

describe('HubSpot callback completer', () => {
  let dir: string;
  let fake: HubSpotFake;
  let app: Server;
  let store: SqliteStore;
  let log: SqliteEventLog;
  let token: string;
  /** The token of a second connection of the tenant (`hubspot-2`). */
  let token2: string;
  let definitionId: string;
  let revoked = false;
  /** How many token requests the broker answers "try again" (the provider away) before a token. */
  let unavailable = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'codestep-callbacks-'));
    fake = await startHubSpotFake({ oauthClients: [APP], developerApiKey: 'k', rateLimitPerSecond: 0 });
    app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outputFields: { hs_execution_state: 'BLOCK' } })));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const actionUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/integrations/hubspot/actions`;
    const res = await fetch(`${fake.url}/automation/v4/actions/${APP.appId}?hapikey=k`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actionUrl, labels: { en: { actionName: 'x' } } }),
    });
    definitionId = ((await res.json()) as { id: string }).id;
    token = fake.issueAccessToken({ clientId: APP.clientId, scopes: ['automation'] }).accessToken;
    token2 = fake.issueAccessToken({ clientId: APP.clientId, scopes: ['automation'] }).accessToken;
    store = new SqliteStore({ path: join(dir, 'gateway.db') });
    log = new SqliteEventLog({ path: join(dir, 'events.db') });
  });
  after(async () => {
    await log.close();
    await store.close();
    await fake.close();
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const completer = (group: string, options: CompleterOptions = {}) =>
    startCallbackCompleter({
      store,
      eventLog: log,
      apiBaseUrl: fake.url,
      clock: Date.now,
      logger: silentLogger,
      group,
      retryBaseMs: 100,
      retryPollMs: 25,
      ...options,
      tokenOf: async (_tenantId, handle) =>
        unavailable-- > 0
          ? { error: 'the provider has not answered yet. Try again later.', errorCode: 'PROVIDER_UNAVAILABLE' }
          : revoked
            ? { error: 'the connection "hubspot" was revoked', errorCode: 'REVOKED' }
            : { token: handle === 'hubspot-2' ? token2 : token },
    });

  async function blockedCallback(state: CallbackDoc['state'] = 'blocked', answerBy = Date.now(), handle = 'hubspot', expiresAt?: number): Promise<string> {
    const { callbackId } = await fake.app.executeAction({ definitionId, objectId: 1 });
    const doc: CallbackDoc = {
      callbackId,
      enrollmentId: `enr-${callbackId}`,
      portalId: 62515,
      handle,
      state,
      receivedAt: Date.now(),
      answerBy,
      leaseUntil: 0,
      attempts: 0,
      ...(expiresAt ? { expiresAt } : {}),
    };
    await tenantScoped(store, T).insertIfAbsent(CALLBACKS, callbackId, doc);
    return callbackId;
  }

  function finished(callbackId: string, outcome: { outputs: Record<string, number> } | { error: string }, connectionHandle = 'hubspot'): Envelope {
    const hubspot = {
      portalId: 62515,
      connectionHandle,
      callbackId,
      actionDefinitionId: definitionId,
      actionDefinitionVersion: 1,
      source: 'WORKFLOWS',
      workflowId: '9',
      subscriptionType: '',
      eventId: '',
    };
    const meta = { eventId: `evt-done-${callbackId}`, tenantId: T, aggregateId: `enr-${callbackId}`, occurredAt: Date.now() };
    return 'outputs' in outcome
      ? envelope(meta, { $case: 'enrollmentCompleted', value: { enrollmentId: `enr-${callbackId}`, outputs: { score: { fields: plainToFieldMap(outcome.outputs) } }, hubspot } })
      : envelope(meta, {
          $case: 'enrollmentFailed',
          value: { enrollmentId: `enr-${callbackId}`, failedActionId: 'score', error: { code: 'ACTION_FAILED', message: outcome.error, retryable: false, retryAfterMs: 0 }, hubspot },
        });
  }

  const completions = (id: string) => fake.app.callback(id)?.completions ?? [];
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(ok(), `timed out: ${what}`);
  };
  async function outcomes(): Promise<Array<{ callbackId: string; outcome: string; executionState: string; error: string }>> {
    const out: Array<{ callbackId: string; outcome: string; executionState: string; error: string }> = [];
    // As a consumer reads them: one per event id (a settled callback's outcome is appended again when its enrollment is redelivered).
    const seen = new Set<string>();
    await log.readAll([Topics.hubspot], async (batch) => {
      for (const r of batch) {
        const env = fromRecord(r.value);
        if (env?.event.$case === 'hubspotCallbackCompleted' && !seen.has(env.eventId)) (seen.add(env.eventId), out.push(env.event.value));
      }
    });
    return out;
  }

  it('completes each callback once across two replicas, with outputs or the failure, parking 429s and waiting out a pending synchronous answer', async () => {
    const ok = await blockedCallback();
    const failed = await blockedCallback();
    const waiting = await blockedCallback('waiting', Date.now() + 400);
    fake.failNext(429, 2, { pathPrefix: '/automation/v4/actions/callbacks' });
    const [a, b] = [await completer('replica-a'), await completer('replica-b')];
    const started = Date.now();
    await log.append([finished(ok, { outputs: { score: 87 } }), finished(failed, { error: 'no credit left' }), finished(waiting, { outputs: { score: 1 } })].map((e) => toRecord(e)));
    await until('three completions', () => [ok, failed, waiting].every((id) => completions(id).length === 1));
    assert.ok(Date.now() - started >= 350, 'the waiting one was left to its synchronous answer until its budget ran out');
    await new Promise((r) => setTimeout(r, 300));
    await a.stop();
    await b.stop();
    assert.deepEqual(completions(ok)[0]!.outputFields, { score: 87 });
    assert.deepEqual(completions(failed)[0]!.outputFields, { hs_execution_state: 'FAIL_CONTINUE', codestep_error: 'no credit left' });
    for (const id of [ok, failed, waiting]) assert.deepEqual([completions(id).length, fake.app.callback(id)!.refused], [1, 0], `${id}: one call to HubSpot`);
    const events = await outcomes();
    assert.deepEqual(events.map((e) => [e.callbackId, e.outcome]).sort(), [ok, failed, waiting].map((id) => [id, 'completed']).sort());
  });

  it('leaves a finished enrollment without a record to its action request for the answer budget: answered then, never called back; none by then, completed once', async () => {
    // No record: the action request writes it only with its answer (after the enrollment finished).
    const answeredLate = (await fake.app.executeAction({ definitionId, objectId: 1 })).callbackId;
    const requestDied = (await fake.app.executeAction({ definitionId, objectId: 1 })).callbackId;
    const [a, b] = [await completer('replica-budget-a', { answerWithinMs: 500 }), await completer('replica-budget-b', { answerWithinMs: 500 })];
    const started = Date.now();
    await log.append([finished(answeredLate, { outputs: { score: 5 } }), finished(requestDied, { outputs: { score: 6 } })].map((e) => toRecord(e)));
    await new Promise((r) => setTimeout(r, 150));
    // The request answers synchronously within its budget: its record comes first.
    const answered: CallbackDoc = {
      callbackId: answeredLate,
      enrollmentId: `enr-${answeredLate}`,
      portalId: 62515,
      handle: 'hubspot',
      state: 'answered',
      receivedAt: started,
      answerBy: started + 500,
      leaseUntil: 0,
      attempts: 0,
    };
    assert.equal(await tenantScoped(store, T).insertIfAbsent(CALLBACKS, answeredLate, answered), true, 'no completer recorded it within the budget');
    await until('the request that died completed by callback', () => completions(requestDied).length === 1);
    assert.ok(Date.now() - started >= 450, 'left to its request until the budget ran out');
    await new Promise((r) => setTimeout(r, 300));
    await a.stop();
    await b.stop();
    assert.deepEqual(completions(requestDied)[0]!.outputFields, { score: 6 });
    assert.equal(completions(answeredLate).length, 0, 'answered synchronously: HubSpot is not called back');
    assert.equal((await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, answeredLate))?.doc.state, 'answered');
    assert.equal((await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, requestDied))?.doc.state, 'completed');
    assert.deepEqual(
      (await outcomes()).filter((e) => e.callbackId === requestDied || e.callbackId === answeredLate).map((e) => [e.callbackId, e.outcome]),
      [[requestDied, 'completed']],
    );
  });

  it('leaves a callback that was answered synchronously alone, and gives up with "reconnect HubSpot" without a token', async () => {
    const answered = await blockedCallback('answered');
    const noToken = await blockedCallback();
    revoked = true;
    const c = await completer('replica-c');
    await log.append([finished(answered, { outputs: { score: 2 } }), finished(noToken, { outputs: { score: 3 } })].map((e) => toRecord(e)));
    for (let i = 0; i < 200; i++) {
      if ((await outcomes()).some((e) => e.callbackId === noToken)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await c.stop();
    revoked = false;
    assert.equal(completions(answered).length, 0);
    assert.equal(completions(noToken).length, 0);
    const gaveUp = (await outcomes()).find((e) => e.callbackId === noToken);
    assert.equal(gaveUp?.outcome, 'gave_up');
    assert.match(gaveUp?.error ?? '', /reconnect HubSpot: the connection "hubspot" was revoked/);
    assert.equal((await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, noToken))?.doc.state, 'gave_up');
  });

  it('finishes a completion a crashed replica left under an expired lease, and waits out a live one', async () => {
    const crashed = await blockedCallback('completing');
    const busy = await blockedCallback('completing');
    await tenantScoped(store, T).compareAndSet(CALLBACKS, busy, 1, { ...(await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, busy))!.doc, leaseUntil: Date.now() + 500 });
    const c = await completer('replica-restarted');
    const started = Date.now();
    await log.append([finished(crashed, { outputs: { score: 5 } }), finished(busy, { outputs: { score: 6 } })].map((e) => toRecord(e)));
    await until('both completed', () => completions(crashed).length === 1 && completions(busy).length === 1);
    await c.stop();
    assert.ok(Date.now() - started >= 450, 'the live lease was waited out');
    assert.deepEqual([completions(crashed)[0]!.outputFields, completions(busy)[0]!.outputFields], [{ score: 5 }, { score: 6 }]);
    assert.equal((await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, crashed))?.doc.attempts, 1);
  });

  const stateOf = async (id: string) => (await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, id))?.doc.state;
  const outcomesOf = async (ids: readonly string[]) => (await outcomes()).filter((e) => ids.includes(e.callbackId)).map((e) => [e.callbackId, e.outcome]);

  it('completes callbacks of one connection ready together in one batch request, and one by one when HubSpot refuses the batch', async () => {
    const together = [await blockedCallback(), await blockedCallback(), await blockedCallback()];
    const [already, fresh] = [await blockedCallback(), await blockedCallback()];
    // Completed by an earlier call that crashed before it was noted: HubSpot refuses a batch naming it.
    const earlier = await fetch(`${fake.url}/automation/v4/actions/callbacks/${already}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ outputFields: { score: 11 } }),
    });
    assert.equal(earlier.status, 204);
    const c = await completer('replica-batch');
    await log.append(together.map((id, i) => toRecord(finished(id, { outputs: { score: 20 + i } }))));
    await until('the batch of three', () => together.every((id) => completions(id).length === 1));
    await log.append([finished(already, { outputs: { score: 30 } }), finished(fresh, { outputs: { score: 31 } })].map((e) => toRecord(e)));
    const all = [...together, already, fresh];
    for (let i = 0; i < 400 && (await outcomesOf(all)).length < all.length; i++) await new Promise((r) => setTimeout(r, 25));
    await c.stop();
    assert.deepEqual(
      together.map((id) => [completions(id).length, completions(id)[0]!.outputFields, completions(id)[0]!.batch]),
      [
        [1, { score: 20 }, true],
        [1, { score: 21 }, true],
        [1, { score: 22 }, true],
      ],
      'one batch request for the three ready together, each with its outputs',
    );
    assert.deepEqual(
      completions(already).map((x) => x.outputFields),
      [{ score: 11 }],
      'the earlier completion stands',
    );
    assert.deepEqual(
      completions(fresh).map((x) => x.outputFields),
      [{ score: 31 }],
    );
    for (const id of all) assert.equal(await stateOf(id), 'completed', id);
    assert.deepEqual((await outcomesOf(all)).sort(), all.map((id) => [id, 'completed']).sort(), 'one outcome event each');
  });

  it('parks a batch HubSpot does not take yet at once, keeping the outcome events of the callbacks settled beside it', async () => {
    const first = [await blockedCallback(), await blockedCallback(), await blockedCallback()];
    const other = await blockedCallback('blocked', Date.now(), 'hubspot-2');
    // The batch's 503 parks its three callbacks; the retry loop completes them, HubSpot taking them then.
    fake.failNext(503, 1, { pathPrefix: '/automation/v4/actions/callbacks', token });
    const c = await completer('replica-503');
    await log.append([...first.map((id, i) => finished(id, { outputs: { score: 40 + i } })), finished(other, { outputs: { score: 50 } }, 'hubspot-2')].map((e) => toRecord(e)));
    // Under the 30 s lease: a callback of the refused batch left `completing` would not be redone in time.
    await until('all four completed', () => [...first, other].every((id) => completions(id).length === 1));
    for (let i = 0; i < 200 && (await outcomesOf([...first, other])).length < 4; i++) await new Promise((r) => setTimeout(r, 25));
    await c.stop();
    assert.deepEqual(
      first.map((id) => completions(id)[0]!.outputFields),
      [{ score: 40 }, { score: 41 }, { score: 42 }],
    );
    assert.deepEqual(completions(other)[0]!.outputFields, { score: 50 });
    for (const id of [...first, other]) assert.deepEqual([completions(id).length, fake.app.callback(id)!.refused, await stateOf(id)], [1, 0, 'completed'], id);
    const events = await outcomes();
    assert.deepEqual(
      [...first, other].map((id) => events.filter((e) => e.callbackId === id).length),
      [1, 1, 1, 1],
      'one outcome event each, the one settled beside the refused batch included',
    );
  });

  it('completes the callbacks it can claim without waiting for one another completer holds, and stands back from that one', async () => {
    const free = [await blockedCallback(), await blockedCallback()];
    const held = await blockedCallback('completing');
    const scoped = tenantScoped(store, T);
    const cur = (await scoped.get<CallbackDoc>(CALLBACKS, held))!;
    await scoped.compareAndSet(CALLBACKS, held, cur.version, { ...cur.doc, leaseUntil: Date.now() + 120_000 });
    const c = await completer('replica-beside-a-lease');
    await log.append([finished(held, { outputs: { score: 60 } }), ...free.map((id, i) => finished(id, { outputs: { score: 61 + i } }))].map((e) => toRecord(e)));
    // Well within the other completer's 120 s lease.
    await until('the two free ones completed', () => free.every((id) => completions(id).length === 1));
    assert.equal(completions(held).length, 0, 'the held one is left to its holder');
    // Its holder finishes it.
    const now = (await scoped.get<CallbackDoc>(CALLBACKS, held))!;
    assert.ok(await scoped.compareAndSet(CALLBACKS, held, now.version, { ...now.doc, state: 'completed' }));
    for (let i = 0; i < 200 && (await outcomesOf(free)).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    await c.stop();
    assert.deepEqual(
      free.map((id) => completions(id)[0]!.outputFields),
      [{ score: 61 }, { score: 62 }],
    );
    assert.equal(completions(held).length, 0);
    // The held one's outcome: this completer found it settled and appended its event (the same event id its holder appends: read once).
    assert.deepEqual((await outcomesOf([...free, held])).sort(), [...free, held].map((id) => [id, 'completed']).sort(), 'one outcome event each, the held one without a call to HubSpot');
  });

  it('tries again, instead of giving up, while the broker says the provider has not answered yet', async () => {
    const id = await blockedCallback();
    unavailable = 2;
    const c = await completer('replica-token-later');
    await log.append([toRecord(finished(id, { outputs: { score: 70 } }))]);
    await until('completed once a token came', () => completions(id).length === 1);
    for (let i = 0; i < 200 && (await outcomesOf([id])).length < 1; i++) await new Promise((r) => setTimeout(r, 25));
    await c.stop();
    assert.deepEqual(completions(id)[0]!.outputFields, { score: 70 });
    assert.deepEqual(await outcomesOf([id]), [[id, 'completed']]);
  });
  it('appends the outcome event of a callback a crashed completer settled but never recorded, without calling HubSpot again', async () => {
    const done = await blockedCallback('completed');
    const given = await blockedCallback();
    const scoped = tenantScoped(store, T);
    const cur = (await scoped.get<CallbackDoc>(CALLBACKS, given))!;
    await scoped.compareAndSet(CALLBACKS, given, cur.version, { ...cur.doc, state: 'gave_up', error: 'reconnect HubSpot: revoked' });
    const c = await completer('replica-after-crash');
    await log.append([finished(done, { outputs: { score: 5 } }), finished(given, { outputs: { score: 6 } })].map((e) => toRecord(e)));
    for (let i = 0; i < 400; i++) {
      const ids = new Set((await outcomes()).map((e) => e.callbackId));
      if (ids.has(done) && ids.has(given)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await c.stop();
    const events = (await outcomes()).filter((e) => e.callbackId === done || e.callbackId === given);
    assert.deepEqual(
      events.map((e) => [e.callbackId, e.outcome, e.error]).sort(),
      [
        [done, 'completed', ''],
        [given, 'gave_up', 'reconnect HubSpot: revoked'],
      ].sort(),
    );
    assert.deepEqual([completions(done).length, completions(given).length], [0, 0], 'HubSpot is not called for a settled callback');
  });

  /** The attempts HubSpot refused, as the enrollments topic has them (one per event id). */
  async function attempts(ids: readonly string[]): Promise<Array<{ callbackId: string; attempt: number; error: string; nextAttemptAt: number; gaveUp: boolean }>> {
    const out: Array<{ callbackId: string; attempt: number; error: string; nextAttemptAt: number; gaveUp: boolean }> = [];
    const seen = new Set<string>();
    await log.readAll([Topics.enrollments], async (batch) => {
      for (const r of batch) {
        const env = fromRecord(r.value);
        if (env?.event.$case === 'hubspotCallbackAttempted' && ids.includes(env.event.value.callbackId) && !seen.has(env.eventId)) {
          seen.add(env.eventId);
          assert.equal(env.aggregateId, env.event.value.enrollmentId, 'keyed by its enrollment, whose history shows it');
          out.push(env.event.value);
        }
      }
    });
    return out;
  }

  it("parks a callback HubSpot limits (429 with Retry-After) while the partition's next callbacks complete, and completes it once the wait is over", async () => {
    const limited = await blockedCallback();
    const next = await blockedCallback();
    fake.failNext(429, 1, { pathPrefix: `/automation/v4/actions/callbacks/${limited}`, retryAfterSeconds: 1 });
    const c = await completer('replica-retry-after');
    const started = Date.now();
    await log.append([toRecord(finished(limited, { outputs: { score: 80 } }))]);
    await until('parked', () => (fake.app.callback(limited)?.completions.length ?? 0) === 0 && fake.requests.some((r) => r.path.includes(limited)));
    // Appended after the refused one, in the same partition: not held back by HubSpot's wait.
    await log.append([toRecord(finished(next, { outputs: { score: 81 } }))]);
    await until('the next one completed', () => completions(next).length === 1);
    assert.equal(completions(limited).length, 0, 'the limited one still waits for its Retry-After: the next one did not wait for it');
    await until('the limited one completed', () => completions(limited).length === 1);
    assert.ok(completions(limited)[0]!.at - started >= 950, 'tried again only once Retry-After (1 s) had passed');
    for (let i = 0; i < 200 && (await outcomesOf([limited, next])).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    await c.stop();
    assert.deepEqual(completions(limited)[0]!.outputFields, { score: 80 });
    const refused = await attempts([limited, next]);
    assert.deepEqual(
      refused.map((a) => [a.callbackId, a.attempt, a.gaveUp]),
      [[limited, 1, false]],
    );
    assert.match(refused[0]!.error, /HubSpot answered HTTP 429/);
    assert.ok(refused[0]!.nextAttemptAt - started >= 1_000);
    assert.deepEqual(
      (await outcomesOf([limited, next])).sort(),
      [
        [limited, 'completed'],
        [next, 'completed'],
      ].sort(),
    );
    const doc = (await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, limited))!.doc;
    assert.deepEqual([doc.state, doc.attempts], ['completed', 2]);
  });

  it('tries a callback again with a doubling backoff while HubSpot answers 503, and completes it once HubSpot takes it', async () => {
    const id = await blockedCallback();
    fake.failNext(503, 3, { pathPrefix: `/automation/v4/actions/callbacks/${id}` });
    const c = await completer('replica-503-while');
    await log.append([toRecord(finished(id, { outputs: { score: 90 } }))]);
    await until('completed after three 503s', () => completions(id).length === 1);
    for (let i = 0; i < 200 && (await outcomesOf([id])).length < 1; i++) await new Promise((r) => setTimeout(r, 25));
    await c.stop();
    const refused = await attempts([id]);
    assert.deepEqual(
      refused.map((a) => [a.attempt, a.gaveUp]),
      [
        [1, false],
        [2, false],
        [3, false],
      ],
    );
    for (const a of refused) assert.match(a.error, /HubSpot answered HTTP 503/);
    const requests = fake.requests.filter((r) => r.path === `/automation/v4/actions/callbacks/${id}/complete`).map((r) => r.at);
    assert.equal(requests.length, 4);
    // 100 ms, 200 ms, 400 ms (retryBaseMs 100, doubling).
    assert.ok(requests[3]! - requests[2]! >= 350 && requests[2]! - requests[1]! >= 150, `backoff doubles: ${requests.map((t) => t - requests[0]!).join(', ')}`);
    assert.deepEqual(await outcomesOf([id]), [[id, 'completed']]);
    assert.deepEqual(completions(id)[0]!.outputFields, { score: 90 });
  });

  it('gives a callback up when HubSpot refuses it until the block expires, saying so in an event of its enrollment', async () => {
    const expiresAt = Date.now() + 1_500;
    const id = await blockedCallback('blocked', Date.now(), 'hubspot-2', expiresAt);
    fake.failNext(503, Infinity, { pathPrefix: '/automation/v4/actions/callbacks', token: token2 });
    const c = await completer('replica-503-forever');
    await log.append([toRecord(finished(id, { outputs: { score: 99 } }, 'hubspot-2'))]);
    for (let i = 0; i < 400 && (await outcomesOf([id])).length < 1; i++) await new Promise((r) => setTimeout(r, 25));
    await c.stop();
    assert.equal(completions(id).length, 0);
    const outcome = (await outcomes()).find((e) => e.callbackId === id);
    assert.equal(outcome?.outcome, 'gave_up');
    assert.match(outcome?.error ?? '', /^callback not delivered: HubSpot answered HTTP 503: .* until the block expired at /);
    const refused = await attempts([id]);
    assert.ok(refused.length >= 3, `tried until the expiration (${refused.length} attempts)`);
    assert.deepEqual(
      refused.map((a) => a.gaveUp),
      [...refused.slice(1).map(() => false), true],
      'the last attempt gave up',
    );
    assert.ok(
      refused.slice(0, -1).every((a) => a.nextAttemptAt > 0 && a.nextAttemptAt < expiresAt),
      'no attempt planned after the expiration',
    );
    const last = fake.requests.filter((r) => r.path === `/automation/v4/actions/callbacks/${id}/complete`).at(-1)!;
    assert.ok(last.at < expiresAt, 'HubSpot was not called after the block expired');
    const doc = (await tenantScoped(store, T).get<CallbackDoc>(CALLBACKS, id))!.doc;
    assert.equal(doc.state, 'gave_up');
  });
});
