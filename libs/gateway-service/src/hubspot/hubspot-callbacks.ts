/**
 * HubSpot workflow action callbacks: each execution HubSpot sent is answered once, either
 * synchronously (the enrollment finished within the answer budget: `outputFields` in the HTTP
 * answer) or through HubSpot's callbacks API after a `BLOCK` answer — never both, never twice.
 *
 * One record per callback id, in the tenant's scope (`hubspot_callbacks`), decides who answers:
 * `waiting` (the action request is still waiting for the enrollment) → `answered` (it answered
 * synchronously) or `blocked` (it answered BLOCK) → `completing` (a completer holds a lease while
 * it calls HubSpot) → `completed` | `gave_up`. Every change is a compare-and-set, so two gateway
 * replicas, or a redelivered enrollment event, never complete one callback twice; a completer
 * that died mid-call leaves a lease that runs out, and the next one finishes (HubSpot refusing a
 * second completion counts as done). The outcome is an event (`HubSpotCallbackCompleted`,
 * deterministic id per callback), produced by the completer atomically with its consumer position.
 */
import type { HubSpotOrigin } from '@codestep/contracts';
import { deterministicId, type Logger } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';
import { Topics, envelope, fieldMapToPlain, fromRecord, toRecord, type Envelope } from '@codestep/events';
import { tenantScoped, type DocumentStore } from '@codestep/store';

export const CALLBACKS = 'hubspot_callbacks';

export type CallbackState = 'waiting' | 'answered' | 'blocked' | 'completing' | 'completed' | 'gave_up';

export interface CallbackDoc {
  callbackId: string;
  enrollmentId: string;
  portalId: number;
  /** The tenant's HubSpot connection whose token completes the callback. */
  handle: string;
  state: CallbackState;
  receivedAt: number;
  /** Until then the action request may still answer synchronously, UNIX ms. */
  answerBy: number;
  /** A completer's lease on `completing`, UNIX ms. */
  leaseUntil: number;
  attempts: number;
}

export async function ensureCallbackCollection(store: DocumentStore, eventLog: EventLog): Promise<void> {
  await store.ensureCollection(CALLBACKS, [{ fields: ['tenantId'] }]);
  await eventLog.ensureTopics([Topics.hubspot, Topics.enrollments]);
}

/**
 * Moves a callback from one of `from` to `to` (with `patch`), retried on conflict; the new doc,
 * or undefined when it was in another state (someone else decided).
 */
export async function moveCallback(
  store: DocumentStore,
  tenantId: string,
  callbackId: string,
  from: readonly CallbackState[] | ((doc: CallbackDoc) => boolean),
  to: CallbackState,
  patch: Partial<CallbackDoc> = {},
): Promise<CallbackDoc | undefined> {
  const scoped = tenantScoped(store, tenantId);
  for (let i = 0; i < 50; i++) {
    const cur = await scoped.get<CallbackDoc>(CALLBACKS, callbackId);
    if (!cur) return undefined;
    const allowed = typeof from === 'function' ? from(cur.doc) : from.includes(cur.doc.state);
    if (!allowed) return undefined;
    const next = { ...cur.doc, ...patch, state: to };
    if (await scoped.compareAndSet(CALLBACKS, callbackId, cur.version, next)) return next;
  }
  return undefined;
}

/** The outcome event of a callback (one per callback id, whatever retries produce). */
export function callbackOutcome(tenantId: string, doc: CallbackDoc, outcome: { executionState: string; outcome: 'completed' | 'answered' | 'gave_up'; error?: string }, now: number): Envelope {
  return envelope(
    { eventId: deterministicId('evt', 'hubspot-callback', doc.callbackId), tenantId, aggregateId: doc.callbackId, occurredAt: now, correlationId: doc.enrollmentId },
    {
      $case: 'hubspotCallbackCompleted',
      value: {
        callbackId: doc.callbackId,
        enrollmentId: doc.enrollmentId,
        portalId: doc.portalId,
        executionState: outcome.executionState,
        outcome: outcome.outcome,
        error: outcome.error ?? '',
        attempts: doc.attempts,
      },
    },
  );
}

