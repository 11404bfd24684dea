/**
 * `POST /integrations/hubspot/webhooks`: HubSpot's CRM webhook batches (up to 100 events a
 * request, signed v3 — v1 accepted where it comes alone). Each event's portal maps to the tenant
 * that installed the app; each workflow with a matching trigger enrolls the object, by a request
 * id derived from HubSpot's `eventId` (or, for triggers that never re-enroll, from the object),
 * so a retried delivery or a duplicate event enrolls nothing twice. A trigger that re-enrolls
 * "after N minutes" skips an object whose last enrollment by it (a projection of the log, so it
 * holds across restarts) is younger than that, and otherwise asks with a request id naming that
 * last enrollment: events deciding from the same one (concurrent deliveries, two replicas, a
 * projection lagging behind) ask for the same next enrollment, started once. The answer comes
 * once every enrollment is durably requested: a 200 means nothing accepted can be lost. Reading
 * the workflows' crmProperties is bounded by a budget (`webhookReadBudgetMs`, HubSpot's 429/5XX
 * waits included), so HubSpot limiting the reads cannot make the answer late: what is not read by
 * then is recorded as such in the enrollment's `crm_read`, and the enrollment goes ahead.
 */
import { CodestepError, ValidationError } from '@codestep/core';
import type { Route, RouteRequest } from '../router.ts';
import { portalOwner, verifiedBody, type HubSpotRouteDeps } from './hubspot-actions.routes.ts';
import type { BatchRead, PlannedEnrollment } from './crm-properties.ts';
import { lastTriggerEnrollment } from './hubspot-trigger-enrollments.projection.ts';
import { TRIGGER_OBJECTS, triggersFor, type TriggerDoc } from './hubspot-triggers.ts';

/** HubSpot sends at most this many events per request. */
export const MAX_WEBHOOK_BATCH = 100;

interface WebhookEvent {
  eventId: string;
  portalId: number;
  subscriptionType: string;
  objectId: string;
  propertyName?: string;
  propertyValue?: string;
  /** When it happened in HubSpot (`occurredAt`), UNIX ms; absent when HubSpot did not say. */
  occurredAt?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseEvents(body: unknown): WebhookEvent[] {
  if (!Array.isArray(body)) throw new ValidationError('the body must be HubSpot’s array of webhook events');
  if (body.length > MAX_WEBHOOK_BATCH) throw new ValidationError(`a webhook request holds at most ${MAX_WEBHOOK_BATCH} events (HubSpot’s batch size); this one has ${body.length}`);
  return body.map((e, i) => {
    const where = `[${i}]`;
    if (!isObj(e)) throw new ValidationError(`${where} must be a webhook event object`);
    const id = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^\d{1,20}$/.test(v));
    if (!id(e.eventId)) throw new ValidationError(`${where}.eventId must be HubSpot's event id`, { field: `${where}.eventId` });
    if (!id(e.portalId) || Number(e.portalId) <= 0) throw new ValidationError(`${where}.portalId must be the HubSpot portal id`, { field: `${where}.portalId` });
    if (!id(e.objectId)) throw new ValidationError(`${where}.objectId must be the record's id`, { field: `${where}.objectId` });
    if (typeof e.subscriptionType !== 'string' || e.subscriptionType.length > 100)
      throw new ValidationError(`${where}.subscriptionType must be e.g. "contact.creation"`, { field: `${where}.subscriptionType` });
    return {
      eventId: String(e.eventId),
      portalId: Number(e.portalId),
      subscriptionType: e.subscriptionType,
      objectId: String(e.objectId),
      ...(typeof e.propertyName === 'string' ? { propertyName: e.propertyName } : {}),
      ...(typeof e.propertyValue === 'string' ? { propertyValue: e.propertyValue } : {}),
      ...(typeof e.occurredAt === 'number' && Number.isSafeInteger(e.occurredAt) && e.occurredAt > 0 ? { occurredAt: e.occurredAt } : {}),
    };
  });
}

type Ignored = { eventId: string; reason: string };
/** An event a matching trigger enrolled nothing for, and why (its re-enrollment rule, a repeat in the delivery). */
type Skipped = { eventId: string; workflowId: string; reason: string };

/** One enrollment a webhook event asks for: the workflow its trigger names, the object as the event tells it. */
interface Planned extends PlannedEnrollment {
  event: WebhookEvent;
  requestId: string;
}

