/**
 * A HubSpot trigger that re-enrolls "after N minutes", through the webhook receiver on the
 * embedded store and event log: the same object within N minutes enrolls once, after N minutes
 * again, and the decision holds on a gateway whose store was rebuilt from the log (a restart, a
 * replay). The clock is injected, nothing sleeps. The enrollment service's part is played by the
 * domain's own decider (`startEnrollment`) behind a request-id record, as the service does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Signature } from '@hubspot/api-client';
import type { WorkflowDefinition } from '@codestep/contracts';
import { deterministicId } from '@codestep/core';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { toRecord } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { startEnrollment } from '@codestep/workflows';
import type { Route } from '../router.ts';
import type { HubSpotRouteDeps } from './hubspot-actions.routes.ts';
import { followTriggerEnrollments, hubspotTriggerEnrollmentsProjection, lastTriggerEnrollment } from './hubspot-trigger-enrollments.projection.ts';
import { hubspotTriggerRoutes, hubspotTriggersProjection } from './hubspot-triggers.ts';
import { hubspotWebhookRoutes } from './hubspot-webhooks.routes.ts';

const SECRET = 'app-secret-91c2';
const PUBLIC_URL = 'https://codestep.example.com';
const PORTAL = 62515;
const T0 = Date.parse('2026-12-07T10:00:00Z');
const MINUTE = 60_000;
const WORKFLOW = { workflowId: 'wf-1', version: 1, name: 'follow up', objectType: 'CONTACT', createdAt: 1, actions: [] } as unknown as WorkflowDefinition;

/** The gateway's HubSpot routes on `store`, with an enrollment service that starts each request id once. */
function gateway(store: DocumentStore, eventLog: SqliteEventLog, clock: { now: number }) {
  const started = new Map<string, string>();
  const clients = {
    credentials: { findAccountConnection: async () => ({ tenantId: 't-1', handle: 'hubspot' }) },
    workflows: { getWorkflow: async () => WORKFLOW },
    enrollments: {
      enroll: async (req: Parameters<HubSpotRouteDeps['clients']['enrollments']['enroll']>[0]) => {
        const enrollmentId = started.get(req.requestId) ?? deterministicId('enr', req.tenantId, req.requestId);
        if (!started.has(req.requestId)) {
          started.set(req.requestId, enrollmentId);
          const envs = startEnrollment(WORKFLOW, { tenantId: req.tenantId, enrollmentId, object: req.object!, portalId: req.portalId, requestId: req.requestId, hubspot: req.hubspot }, clock.now);
          await eventLog.append(envs.map((e) => toRecord(e)));
        }
        return { enrollmentId, workflowVersion: 1 };
      },
    },
  } as unknown as HubSpotRouteDeps['clients'];
  const deps: HubSpotRouteDeps = {
    clients,
    store,
    eventLog,
    limitsOf: (async () => ({ policy: undefined })) as unknown as HubSpotRouteDeps['limitsOf'],
    clock: () => clock.now,
    settings: { appId: 1, clientSecret: SECRET, publicUrl: PUBLIC_URL, apiBaseUrl: 'http://127.0.0.1:1', answerWithinMs: 1000, blockExpiration: 'P1D' },
  };
  const route = (routes: Route[], method: string, path: string) => routes.find((r) => r.method === method && r.path === path)!;
  const triggers = hubspotTriggerRoutes(clients, { store, eventLog, clock: () => clock.now });
  const webhooks = route(hubspotWebhookRoutes(deps), 'POST', '/integrations/hubspot/webhooks');
  let eventId = 0;
  return {
    setTrigger: (body: unknown) => route(triggers, 'PUT', '/v1/workflows/:id/hubspot-trigger').handle({ tenantId: 't-1', params: { id: 'wf-1' }, query: new URLSearchParams(), headers: {}, body }),
    /** One signed delivery (v3, timestamped by the injected clock) of `contact.propertyChange` events for these contacts. */
    deliver(objectIds: number[]) {
      return this.deliverEvents(objectIds.map((objectId) => ({ eventId: 7000 + clock.now / MINUTE + eventId++, objectId, occurredAt: clock.now })));
    },
    /** One signed delivery of these events, as HubSpot sends them (a retry sends the same `eventId` and `occurredAt`). */
    async deliverEvents(events: Array<{ eventId: number; objectId: number; occurredAt: number }>) {
      const body = JSON.stringify(
        events.map((e) => ({
          eventId: e.eventId,
          portalId: PORTAL,
          subscriptionType: 'contact.propertyChange',
          objectId: e.objectId,
          propertyName: 'lifecyclestage',
          propertyValue: 'lead',
          occurredAt: e.occurredAt,
        })),
      );
      const target = '/integrations/hubspot/webhooks';
      const signature = Signature.getSignature('POST', 'v3', { clientSecret: SECRET, requestBody: body, url: PUBLIC_URL + target, timestamp: clock.now, signature: '' });
      const res = await webhooks.handle({
        tenantId: '',
        params: {},
        query: new URLSearchParams(),
        body: undefined,
        rawBody: Buffer.from(body),
        target,
        headers: { 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(clock.now) },
      });
      return res.body as { accepted: number; enrolled: number; skipped: Array<{ eventId: string; workflowId: string; reason: string }> };
    },
    started,
  };
}

