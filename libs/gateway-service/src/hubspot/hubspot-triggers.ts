/**
 * Workflows' HubSpot CRM triggers: "enroll the object when HubSpot reports `contact.creation`
 * (or `deal.propertyChange` of `amount`, …) in my portal". Set with the tenant's API key
 * (`PUT /v1/workflows/{id}/hubspot-trigger`), each change a `HubSpotTriggerSet` event on
 * `codestep.hubspot.v1`; the queryable triggers (`hubspot_triggers`, per tenant, keyed by workflow
 * id) are a projection of them, versioned by the event's time, rebuilt by `codestep replay`.
 *
 * Re-enrollment, per workflow: `never` (an object enrolls once), `always` (on every event, the
 * default) or `after` with `reenrollAfterMinutes` (again only once that long has passed since the
 * object's last enrollment by the trigger: `hubspot-trigger-enrollments.projection.ts`).
 */
import { ValidationError, deterministicId, type Clock } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { Topics, envelope, toRecord, type Envelope } from '@codestep/events';
import { tenantScoped, type DocumentStore, type ProjectedRecord, type Projection } from '@codestep/store';
import { sameObjectType } from '@codestep/workflows';
import type { ApiClients } from '../api.routes.ts';
import type { Route } from '../router.ts';
import { envelopesOfTypes } from './hubspot-records.ts';

/** The only events the triggers projection applies (the topic also carries every callback's outcome). */
const TRIGGER_SET: ReadonlySet<string> = new Set(['HubSpotTriggerSet']);

export const TRIGGERS = 'hubspot_triggers';

/** The CRM objects whose webhook subscriptions a trigger can name, and their codestep object types. */
export const TRIGGER_OBJECTS: Readonly<Record<string, string>> = { contact: 'CONTACT', company: 'COMPANY', deal: 'DEAL', ticket: 'TICKET', product: 'PRODUCT', line_item: 'LINE_ITEM' };
const EVENTS = ['creation', 'deletion', 'propertyChange', 'merge', 'restore', 'associationChange'] as const;
const REENROLL = ['never', 'always', 'after'] as const;
/** The longest `reenrollAfterMinutes`: a year. */
export const MAX_REENROLL_AFTER_MINUTES = 525_600;

export interface TriggerDoc {
  workflowId: string;
  subscription: string;
  propertyName: string;
  reenroll: (typeof REENROLL)[number];
  /** `reenroll` "after" only: the minutes an object waits before it enrolls again. */
  reenrollAfterMinutes?: number;
  updatedAt: number;
}

type TriggerInput = Pick<TriggerDoc, 'subscription' | 'propertyName' | 'reenroll' | 'reenrollAfterMinutes'>;

export async function ensureTriggers(store: DocumentStore): Promise<void> {
  await store.ensureCollection(TRIGGERS, [{ fields: ['tenantId'] }, { fields: ['tenantId', 'subscription'] }]);
}

/** Applies trigger events: the latest per workflow (by time) wins; a removal deletes by writing a tombstone-free doc. */
export async function applyTriggerEnvelopes(store: DocumentStore, envelopes: readonly Envelope[]): Promise<void> {
  for (const env of envelopes) {
    if (env.event.$case !== 'hubspotTriggerSet' || !env.tenantId) continue;
    const t = env.event.value;
    const doc: TriggerDoc = {
      workflowId: t.workflowId,
      subscription: t.removed ? '' : t.subscription,
      propertyName: t.propertyName,
      reenroll: t.reenroll === 'never' || t.reenroll === 'after' ? t.reenroll : 'always',
      ...(t.reenroll === 'after' ? { reenrollAfterMinutes: t.reenrollAfterMinutes } : {}),
      updatedAt: env.occurredAt,
    };
    await tenantScoped(store, env.tenantId).writeVersioned(TRIGGERS, [{ id: t.workflowId, version: env.occurredAt, doc }]);
  }
}

export const hubspotTriggersProjection: Projection = {
  name: 'hubspot-triggers',
  service: 'gateway',
  topics: [Topics.hubspot],
  collections: [TRIGGERS],
  ensure: ensureTriggers,
  apply: (store, batch: ProjectedRecord[]) => applyTriggerEnvelopes(store, envelopesOfTypes(batch, TRIGGER_SET)),
};