/**
 * The request id trigger `t` enrolls the event's object with, or why it enrolls nothing now:
 * `never`, one per object; `always`, one per event; `after`, one per last enrollment, when the
 * event occurred `reenrollAfterMinutes` or more after the event of the object's last enrollment
 * by the trigger. Decided by when HubSpot says the events occurred (else when they arrive), not
 * when they were delivered: a retried or late event older than that last enrollment's enrolls
 * nothing (remembering only the last enrollment is enough), and a first enrollment delivered
 * late does not push the window back.
 */
async function requestIdFor(deps: HubSpotRouteDeps, tenantId: string, t: TriggerDoc, e: WebhookEvent, objectType: string): Promise<{ requestId: string } | { skipped: string }> {
  if (t.reenroll === 'never') return { requestId: `hubspot-trigger:${t.workflowId}:${objectType}:${e.objectId}` };
  if (t.reenroll !== 'after') return { requestId: `hubspot-event:${e.eventId}:${t.workflowId}` };
  const last = await lastTriggerEnrollment(deps.store, tenantId, t.workflowId, objectType, e.objectId);
  if (!last) return { requestId: `hubspot-trigger:${t.workflowId}:${objectType}:${e.objectId}:after:none` };
  if (last.eventId === e.eventId) return { skipped: `event ${e.eventId} already enrolled ${objectType} ${e.objectId} (enrollment ${last.enrollmentId})` };
  const occurredAt = e.occurredAt ?? deps.clock();
  const lastOccurredAt = last.eventOccurredAt ?? last.startedAt;
  const iso = (ms: number) => new Date(ms).toISOString();
  if (occurredAt <= lastOccurredAt) {
    return {
      skipped: `event ${e.eventId} occurred at ${iso(occurredAt)}, before the event of ${objectType} ${e.objectId}'s last enrollment into workflow ${t.workflowId} (enrollment ${last.enrollmentId}, event ${last.eventId} at ${iso(lastOccurredAt)})`,
    };
  }
  const minutes = t.reenrollAfterMinutes ?? 0;
  if (occurredAt - lastOccurredAt < minutes * 60_000) {
    return {
      skipped: `${objectType} ${e.objectId} enrolled into workflow ${t.workflowId} at ${iso(lastOccurredAt)} (enrollment ${last.enrollmentId}); its trigger re-enrolls an object ${minutes} minutes after its last enrollment`,
    };
  }
  return { requestId: `hubspot-trigger:${t.workflowId}:${objectType}:${e.objectId}:after:${last.enrollmentId}` };
}

/** The enrollments the events trigger, in the events' order, and the matches that enroll nothing. */
async function plan(deps: HubSpotRouteDeps, owners: Map<number, unknown>, events: readonly WebhookEvent[]): Promise<{ planned: Planned[]; skipped: Skipped[] }> {
  const planned: Planned[] = [];
  const skipped: Skipped[] = [];
  const asked = new Set<string>();
  for (const e of events) {
    const owner = owners.get(e.portalId) as { tenantId: string; handle: string };
    const objectType = TRIGGER_OBJECTS[e.subscriptionType.split('.')[0] ?? ''] ?? e.subscriptionType.split('.')[0]!.toUpperCase();
    for (const t of await triggersFor(deps.store, owner.tenantId, e.subscriptionType, e.propertyName)) {
      const decided = await requestIdFor(deps, owner.tenantId, t, e, objectType);
      if ('skipped' in decided) {
        skipped.push({ eventId: e.eventId, workflowId: t.workflowId, reason: decided.skipped });
        continue;
      }
      // The same enrollment asked for again in this delivery (the same object, or a repeated event).
      const key = JSON.stringify([owner.tenantId, decided.requestId]);
      if (asked.has(key)) {
        skipped.push({ eventId: e.eventId, workflowId: t.workflowId, reason: `an earlier event of this delivery enrolls ${objectType} ${e.objectId} into workflow ${t.workflowId}` });
        continue;
      }
      asked.add(key);
      planned.push({
        tenantId: owner.tenantId,
        connection: owner.handle,
        workflowId: t.workflowId,
        object: { objectType, objectId: e.objectId, properties: e.propertyName && e.propertyValue !== undefined ? { [e.propertyName]: e.propertyValue } : {} },
        event: e,
        requestId: decided.requestId,
      });
    }
  }
  return { planned, skipped };
}

