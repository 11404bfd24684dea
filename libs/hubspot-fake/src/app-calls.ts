/**
 * The fake playing HubSpot's side towards an app: it runs the app's published custom workflow
 * action for a record (a signed POST to the definition's `actionUrl`, v2 and v3 signatures, as a
 * HubSpot workflow does), and delivers CRM webhook batches (signed v1 and v3) to the app's target
 * URL — on its own when records are created or changed through the API (subscriptions), or on
 * demand. Either can be sent tampered with (a wrong signature, a stale timestamp, none) to test
 * that the app refuses it. Deliveries answered with anything but 2XX are retried, as HubSpot
 * retries, a few times and quickly.
 */
import { ValidationError } from '@codestep/core';
import type { IssuedCallback } from './automation.routes.ts';
import type { CrmChange } from './crm.store.ts';
import type { FakeContext } from './fake-context.ts';
import { signatureHeaders } from './request-signing.ts';

/** How a request is signed: properly (default), or spoiled in one way. */
export type Tamper = 'none' | 'bad-signature' | 'stale-timestamp' | 'unsigned' | 'v3-only-bad';

export interface ExecuteActionInput {
  definitionId: string;
  objectId: number;
  /** @default 'CONTACT' (or the definition's first object type) */
  objectType?: string;
  /** @default the fake's portal */
  portalId?: number;
  inputFields?: Record<string, unknown>;
  /** HubSpot's workflow id in `context`. @default 9001 */
  workflowId?: number;
  /** Send the same callback again (HubSpot's retry). */
  callbackId?: string;
  tamper?: Tamper;
}

export interface ActionCallResult {
  callbackId: string;
  status: number;
  body: unknown;
}

export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  changeFlag?: string;
  propertyName?: string;
  propertyValue?: string;
}

export interface WebhookSubscriptionInput {
  /** The app (an OAuth client of the fake) whose secret signs the deliveries. */
  clientId: string;
  targetUrl: string;
  /** e.g. `contact.creation`, `contact.propertyChange` (optionally `contact.propertyChange:email`). */
  subscriptions: readonly string[];
  /** Retries of a delivery not answered 2XX. @default 3 */
  maxRetries?: number;
}

export interface WebhookDelivery {
  events: WebhookEvent[];
  status: number;
  attempt: number;
  at: number;
}

export interface AppCallHandles {
  /** Runs the action as a HubSpot workflow would; the callback is then pending in the fake. */
  executeAction(input: ExecuteActionInput): Promise<ActionCallResult>;
  /** A callback the fake issued, with what the app answered and every completion it sent. */
  callback(callbackId: string): IssuedCallback | undefined;
  callbacks(): IssuedCallback[];
  /** Delivers events as one signed webhook request; returns HubSpot's view of the answer. */
  sendWebhooks(targetUrl: string, events: readonly WebhookEvent[], options: { clientId: string; tamper?: Tamper }): Promise<{ status: number; body: string }>;
  /** A webhook event as HubSpot writes one (a new eventId unless given). */
  webhookEvent(fields: Partial<WebhookEvent> & Pick<WebhookEvent, 'subscriptionType' | 'objectId'>): WebhookEvent;
  /** From now on, record changes through the API are delivered to `targetUrl`. */
  subscribeWebhooks(input: WebhookSubscriptionInput): void;
  /** Every webhook request sent, oldest first. */
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /** Resolves when no webhook delivery is pending. */
  webhooksSettled(): Promise<void>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function secretOf(ctx: FakeContext, appId: number): string {
  const client = ctx.options.oauthClients.find((c) => c.appId === appId);
  if (!client) throw new ValidationError(`hubspot-fake: no OAuth app with id ${appId}`);
  return client.clientSecret;
}

/** Signed (or tampered) headers for a POST of `body` to `url`. */
function signedHeaders(clientSecret: string, url: string, body: string, legacy: 'v1' | 'v2', tamper: Tamper, now: number): Record<string, string> {
  if (tamper === 'unsigned') return {};
  const timestamp = tamper === 'stale-timestamp' ? now - 6 * 60_000 : now;
  const headers = signatureHeaders({ clientSecret, method: 'POST', url, body, timestamp }, legacy);
  if (tamper === 'bad-signature') return signatureHeaders({ clientSecret: `${clientSecret}-wrong`, method: 'POST', url, body, timestamp }, legacy);
  if (tamper === 'v3-only-bad') return { ...headers, 'X-HubSpot-Signature-v3': signatureHeaders({ clientSecret: 'wrong', method: 'POST', url, body, timestamp }, legacy)['X-HubSpot-Signature-v3']! };
  return headers;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) (fake)', ...headers }, body });
  return { status: res.status, text: await res.text() };
}

