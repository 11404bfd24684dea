/**
 * When each object last enrolled into a workflow through its HubSpot CRM trigger: what a trigger
 * that re-enrolls "after N minutes" decides with. A projection of `EnrollmentStarted` (on
 * `codestep.enrollments.v1`) whose HubSpot origin is a webhook event, per tenant, keyed by
 * workflow, object type and object id, versioned by when HubSpot says the webhook event occurred
 * (else the enrollment's time; the latest wins), rebuilt
 * by `codestep replay` and followed by the gateway.
 *
 * Only the log writes it, never the request path. A decision made while this lags behind
 * starts nothing twice: the enroll request id of an "after" trigger names the enrollment it
 * follows (`hubspot-webhooks.routes.ts`), so every event deciding from the same last enrollment
 * asks for the same next one, which the enrollment service starts once. Lagging by more than
 * the trigger's minutes would hold back a due re-enrollment (it finds the one already started).
 */
import type { EventLog } from '@codestep/event-log';
import { Topics, type Envelope } from '@codestep/events';
import { tenantScoped, type DocumentStore, type ProjectedRecord, type Projection } from '@codestep/store';
import { envelopesOfTypes } from './hubspot-records.ts';

/** The only events this projection applies. */
const STARTED: ReadonlySet<string> = new Set(['EnrollmentStarted']);

export const TRIGGER_ENROLLMENTS = 'hubspot_trigger_enrollments';

/** An object's last enrollment into a workflow by a HubSpot webhook event. */
export interface TriggerEnrollmentDoc {
  workflowId: string;
  objectType: string;
  objectId: string;
  enrollmentId: string;
  /** HubSpot's `eventId` of the event that enrolled it. */
  eventId: string;
  /** When it started (the event's time), UNIX ms. */
  startedAt: number;
  /** When HubSpot says that webhook event occurred, UNIX ms (absent: HubSpot did not say; `startedAt` stands in). */
  eventOccurredAt?: number;
}

export const triggerEnrollmentKey = (workflowId: string, objectType: string, objectId: string): string => `${workflowId}:${objectType}:${objectId}`;

export async function ensureTriggerEnrollments(store: DocumentStore): Promise<void> {
  await store.ensureCollection(TRIGGER_ENROLLMENTS, [{ fields: ['tenantId'] }]);
}

/** Applies the enrollments HubSpot webhook events started; idempotent, the latest per object (by when its event occurred) wins. */
export async function applyTriggerEnrollments(store: DocumentStore, envelopes: readonly Envelope[]): Promise<void> {
  for (const env of envelopes) {
    if (env.event.$case !== 'enrollmentStarted' || !env.tenantId) continue;
    const { enrollmentId, workflowId, object, hubspot } = env.event.value;
    if (!object || hubspot?.source !== 'WEBHOOK' || !hubspot.eventId) continue;
    const eventOccurredAt = hubspot.eventOccurredAt ? Number(hubspot.eventOccurredAt) : undefined;
    const doc: TriggerEnrollmentDoc = {
      workflowId,
      objectType: object.objectType,
      objectId: object.objectId,
      enrollmentId,
      eventId: hubspot.eventId,
      startedAt: env.occurredAt,
      ...(eventOccurredAt ? { eventOccurredAt } : {}),
    };
    const key = triggerEnrollmentKey(workflowId, object.objectType, object.objectId);
    await tenantScoped(store, env.tenantId).writeVersioned(TRIGGER_ENROLLMENTS, [{ id: key, version: eventOccurredAt ?? env.occurredAt, doc }]);
  }
}

export const hubspotTriggerEnrollmentsProjection: Projection = {
  name: 'hubspot-trigger-enrollments',
  service: 'gateway',
  topics: [Topics.enrollments],
  collections: [TRIGGER_ENROLLMENTS],
  ensure: ensureTriggerEnrollments,
  apply: (store, batch: ProjectedRecord[]) => applyTriggerEnrollments(store, envelopesOfTypes(batch, STARTED)),
};

/** The object's last enrollment into the workflow by its HubSpot trigger, if any. */
export async function lastTriggerEnrollment(store: DocumentStore, tenantId: string, workflowId: string, objectType: string, objectId: string): Promise<TriggerEnrollmentDoc | undefined> {
  return (await tenantScoped(store, tenantId).get<TriggerEnrollmentDoc>(TRIGGER_ENROLLMENTS, triggerEnrollmentKey(workflowId, objectType, objectId)))?.doc;
}

/** Keeps the projection following the enrollments topic (one consumer group across gateway replicas). */
export async function followTriggerEnrollments(deps: { store: DocumentStore; eventLog: EventLog; onError(error: unknown): void }) {
  await ensureTriggerEnrollments(deps.store);
  await deps.eventLog.ensureTopics([Topics.enrollments]);
  return deps.eventLog.consume({
    group: 'codestep-gateway-hubspot-trigger-enrollments',
    topics: [Topics.enrollments],
    batchSize: 500,
    handle: async (batch) => {
      await hubspotTriggerEnrollmentsProjection.apply(deps.store, batch);
      return [];
    },
    onError: deps.onError,
  });
}