/** Waits until the gateway's projection (following the log) has the object's enrollment `enrollmentId`. */
async function projected(store: DocumentStore, objectId: string, enrollmentId: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await lastTriggerEnrollment(store, 't-1', 'wf-1', 'CONTACT', objectId))?.enrollmentId === enrollmentId) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`the projection never showed enrollment ${enrollmentId} of contact ${objectId}`);
}

describe('a HubSpot trigger that re-enrolls after N minutes', () => {
  it('enrolls the same object once within N minutes (across deliveries and within one) and again once N minutes have passed', async () => {
    const clock = { now: T0 };
    const store = new SqliteStore({ path: ':memory:' });
    const eventLog = new SqliteEventLog({ path: ':memory:' });
    const following = await followTriggerEnrollments({ store, eventLog, onError: (e) => assert.fail(String(e)) });
    try {
      const g = gateway(store, eventLog, clock);
      const set = await g.setTrigger({ subscription: 'contact.propertyChange', reenroll: 'after', reenrollAfterMinutes: 60 });
      assert.deepEqual(set.body, {
        workflowId: 'wf-1',
        subscription: 'contact.propertyChange',
        propertyName: null,
        reenroll: 'after',
        reenrollAfterMinutes: 60,
        updatedAt: new Date(T0).toISOString(),
      });

      const first = await g.deliver([101, 101]);
      assert.deepEqual([first.accepted, first.enrolled], [2, 1], 'two events of one contact in a delivery enroll it once');
      assert.match(first.skipped[0]!.reason, /an earlier event of this delivery enrolls CONTACT 101/);
      const [firstEnrollment] = [...g.started.values()];
      await projected(store, '101', firstEnrollment!);

      clock.now = T0 + 59 * MINUTE;
      const within = await g.deliver([101]);
      assert.equal(within.enrolled, 0);
      assert.match(within.skipped[0]!.reason, /CONTACT 101 enrolled into workflow wf-1 at 2026-12-07T10:00:00.000Z .*re-enrolls an object 60 minutes after its last enrollment/);
      assert.equal(g.started.size, 1);

      clock.now = T0 + 60 * MINUTE;
      const after = await g.deliver([101, 202]);
      assert.deepEqual([after.enrolled, after.skipped.length], [2, 0], 'after 60 minutes the contact enrolls again, and another contact enrolls on its own');
      assert.equal(g.started.size, 3);
      const second = [...g.started.values()][1]!;
      await projected(store, '101', second);
      clock.now = T0 + 61 * MINUTE;
      assert.equal((await g.deliver([101])).enrolled, 0, 'the window starts again from the second enrollment');
    } finally {
      await following.stop();
      await eventLog.close();
      await store.close();
    }
  });

  it('decides the same on a gateway whose store was rebuilt from the log (a restart after losing the store, or a replay)', async () => {
    const clock = { now: T0 };
    const eventLog = new SqliteEventLog({ path: ':memory:' });
    const before = new SqliteStore({ path: ':memory:' });
    await hubspotTriggerEnrollmentsProjection.ensure(before);
    const g = gateway(before, eventLog, clock);
    await g.setTrigger({ subscription: 'contact.propertyChange', reenroll: 'after', reenrollAfterMinutes: 30 });
    assert.equal((await g.deliver([303])).enrolled, 1);

    // A new gateway on a new store: both projections rebuilt by replaying the log, nothing kept in memory.
    const rebuilt = new SqliteStore({ path: ':memory:' });
    for (const projection of [hubspotTriggersProjection, hubspotTriggerEnrollmentsProjection]) {
      await projection.ensure(rebuilt);
      await eventLog.readAll(projection.topics, (batch) => projection.apply(rebuilt, batch));
    }
    const restarted = gateway(rebuilt, eventLog, clock);
    // The enrollment service keeps its request records across the restart too.
    for (const [k, v] of g.started) restarted.started.set(k, v);
    clock.now = T0 + 29 * MINUTE;
    const within = await restarted.deliver([303]);
    assert.equal(within.enrolled, 0);
    assert.match(within.skipped[0]!.reason, /re-enrolls an object 30 minutes after/);
    clock.now = T0 + 31 * MINUTE;
    assert.equal((await restarted.deliver([303])).enrolled, 1);
    assert.equal(restarted.started.size, 2);
    await eventLog.close();
    await before.close();
    await rebuilt.close();
  });

  it('decides by when HubSpot says each event occurred: a retried or late event never enrolls twice, and a late first enrollment does not push the window back', async () => {
    const clock = { now: T0 };
    const store = new SqliteStore({ path: ':memory:' });
    const eventLog = new SqliteEventLog({ path: ':memory:' });
    const following = await followTriggerEnrollments({ store, eventLog, onError: (e) => assert.fail(String(e)) });
    try {
      const g = gateway(store, eventLog, clock);
      await g.setTrigger({ subscription: 'contact.propertyChange', reenroll: 'after', reenrollAfterMinutes: 60 });
      const last = async (objectId: string) => (await lastTriggerEnrollment(store, 't-1', 'wf-1', 'CONTACT', objectId))?.enrollmentId;
      const waitFor = async (objectId: string, count: number) => {
        const ids = [...g.started.entries()].filter(([k]) => k.includes(`:${objectId}:`)).map(([, v]) => v);
        assert.equal(ids.length, count, `contact ${objectId} enrolled ${count} time(s)`);
        await projected(store, objectId, ids.at(-1)!);
      };

      // E1 enrolls; E2, 61 minutes later, enrolls again; then HubSpot retries E1 (our answer to it got lost).
      assert.equal((await g.deliverEvents([{ eventId: 1, objectId: 401, occurredAt: T0 }])).enrolled, 1);
      await waitFor('401', 1);
      clock.now = T0 + 61 * MINUTE;
      assert.equal((await g.deliverEvents([{ eventId: 2, objectId: 401, occurredAt: clock.now }])).enrolled, 1);
      await waitFor('401', 2);
      clock.now = T0 + 125 * MINUTE;
      const retried = await g.deliverEvents([{ eventId: 1, objectId: 401, occurredAt: T0 }]);
      assert.equal(retried.enrolled, 0, 'a retried old event does not enroll the contact a third time');
      assert.match(retried.skipped[0]!.reason, /event 1 occurred at 2026-12-07T10:00:00.000Z, before the event of CONTACT 401's last enrollment/);
      assert.equal(g.started.size, 2);

      // Two events delivered out of order within the window: one enrollment.
      clock.now = T0 + 200 * MINUTE;
      assert.equal((await g.deliverEvents([{ eventId: 11, objectId: 402, occurredAt: T0 + 190 * MINUTE }])).enrolled, 1);
      await waitFor('402', 1);
      assert.equal((await g.deliverEvents([{ eventId: 10, objectId: 402, occurredAt: T0 + 150 * MINUTE }])).enrolled, 0, 'the older event, delivered late, enrolls nothing');
      // An event 30 minutes after that enrollment's event, delivered (retried) only 65 minutes later: still within the window.
      clock.now = T0 + 255 * MINUTE;
      assert.equal((await g.deliverEvents([{ eventId: 12, objectId: 402, occurredAt: T0 + 220 * MINUTE }])).enrolled, 0, 'the window counts from when the events occurred');
      await waitFor('402', 1);

      // The first event delivered 50 minutes late, the next one occurring 61 minutes after it: due, though only 12 minutes after the first enrolled.
      clock.now = T0 + 350 * MINUTE;
      assert.equal((await g.deliverEvents([{ eventId: 20, objectId: 403, occurredAt: T0 + 300 * MINUTE }])).enrolled, 1);
      await waitFor('403', 1);
      clock.now = T0 + 362 * MINUTE;
      assert.equal((await g.deliverEvents([{ eventId: 21, objectId: 403, occurredAt: T0 + 361 * MINUTE }])).enrolled, 1, 'not refused for the first delivery being late');
      await waitFor('403', 2);
      assert.notEqual(await last('403'), undefined);
    } finally {
      await following.stop();
      await eventLog.close();
      await store.close();
    }
  });

  it('keeps "never" and "always" as they were, and refuses a re-enrollment rule that is incomplete or mixed, naming the field', async () => {
    const clock = { now: T0 };
    const store = new SqliteStore({ path: ':memory:' });
    const eventLog = new SqliteEventLog({ path: ':memory:' });
    const g = gateway(store, eventLog, clock);
    assert.equal(((await g.setTrigger({ subscription: 'contact.creation', reenroll: 'never' })).body as { reenroll: string }).reenroll, 'never');
    clock.now += 1; // a trigger's changes are ordered by their time
    const always = (await g.setTrigger({ subscription: 'contact.creation' })).body as Record<string, unknown>;
    assert.deepEqual([always.reenroll, 'reenrollAfterMinutes' in always], ['always', false]);
    for (const [body, field, message] of [
      [{ subscription: 'contact.creation', reenroll: 'after' }, 'reenrollAfterMinutes', /whole number of minutes from 1 to 525600 with reenroll "after"/],
      [{ subscription: 'contact.creation', reenroll: 'after', reenrollAfterMinutes: 1.5 }, 'reenrollAfterMinutes', /whole number of minutes/],
      [{ subscription: 'contact.creation', reenroll: 'after', reenrollAfterMinutes: 0 }, 'reenrollAfterMinutes', /whole number of minutes/],
      [{ subscription: 'contact.creation', reenroll: 'always', reenrollAfterMinutes: 60 }, 'reenrollAfterMinutes', /only goes with "reenroll": "after"/],
      [{ subscription: 'contact.creation', reenroll: 'sometimes' }, 'reenroll', /"never" \(once per object\), "always" \(every event\) or "after"/],
    ] as const) {
      await assert.rejects(g.setTrigger(body), (e: { code: string; details?: { field?: string }; message: string }) => {
        assert.equal(e.code, 'INVALID_ARGUMENT');
        assert.match(e.message, message);
        assert.equal(e.details?.field, field);
        return true;
      });
    }
    await eventLog.close();
    await store.close();
  });
});