/** The tenant's workflows a webhook event of `subscription` (with `propertyName`, for changes) enrolls. */
export async function triggersFor(store: DocumentStore, tenantId: string, subscription: string, propertyName: string | undefined): Promise<TriggerDoc[]> {
  const docs = await tenantScoped(store, tenantId).find<TriggerDoc>(TRIGGERS, { where: { subscription } });
  return docs.map((d) => d.doc).filter((t) => !t.propertyName || t.propertyName === propertyName);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseTrigger(body: unknown): TriggerInput {
  if (!isObj(body)) throw new ValidationError('send {"subscription": "contact.creation", "propertyName"?: "...", "reenroll"?: "never" | "always" | "after", "reenrollAfterMinutes"?: 60}');
  const { subscription, propertyName, reenroll, reenrollAfterMinutes } = body;
  const [object = '', event = ''] = typeof subscription === 'string' ? subscription.split('.') : [];
  if (!(object in TRIGGER_OBJECTS) || !(EVENTS as readonly string[]).includes(event)) {
    throw new ValidationError(`subscription must be <object>.<event> with object one of ${Object.keys(TRIGGER_OBJECTS).join(', ')} and event one of ${EVENTS.join(', ')}, e.g. "contact.creation"`, {
      field: 'subscription',
    });
  }
  if (propertyName !== undefined && (typeof propertyName !== 'string' || !/^[a-z0-9_]{1,100}$/.test(propertyName) || event !== 'propertyChange')) {
    throw new ValidationError('propertyName must be a HubSpot property name (lowercase letters, digits, _) and only goes with a propertyChange subscription', { field: 'propertyName' });
  }
  if (reenroll !== undefined && !(REENROLL as readonly unknown[]).includes(reenroll))
    throw new ValidationError('reenroll must be "never" (once per object), "always" (every event) or "after" (again once reenrollAfterMinutes have passed)', { field: 'reenroll' });
  if (reenroll === 'after') {
    if (typeof reenrollAfterMinutes !== 'number' || !Number.isInteger(reenrollAfterMinutes) || reenrollAfterMinutes < 1 || reenrollAfterMinutes > MAX_REENROLL_AFTER_MINUTES)
      throw new ValidationError(`reenrollAfterMinutes must be a whole number of minutes from 1 to ${MAX_REENROLL_AFTER_MINUTES} with reenroll "after", e.g. 60`, { field: 'reenrollAfterMinutes' });
  } else if (reenrollAfterMinutes !== undefined) {
    throw new ValidationError('reenrollAfterMinutes only goes with "reenroll": "after"; send both, or leave reenrollAfterMinutes out', { field: 'reenrollAfterMinutes' });
  }
  return {
    subscription: `${object}.${event}`,
    propertyName: (propertyName as string | undefined) ?? '',
    reenroll: (reenroll as TriggerDoc['reenroll'] | undefined) ?? 'always',
    ...(reenroll === 'after' ? { reenrollAfterMinutes: reenrollAfterMinutes as number } : {}),
  };
}

function view(doc: TriggerDoc | undefined, workflowId: string) {
  return doc?.subscription
    ? {
        workflowId,
        subscription: doc.subscription,
        propertyName: doc.propertyName || null,
        reenroll: doc.reenroll,
        ...(doc.reenroll === 'after' ? { reenrollAfterMinutes: doc.reenrollAfterMinutes } : {}),
        updatedAt: new Date(doc.updatedAt).toISOString(),
      }
    : { workflowId, subscription: null };
}

/** The tenant's routes for a workflow's HubSpot trigger. */
export function hubspotTriggerRoutes(c: ApiClients, deps: { store: DocumentStore; eventLog: EventLog; clock: Clock }): Route[] {
  const set = async (tenantId: string, workflowId: string, t: TriggerInput, removed: boolean) => {
    const wf = await c.workflows.getWorkflow({ tenantId, workflowId, version: 0 }); // 404 for another tenant's
    const object = TRIGGER_OBJECTS[t.subscription.split('.')[0] ?? ''];
    if (!removed && object && !sameObjectType(wf.objectType, object))
      throw new ValidationError(`subscription: "${t.subscription}" enrolls ${object} objects but workflow ${workflowId} enrolls ${wf.objectType} objects; subscribe to its own object's events`, {
        field: 'subscription',
      });
    const now = deps.clock();
    const env = envelope(
      { eventId: deterministicId('evt', 'hubspot-trigger', tenantId, workflowId, now), tenantId, aggregateId: workflowId, occurredAt: now },
      {
        $case: 'hubspotTriggerSet',
        value: { workflowId, subscription: t.subscription, propertyName: t.propertyName, reenroll: t.reenroll, removed, reenrollAfterMinutes: t.reenrollAfterMinutes ?? 0 },
      },
    );
    await deps.eventLog.append([toRecord(env)]);
    await applyTriggerEnvelopes(deps.store, [env]);
    return (await tenantScoped(deps.store, tenantId).get<TriggerDoc>(TRIGGERS, workflowId))?.doc;
  };
  return [
    {
      method: 'PUT',
      path: '/v1/workflows/:id/hubspot-trigger',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: view(await set(req.tenantId, req.params.id!, parseTrigger(req.body), false), req.params.id!) }),
    },
    {
      method: 'GET',
      path: '/v1/workflows/:id/hubspot-trigger',
      auth: 'tenant',
      handle: async (req) => {
        await c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId: req.params.id!, version: 0 });
        return { status: 200, body: view((await tenantScoped(deps.store, req.tenantId).get<TriggerDoc>(TRIGGERS, req.params.id!))?.doc, req.params.id!) };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/workflows/:id/hubspot-trigger',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: view(await set(req.tenantId, req.params.id!, { subscription: '', propertyName: '', reenroll: 'always' }, true), req.params.id!) }),
    },
  ];
}

/** Keeps the triggers following the log (set through another gateway replica); this one applies its own directly too. */
export async function followTriggers(deps: { store: DocumentStore; eventLog: EventLog; onError(error: unknown): void }) {
  await ensureTriggers(deps.store);
  await deps.eventLog.ensureTopics([Topics.hubspot]);
  return deps.eventLog.consume({
    group: 'codestep-gateway-hubspot-triggers',
    topics: [Topics.hubspot],
    batchSize: 500,
    handle: async (batch) => {
      await hubspotTriggersProjection.apply(deps.store, batch);
      return [];
    },
    onError: deps.onError,
  });
}