type WebhookHandles = Pick<AppCallHandles, 'sendWebhooks' | 'webhookEvent' | 'subscribeWebhooks' | 'webhookDeliveries' | 'webhooksSettled'>;

/** Webhook deliveries: on demand, and from subscriptions as records change (batched, retried). */
function webhookHandles(ctx: FakeContext, track: <T>(p: Promise<T>) => Promise<T>, pending: Set<Promise<unknown>>): WebhookHandles {
  const deliveries: WebhookDelivery[] = [];
  let nextEventId = 100_000_001;
  const subscriptions: WebhookSubscriptionInput[] = [];
  let queue: Array<{ sub: WebhookSubscriptionInput; event: WebhookEvent }> = [];
  let flushScheduled = false;

  const sendWebhooks: AppCallHandles['sendWebhooks'] = async (targetUrl, events, options) => {
    const client = ctx.options.oauthClients.find((c) => c.clientId === options.clientId);
    if (!client) throw new ValidationError(`hubspot-fake: unknown OAuth client ${options.clientId}`);
    const body = JSON.stringify(events);
    const res = await post(targetUrl, body, signedHeaders(client.clientSecret, targetUrl, body, 'v1', options.tamper ?? 'none', ctx.options.clock()));
    deliveries.push({ events: [...events], status: res.status, attempt: events[0]?.attemptNumber ?? 0, at: ctx.options.clock() });
    return { status: res.status, body: res.text };
  };

  async function deliver(sub: WebhookSubscriptionInput, events: WebhookEvent[]): Promise<void> {
    for (let attempt = 0; attempt <= (sub.maxRetries ?? 3); attempt++) {
      const sent = events.map((e) => ({ ...e, attemptNumber: attempt }));
      const res = await sendWebhooks(sub.targetUrl, sent, { clientId: sub.clientId }).catch(() => ({ status: 0, body: '' }));
      if (res.status >= 200 && res.status < 300) return;
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }

  function flush(): void {
    flushScheduled = false;
    const batch = queue;
    queue = [];
    const bySub = new Map<WebhookSubscriptionInput, WebhookEvent[]>();
    for (const { sub, event } of batch) bySub.set(sub, [...(bySub.get(sub) ?? []), event]);
    for (const [sub, events] of bySub) for (let i = 0; i < events.length; i += 100) void track(deliver(sub, events.slice(i, i + 100)));
  }

  const webhookEvent: AppCallHandles['webhookEvent'] = (fields) => ({
    eventId: nextEventId++,
    subscriptionId: 4_000_001,
    portalId: ctx.options.portalId,
    appId: ctx.options.oauthClients[0]?.appId ?? 8000001,
    occurredAt: ctx.options.clock(),
    attemptNumber: 0,
    changeSource: 'CRM',
    ...fields,
  });

  ctx.store.onChange = (change: CrmChange) => {
    for (const sub of subscriptions) {
      const event = eventFor(ctx, sub, change, webhookEvent);
      if (event) queue.push({ sub, event });
    }
    if (queue.length && !flushScheduled) {
      flushScheduled = true;
      setTimeout(flush, 10);
    }
  };

  return {
    sendWebhooks,
    webhookEvent,
    subscribeWebhooks(input) {
      if (!ctx.options.oauthClients.some((c) => c.clientId === input.clientId)) throw new ValidationError(`hubspot-fake: unknown OAuth client ${input.clientId}`);
      if (!URL.canParse(input.targetUrl)) throw new ValidationError(`hubspot-fake: webhook target ${input.targetUrl} is not an absolute URL`);
      subscriptions.push(input);
    },
    webhookDeliveries: deliveries,
    async webhooksSettled() {
      while (pending.size || queue.length || flushScheduled) {
        await Promise.allSettled([...pending]);
        if (flushScheduled || queue.length) await new Promise((r) => setTimeout(r, 15));
      }
    },
  };
}

/** The event a subscription gets for a change, if it asked for that kind. */
function eventFor(ctx: FakeContext, sub: WebhookSubscriptionInput, change: CrmChange, make: AppCallHandles['webhookEvent']): WebhookEvent | undefined {
  const type = change.object.spec.name.replace(/s$/, '');
  const wanted = (s: string) => {
    const [subscriptionType, property] = s.split(':');
    if (change.kind === 'creation') return subscriptionType === `${type}.creation`;
    return subscriptionType === `${type}.propertyChange` && (property === undefined || property === change.propertyName);
  };
  if (!sub.subscriptions.some(wanted)) return undefined;
  const appId = ctx.options.oauthClients.find((c) => c.clientId === sub.clientId)?.appId ?? 0;
  const base = { subscriptionType: `${type}.${change.kind}`, objectId: Number(change.object.id), portalId: change.object.portalId, appId };
  return change.kind === 'creation' ? make({ ...base, changeFlag: 'NEW' }) : make({ ...base, propertyName: change.propertyName, propertyValue: change.propertyValue });
}

/** Runs the published action for a record as a HubSpot workflow does. */
async function executeAction(ctx: FakeContext, input: ExecuteActionInput, track: <T>(p: Promise<T>) => Promise<T>): Promise<ActionCallResult> {
  const store = ctx.automation;
  const definition = store.definitions.get(input.definitionId);
  if (!definition) throw new ValidationError(`hubspot-fake: no action definition ${input.definitionId}; publish one first`);
  const portalId = input.portalId ?? ctx.options.portalId;
  const callbackId = input.callbackId ?? store.newCallbackId(definition.appId);
  const callback: IssuedCallback = store.callbacks.get(callbackId) ?? {
    callbackId,
    portalId,
    appId: definition.appId,
    definitionId: definition.id,
    objectId: input.objectId,
    issuedAt: ctx.options.clock(),
    completions: [],
    refused: 0,
  };
  store.callbacks.set(callbackId, callback);
  const payload = {
    callbackId,
    origin: { portalId, actionDefinitionId: Number(definition.id), actionDefinitionVersion: Number(definition.revisionId) },
    context: { source: 'WORKFLOWS', workflowId: input.workflowId ?? 9001 },
    object: { objectId: input.objectId, objectType: input.objectType ?? definition.objectTypes[0] ?? 'CONTACT' },
    inputFields: input.inputFields ?? {},
  };
  const body = JSON.stringify(payload);
  const headers = signedHeaders(secretOf(ctx, definition.appId), definition.actionUrl, body, 'v2', input.tamper ?? 'none', ctx.options.clock());
  const res = await track(post(definition.actionUrl, body, headers));
  let parsed: unknown = res.text;
  try {
    parsed = JSON.parse(res.text) as unknown;
  } catch {
    // Not JSON: kept as text.
  }
  if (res.status === 200 && isObj(parsed) && isObj(parsed['outputFields']) && parsed['outputFields']['hs_execution_state'] !== 'BLOCK') callback.answer = parsed['outputFields'];
  return { callbackId, status: res.status, body: parsed };
}

export function appCallHandles(ctx: FakeContext): AppCallHandles {
  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => {});
    return p;
  };
  return {
    executeAction: (input) => executeAction(ctx, input, track),
    callback: (callbackId) => ctx.automation.callbacks.get(callbackId),
    callbacks: () => [...ctx.automation.callbacks.values()],
    ...webhookHandles(ctx, track, pending),
  };
}