/** Requests one planned enrollment (its crmProperties read first, by `deadline`); false when the workflow refused the object's type. */
async function enrollPlanned(deps: HubSpotRouteDeps, p: Planned, batch: BatchRead | undefined, deadline: number): Promise<boolean> {
  const { policy } = await deps.limitsOf(p.tenantId);
  const { object, crmRead } = deps.fetchCrmProperties
    ? await deps.fetchCrmProperties({ tenantId: p.tenantId, workflowId: p.workflowId, object: p.object, connection: p.connection, batch, deadline })
    : { object: p.object, crmRead: undefined };
  const e = p.event;
  return enrollOne(deps, {
    tenantId: p.tenantId,
    workflowId: p.workflowId,
    object,
    crmRead,
    requestId: p.requestId,
    portalId: e.portalId,
    trigger: undefined,
    limits: policy,
    hubspot: {
      portalId: e.portalId,
      connectionHandle: p.connection,
      callbackId: '',
      actionDefinitionId: '',
      actionDefinitionVersion: 0,
      source: 'WEBHOOK',
      workflowId: '',
      subscriptionType: e.subscriptionType,
      eventId: e.eventId,
      ...(e.occurredAt !== undefined ? { eventOccurredAt: e.occurredAt } : {}),
    },
  });
}

/**
 * One enrollment of a webhook event; false when the workflow refused the event's object type (its
 * type changed since the trigger was set): skipped, so HubSpot is not asked to retry for nothing.
 */
async function enrollOne(deps: HubSpotRouteDeps, req: Parameters<HubSpotRouteDeps['clients']['enrollments']['enroll']>[0]): Promise<boolean> {
  try {
    await deps.clients.enrollments.enroll(req);
    return true;
  } catch (error) {
    if (error instanceof CodestepError && error.code === 'INVALID_ARGUMENT' && error.message.startsWith('object.objectType:')) return false;
    throw error;
  }
}

async function handleWebhooks(deps: HubSpotRouteDeps, req: RouteRequest) {
  // HubSpot is answered in bounded time: reading crmProperties stops here, whatever HubSpot's limits say.
  const deadline = Date.now() + (deps.webhookReadBudgetMs ?? 2_000);
  const events = parseEvents(verifiedBody(deps, req));
  const owners = new Map<number, { tenantId: string; handle: string } | Ignored['reason']>();
  for (const portalId of new Set(events.map((e) => e.portalId))) {
    try {
      owners.set(portalId, await portalOwner(deps, portalId));
    } catch (error) {
      if (!(error instanceof CodestepError) || (error.code !== 'NOT_FOUND' && error.code !== 'FAILED_PRECONDITION')) throw error;
      owners.set(portalId, error.message);
    }
  }
  const known = events.filter((e) => typeof owners.get(e.portalId) === 'object');
  if (events.length && !known.length) {
    const [first] = [...owners.values()];
    throw new CodestepError('NOT_FOUND', `${String(first)}. HubSpot will retry this delivery; nothing was enrolled.`);
  }
  const ignored: Ignored[] = events.filter((e) => typeof owners.get(e.portalId) === 'string').map((e) => ({ eventId: e.eventId, reason: owners.get(e.portalId) as string }));
  const { planned, skipped } = await plan(deps, owners, known);
  // Several records of a type needing crmProperties: read together (batch read) before enrolling.
  const batches = deps.prefetchCrmProperties && planned.length > 1 ? await deps.prefetchCrmProperties(planned, deadline) : new Map<number, BatchRead>();
  // Up to 16 enrollments at once; the answer waits for all of them (a 200 loses nothing).
  let enrolled = 0;
  let next = 0;
  const worker = async () => {
    while (next < planned.length) {
      const i = next++;
      if (await enrollPlanned(deps, planned[i]!, batches.get(i), deadline)) enrolled++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, planned.length) }, worker));
  return { status: 200, body: { accepted: known.length, enrolled, ignored, skipped } };
}

export function hubspotWebhookRoutes(deps: HubSpotRouteDeps): Route[] {
  return [{ method: 'POST', path: '/integrations/hubspot/webhooks', auth: 'none', rawBody: true, handle: (req) => handleWebhooks(deps, req) }];
}
