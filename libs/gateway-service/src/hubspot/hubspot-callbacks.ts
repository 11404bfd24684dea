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
 *
 * Callbacks of one connection ready together are completed with HubSpot's batch endpoint, each
 * settled on its own. A completer never waits while it holds a lease (it would wait on another
 * replica waiting on it), and a callback HubSpot does not take yet is released at once for the
 * redelivery, which it asks for by throwing once the outcome events it has are appended.
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
  /** Why it was given up (`gave_up`), as its outcome event says. */
  error?: string;
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

/** HubSpot's batch completion takes at most this many callbacks a request. */
export const MAX_CALLBACKS_PER_BATCH = 100;

type Sent = { ok: true } | { ok: false; retry: boolean; error: string };

/** One callback's completion as HubSpot takes it (a failed workflow says so). */
const completionBody = (outputFields: Record<string, unknown>) =>
  outputFields['hs_execution_state'] === 'FAIL_CONTINUE' ? { outputFields, failureReasonType: 'CODESTEP_WORKFLOW_FAILED' } : { outputFields };

/**
 * POSTs a completion (one callback: `…/callbacks/{callbackId}/complete`; several:
 * `…/callbacks/complete` with `inputs`), retrying 429 and 5XX as `Retry-After` says; the outcome
 * in words. `beforeRetry` runs before each wait (the caller extends its leases by the wait).
 */