/** The `outputFields` HubSpot gets for a finished enrollment: its actions' outputs merged in order, or a failure. */
export function outputFieldsOf(result: { outputs?: Record<string, Record<string, unknown>>; error?: string }): Record<string, unknown> {
  if (result.error !== undefined) return { hs_execution_state: 'FAIL_CONTINUE', codestep_error: result.error.slice(0, 1000) };
  return Object.assign({}, ...Object.values(result.outputs ?? {}));
}

export interface CompleterDeps {
  store: DocumentStore;
  eventLog: EventLog;
  /** The connection's token through the broker; `error` says why there is none. */
  tokenOf(tenantId: string, handle: string, callbackId: string): Promise<{ token: string } | { error: string; errorCode: string }>;
  /** HubSpot's API base, e.g. https://api.hubapi.com. */
  apiBaseUrl: string;
  clock: () => number;
  logger: Logger;
  fetch?: typeof fetch;
  /** How long a completer holds a callback while it calls HubSpot, ms. @default 30000 */
  leaseMs?: number;
  /** Attempts on 429/5XX before giving up for now (the record stays blocked: the next event or restart retries). @default 5 */
  maxAttempts?: number;
  /** Consumer group. @default 'codestep-gateway-hubspot-callbacks' */
  group?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs the completion, retrying 429 and 5XX as `Retry-After` says; the outcome in words. */
async function postCompletion(deps: CompleterDeps, token: string, callbackId: string, outputFields: Record<string, unknown>): Promise<{ ok: true } | { ok: false; retry: boolean; error: string }> {
  const doFetch = deps.fetch ?? fetch;
  const url = `${deps.apiBaseUrl.replace(/\/+$/, '')}/automation/v4/actions/callbacks/${encodeURIComponent(callbackId)}/complete`;
  const body = JSON.stringify(outputFields['hs_execution_state'] === 'FAIL_CONTINUE' ? { outputFields, failureReasonType: 'CODESTEP_WORKFLOW_FAILED' } : { outputFields });
  let last = '';
  for (let attempt = 1; attempt <= (deps.maxAttempts ?? 5); attempt++) {
    let res: Response;
    try {
      res = await doFetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      last = `HubSpot could not be reached (${error instanceof Error ? error.message : String(error)})`;
      await sleep(Math.min(200 * 2 ** attempt, 5_000));
      continue;
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return { ok: true };
    // A completion already recorded (our own earlier call that crashed before it was noted).
    if (res.status === 400 && /already completed/i.test(text)) return { ok: true };
    last = `HubSpot answered HTTP ${res.status}: ${text.slice(0, 300)}`;
    if (res.status !== 429 && res.status < 500) return { ok: false, retry: false, error: last };
    const retryAfter = Number(res.headers.get('retry-after'));
    await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 10_000) : Math.min(200 * 2 ** attempt, 5_000));
  }
  return { ok: false, retry: true, error: last };
}

/** Waits while the action request may still answer synchronously; then claims the callback. */
async function claim(deps: CompleterDeps, tenantId: string, origin: HubSpotOrigin, enrollmentId: string): Promise<CallbackDoc | undefined> {
  const scoped = tenantScoped(deps.store, tenantId);
  const leaseMs = deps.leaseMs ?? 30_000;
  for (;;) {
    const now = deps.clock();
    const cur = (await scoped.get<CallbackDoc>(CALLBACKS, origin.callbackId))?.doc;
    if (!cur) {
      // Received by a gateway that crashed before it wrote the record: nobody answered synchronously.
      const doc: CallbackDoc = {
        callbackId: origin.callbackId,
        enrollmentId,
        portalId: origin.portalId,
        handle: origin.connectionHandle,
        state: 'blocked',
        receivedAt: now,
        answerBy: now,
        leaseUntil: 0,
        attempts: 0,
      };
      await scoped.insertIfAbsent(CALLBACKS, origin.callbackId, doc);
      continue;
    }
    if (cur.state === 'answered' || cur.state === 'completed' || cur.state === 'gave_up') return undefined;
    if (cur.state === 'waiting' && now < cur.answerBy) {
      await sleep(Math.min(cur.answerBy - now + 5, 1_000));
      continue;
    }
    if (cur.state === 'completing' && now < cur.leaseUntil) {
      await sleep(Math.min(cur.leaseUntil - now + 5, 1_000));
      continue;
    }
    const claimed = await moveCallback(deps.store, tenantId, origin.callbackId, (d) => d.state === cur.state && d.leaseUntil === cur.leaseUntil, 'completing', {
      leaseUntil: now + leaseMs,
      attempts: cur.attempts + 1,
    });
    if (claimed) return claimed;
  }
}

/** Completes one finished enrollment's callback; the outcome event, or none when another answered. */
async function completeOne(deps: CompleterDeps, env: Envelope): Promise<Envelope | undefined> {
  const e = env.event;
  if (e.$case !== 'enrollmentCompleted' && e.$case !== 'enrollmentFailed') return undefined;
  const origin = e.value.hubspot;
  if (!origin?.callbackId) return undefined;
  const tenantId = env.tenantId;
  const doc = await claim(deps, tenantId, origin, e.value.enrollmentId);
  if (!doc) return undefined;
  const outputFields =
    e.$case === 'enrollmentCompleted'
      ? outputFieldsOf({ outputs: Object.fromEntries(Object.entries(e.value.outputs).map(([k, v]) => [k, fieldMapToPlain(v.fields)])) })
      : outputFieldsOf({ error: e.value.error?.message ?? 'the workflow failed' });
  const executionState = String(outputFields['hs_execution_state'] ?? 'SUCCESS');
  const token = await deps.tokenOf(tenantId, doc.handle, doc.callbackId);
  const log = { tenantId, callbackId: doc.callbackId, enrollmentId: doc.enrollmentId };
  if ('error' in token) {
    deps.logger.warn({ ...log, errorCode: token.errorCode }, 'HubSpot callback not completed: no token for the connection');
    const gaveUp = await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'gave_up');
    return gaveUp ? callbackOutcome(tenantId, gaveUp, { executionState, outcome: 'gave_up', error: `reconnect HubSpot: ${token.error}` }, deps.clock()) : undefined;
  }
  const sent = await postCompletion(deps, token.token, doc.callbackId, outputFields);
  if (sent.ok) {
    const done = await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'completed');
    deps.logger.info({ ...log, executionState }, 'HubSpot callback completed');
    return done ? callbackOutcome(tenantId, done, { executionState, outcome: 'completed' }, deps.clock()) : undefined;
  }
  deps.logger.warn({ ...log, error: sent.error }, 'HubSpot callback not completed');
  if (sent.retry) {
    // HubSpot is down or limiting: release the claim and have the batch delivered again.
    await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'blocked', { leaseUntil: 0 });
    throw new Error(`HubSpot callback ${doc.callbackId} not completed yet: ${sent.error}`);
  }
  const gaveUp = await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'gave_up');
  return gaveUp ? callbackOutcome(tenantId, gaveUp, { executionState, outcome: 'gave_up', error: sent.error }, deps.clock()) : undefined;
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Follows the enrollments topic and completes the callback of every HubSpot-started enrollment
 * that finished and was not answered synchronously. Any gateway replica can run it (one consumer
 * group); the records decide who calls HubSpot.
 */
export async function startCallbackCompleter(deps: CompleterDeps): Promise<Subscription> {
  await ensureCallbackCollection(deps.store, deps.eventLog);
  return deps.eventLog.consume({
    group: deps.group ?? 'codestep-gateway-hubspot-callbacks',
    topics: [Topics.enrollments],
    batchSize: 200,
    handle: async (batch: ConsumedRecord[]): Promise<LogRecord[]> => {
      const finished = batch.map((r) => fromRecord(r.value)).filter((env): env is Envelope => env?.event.$case === 'enrollmentCompleted' || env?.event.$case === 'enrollmentFailed');
      const outcomes = await inParallel(finished, 16, (env) => completeOne(deps, env));
      return outcomes.filter((o): o is Envelope => o !== undefined).map((o) => toRecord(o));
    },
    onError: (error) => deps.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'HubSpot callbacks batch failed; will retry'),
  });
}