async function postCompletion(deps: CompleterDeps, token: string, completions: readonly Claimed[], beforeRetry: (waitMs: number) => Promise<void>): Promise<Sent> {
  const doFetch = deps.fetch ?? fetch;
  const base = `${deps.apiBaseUrl.replace(/\/+$/, '')}/automation/v4/actions/callbacks`;
  const single = completions.length === 1 ? completions[0]! : undefined;
  const url = single ? `${base}/${encodeURIComponent(single.doc.callbackId)}/complete` : `${base}/complete`;
  const body = JSON.stringify(single ? completionBody(single.outputFields) : { inputs: completions.map((c) => ({ callbackId: c.doc.callbackId, ...completionBody(c.outputFields) })) });
  const attempts = deps.maxAttempts ?? 5;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let waitMs = Math.min(200 * 2 ** attempt, 5_000);
    // Cleared once answered (an `AbortSignal.timeout` would keep the process up for its 10 s).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error('no answer within 10 s')), 10_000);
    try {
      const res = await doFetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body, signal: abort.signal });
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true };
      // A completion already recorded (our own earlier call that crashed before it was noted).
      // A batch naming one says so too, but says nothing of the others: the caller goes one by one.
      if (single && res.status === 400 && /already completed/i.test(text)) return { ok: true };
      last = `HubSpot answered HTTP ${res.status}: ${text.slice(0, 300)}`;
      if (res.status !== 429 && res.status < 500) return { ok: false, retry: false, error: last };
      const retryAfter = Number(res.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.min(retryAfter * 1000, 10_000);
    } catch (error) {
      last = `HubSpot could not be reached (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      clearTimeout(timer);
    }
    if (attempt === attempts) break;
    await beforeRetry(waitMs);
    await sleep(waitMs);
  }
  return { ok: false, retry: true, error: last };
}

/** A finished HubSpot-started enrollment whose callback is to be completed. */
interface Finished {
  tenantId: string;
  origin: HubSpotOrigin;
  enrollmentId: string;
  outputFields: Record<string, unknown>;
  executionState: string;
}

/** A callback this completer holds (`completing`, its lease in `doc.leaseUntil`), with what HubSpot is to get. */
interface Claimed extends Finished {
  doc: CallbackDoc;
}

/** What one claim attempt found: ours now, decided by someone else, or to try again at `at`. */
type ClaimStep = { claimed: Claimed } | { settled: CallbackDoc } | { retryAt: number };

function finishedOf(env: Envelope): Finished | undefined {
  const e = env.event;
  if (e.$case !== 'enrollmentCompleted' && e.$case !== 'enrollmentFailed') return undefined;
  const origin = e.value.hubspot;
  if (!origin?.callbackId) return undefined;
  const outputFields =
    e.$case === 'enrollmentCompleted'
      ? outputFieldsOf({ outputs: Object.fromEntries(Object.entries(e.value.outputs).map(([k, v]) => [k, fieldMapToPlain(v.fields)])) })
      : outputFieldsOf({ error: e.value.error?.message ?? 'the workflow failed' });
  return { tenantId: env.tenantId, origin, enrollmentId: e.value.enrollmentId, outputFields, executionState: String(outputFields['hs_execution_state'] ?? 'SUCCESS') };
}

/**
 * Claims a finished enrollment's callback if it can be claimed now. It never waits: a callback
 * still waiting for its synchronous answer, or leased by another completer, is tried again later
 * by the caller, which holds no lease meanwhile (two replicas each holding one callback while
 * waiting for the other's would wait out both leases).
 */
async function tryClaim(deps: CompleterDeps, f: Finished): Promise<ClaimStep> {
  const scoped = tenantScoped(deps.store, f.tenantId);
  const { callbackId } = f.origin;
  for (let i = 0; i < 20; i++) {
    const now = deps.clock();
    const cur = (await scoped.get<CallbackDoc>(CALLBACKS, callbackId))?.doc;
    if (!cur) {
      // Received by a gateway that crashed before it wrote the record: nobody answered synchronously.
      const doc: CallbackDoc = {
        callbackId,
        enrollmentId: f.enrollmentId,
        portalId: f.origin.portalId,
        handle: f.origin.connectionHandle,
        state: 'blocked',
        receivedAt: now,
        answerBy: now,
        leaseUntil: 0,
        attempts: 0,
      };
      await scoped.insertIfAbsent(CALLBACKS, callbackId, doc);
      continue;
    }
    if (cur.state === 'answered' || cur.state === 'completed' || cur.state === 'gave_up') return { settled: cur };
    if (cur.state === 'waiting' && now < cur.answerBy) return { retryAt: cur.answerBy };
    if (cur.state === 'completing' && now < cur.leaseUntil) return { retryAt: cur.leaseUntil };
    const claimed = await moveCallback(deps.store, f.tenantId, callbackId, (d) => d.state === cur.state && d.leaseUntil === cur.leaseUntil, 'completing', {
      leaseUntil: now + (deps.leaseMs ?? 30_000),
      attempts: cur.attempts + 1,
    });
    if (claimed) return { claimed: { ...f, doc: claimed } };
  }
  return { retryAt: deps.clock() + 50 };
}

/** The outcome event of a callback a completer settled before (none for a synchronous answer: the answer's path records it). */
function settledAgain(f: Finished, doc: CallbackDoc, now: number): Envelope | undefined {
  if (doc.state === 'completed') return callbackOutcome(f.tenantId, doc, { executionState: f.executionState, outcome: 'completed' }, now);
  if (doc.state === 'gave_up') return callbackOutcome(f.tenantId, doc, { executionState: f.executionState, outcome: 'gave_up', error: doc.error ?? 'given up earlier' }, now);
  return undefined;
}

/** How one claimed callback ended in this delivery: its outcome event, none (another decided), or to be delivered again. */
type Settled = { outcome?: Envelope } | { again: string };

/**
 * Records what HubSpot answered for one claimed callback. Never throws: a callback HubSpot did
 * not take yet (429/5XX past the attempts, or the store failing) is released for the next
 * delivery and reported as `again`, whatever happens to the others of its batch.
 */
async function settle(deps: CompleterDeps, c: Claimed, sent: Sent, batched: boolean): Promise<Settled> {
  const { tenantId, doc, executionState } = c;
  const log = { tenantId, callbackId: doc.callbackId, enrollmentId: doc.enrollmentId };
  // Released only while still ours (not a lease another completer took once ours ran out).
  const ours = (d: CallbackDoc) => d.state === 'completing' && d.leaseUntil === doc.leaseUntil;
  try {
    if (sent.ok) {
      const done = await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'completed');
      deps.logger.info({ ...log, executionState, batched }, 'HubSpot callback completed');
      return { outcome: done ? callbackOutcome(tenantId, done, { executionState, outcome: 'completed' }, deps.clock()) : undefined };
    }
    deps.logger.warn({ ...log, error: sent.error }, 'HubSpot callback not completed');
    if (sent.retry) {
      // HubSpot is down or limiting: release the claim at once (no lease to wait out) for the next delivery.
      await moveCallback(deps.store, tenantId, doc.callbackId, ours, 'blocked', { leaseUntil: 0 });
      return { again: `HubSpot callback ${doc.callbackId} not completed yet: ${sent.error}` };
    }
    const gaveUp = await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'gave_up', { error: sent.error });
    return { outcome: gaveUp ? callbackOutcome(tenantId, gaveUp, { executionState, outcome: 'gave_up', error: sent.error }, deps.clock()) : undefined };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Released if the store lets us; otherwise the lease runs out (HubSpot refusing a second completion counts as done).
    await moveCallback(deps.store, tenantId, doc.callbackId, ours, 'blocked', { leaseUntil: 0 }).catch(() => undefined);
    return { again: `HubSpot callback ${doc.callbackId} not recorded: ${message}` };
  }
}

/** Extends the leases of callbacks still in flight by `waitMs` (a retried request keeps them, instead of letting them run out). */
async function extendLeases(deps: CompleterDeps, chunk: readonly Claimed[], waitMs: number): Promise<void> {
  const leaseUntil = deps.clock() + waitMs + (deps.leaseMs ?? 30_000);
  await inParallel(chunk, 8, async (c) => {
    const held = c.doc.leaseUntil;
    const next = await moveCallback(deps.store, c.tenantId, c.doc.callbackId, (d) => d.state === 'completing' && d.leaseUntil === held, 'completing', { leaseUntil }).catch(() => undefined);
    if (next) c.doc = next;
  });
}

/** Token errors that pass (the broker's "try again"): the callback waits for the next delivery instead of giving up. Not INTERNAL: a bug would hold the partition's callbacks back for ever. */
const TRANSIENT_TOKEN_ERRORS = new Set(['PROVIDER_UNAVAILABLE']);

/**
 * Completes claimed callbacks of one connection: one request when there is one, the batch
 * endpoint (up to {@link MAX_CALLBACKS_PER_BATCH} a request) when several are ready together. A
 * batch HubSpot refuses (one of its callbacks already completed, say) is completed one by one,
 * where an already completed callback counts as done. Each callback is settled on its own.
 */
async function completeGroup(deps: CompleterDeps, group: readonly Claimed[]): Promise<Settled[]> {
  const first = group[0]!;
  let token: Awaited<ReturnType<CompleterDeps['tokenOf']>>;
  try {
    token = await deps.tokenOf(first.tenantId, first.doc.handle, group.length === 1 ? first.doc.callbackId : `${first.doc.callbackId} and ${group.length - 1} more`);
  } catch (error) {
    const sent = { ok: false as const, retry: true, error: `no token for the connection yet (${error instanceof Error ? error.message : String(error)})` };
    return inParallel(group, 8, (c) => settle(deps, c, sent, false));
  }
  if ('error' in token && TRANSIENT_TOKEN_ERRORS.has(token.errorCode)) {
    // The provider or the broker is away for now, not the connection: delivered again, not given up.
    const sent = { ok: false as const, retry: true, error: `no token for the connection yet (${token.errorCode}: ${token.error})` };
    return inParallel(group, 8, (c) => settle(deps, c, sent, false));
  }
  if ('error' in token) {
    const noToken = { ok: false as const, retry: false, error: `reconnect HubSpot: ${token.error}` };
    for (const { tenantId, doc } of group) deps.logger.warn({ tenantId, callbackId: doc.callbackId, errorCode: token.errorCode }, 'HubSpot callback not completed: no token for the connection');
    return inParallel(group, 8, (c) => settle(deps, c, noToken, false));
  }
  const bearer = token.token;
  const one = async (c: Claimed) => settle(deps, c, await postCompletion(deps, bearer, [c], (ms) => extendLeases(deps, [c], ms)), false);
  const out: Settled[] = [];
  for (let i = 0; i < group.length; i += MAX_CALLBACKS_PER_BATCH) {
    const chunk = group.slice(i, i + MAX_CALLBACKS_PER_BATCH);
    if (chunk.length === 1) {
      out.push(await one(chunk[0]!));
      continue;
    }
    const sent = await postCompletion(deps, bearer, chunk, (ms) => extendLeases(deps, chunk, ms));
    if (sent.ok || sent.retry) out.push(...(await inParallel(chunk, 8, (c) => settle(deps, c, sent, true))));
    else for (const c of chunk) out.push(await one(c));
  }
  return out;
}

/** Runs `fn` over `items`, at most `limit` at once (`fn` must not throw: a throw would leave the others running unawaited). */
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
 * Completes the callbacks of one delivered batch of finished enrollments, in rounds: claim what
 * can be claimed now, complete it (batched per connection), settle each; then wait, holding no
 * lease, for the callbacks still waiting for their synchronous answer or leased by another
 * completer, and go again. Returns the outcome events; when some callback must be delivered
 * again (HubSpot not taking it yet, the completer stopping), it appends the outcome events it
 * has (each callback's is produced once: by the move to completed or gave_up) and throws.
 */
async function completeDelivered(deps: CompleterDeps, finished: readonly Finished[], stopping: () => boolean): Promise<Envelope[]> {
  const outcomes: Envelope[] = [];
  const again: string[] = [];
  let pending = finished;
  while (pending.length > 0) {
    const steps = await inParallel(pending, 16, (f) => tryClaim(deps, f).catch((error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) })));
    const claimed: Claimed[] = [];
    const later: Finished[] = [];
    let wakeAt = Infinity;
    steps.forEach((step, i) => {
      if ('claimed' in step) claimed.push(step.claimed);
      else if ('failed' in step) again.push(`HubSpot callback ${pending[i]!.origin.callbackId} not claimed: ${step.failed}`);
      else if ('retryAt' in step) (later.push(pending[i]!), (wakeAt = Math.min(wakeAt, step.retryAt)));
      else {
        // Settled before this delivery: its outcome event again (same event id; consumers keep one), in case the
        // completer that settled it died before appending it.
        const again = settledAgain(pending[i]!, step.settled, deps.clock());
        if (again) outcomes.push(again);
      }
    });
    // The callbacks ready together, per connection (one token): completed in batches.
    const groups = new Map<string, Claimed[]>();
    for (const c of claimed) {
      const key = JSON.stringify([c.tenantId, c.doc.handle]);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    for (const settled of (await inParallel([...groups.values()], 4, (g) => completeGroup(deps, g))).flat()) {
      if ('again' in settled) again.push(settled.again);
      else if (settled.outcome) outcomes.push(settled.outcome);
    }
    pending = later;
    if (pending.length === 0) break;
    if (stopping()) {
      again.push(`${pending.length} HubSpot callback(s) left for the next delivery: the completer is stopping`);
      break;
    }
    await sleep(Math.max(5, Math.min(wakeAt - deps.clock() + 5, 1_000)));
  }
  if (again.length > 0) {
    // Not with the position (there is none to commit): the callbacks settled here are not settled again on redelivery.
    if (outcomes.length > 0) await deps.eventLog.append(outcomes.map((o) => toRecord(o)));
    throw new Error(again.length === 1 ? again[0] : `${again[0]} (and ${again.length - 1} more)`);
  }
  return outcomes;
}

/**
 * Follows the enrollments topic and completes the callback of every HubSpot-started enrollment
 * that finished and was not answered synchronously. Any gateway replica can run it (one consumer
 * group); the records decide who calls HubSpot.
 */
export async function startCallbackCompleter(deps: CompleterDeps): Promise<Subscription> {
  await ensureCallbackCollection(deps.store, deps.eventLog);
  let stopping = false;
  const subscription = await deps.eventLog.consume({
    group: deps.group ?? 'codestep-gateway-hubspot-callbacks',
    topics: [Topics.enrollments],
    batchSize: 200,
    handle: async (batch: ConsumedRecord[]): Promise<LogRecord[]> => {
      // One per callback: a redelivered enrollment event in the same batch adds nothing.
      const finished = new Map<string, Finished>();
      for (const r of batch) {
        const env = fromRecord(r.value);
        const f = env ? finishedOf(env) : undefined;
        const key = f && JSON.stringify([f.tenantId, f.origin.callbackId]);
        if (f && key && !finished.has(key)) finished.set(key, f);
      }
      if (finished.size === 0) return [];
      const outcomes = await completeDelivered(deps, [...finished.values()], () => stopping);
      return outcomes.map((o) => toRecord(o));
    },
    onError: (error) => deps.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'HubSpot callbacks batch failed; will retry'),
  });
  return {
    stop: async () => {
      stopping = true;
      await subscription.stop();
    },
  };
}
