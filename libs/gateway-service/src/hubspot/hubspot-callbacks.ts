/**
 * HubSpot workflow action callbacks: each execution HubSpot sent is answered once, either
 * synchronously (the enrollment finished within the answer budget: `outputFields` in the HTTP
 * answer) or through HubSpot's callbacks API after a `BLOCK` answer — never both, never twice.
 *
 * One record per callback id, in the tenant's scope (`hubspot_callbacks`), decides who answers.
 * The action request writes it once, when it knows its answer: `answered` (the enrollment
 * finished within the answer budget) or `blocked` (it answered BLOCK); the first writer of a
 * callback's record decides (insert if absent). A finished enrollment without a record is left to
 * its action request until the budget ran out since it finished (the request came before it
 * started), then a completer records it `blocked` (the request died, or lost the race and answers
 * BLOCK). Then `completing` (a completer holds a lease while it calls HubSpot) → `completed` |
 * `gave_up`. (Gateways before this wrote `waiting` first, then `answered` or `blocked`: such a
 * record is still waited for until its `answerBy`.) Every change is a compare-and-set, so two gateway
 * replicas, or a redelivered enrollment event, never complete one callback twice; a completer
 * that died mid-call leaves a lease that runs out, and the next one finishes (HubSpot refusing a
 * second completion counts as done). The outcome is an event (`HubSpotCallbackCompleted`,
 * deterministic id per callback and outcome), produced by the completer atomically with its consumer position.
 *
 * Callbacks of one connection ready together are completed with HubSpot's batch endpoint, each
 * settled on its own. A completer never waits while it holds a lease (it would wait on another
 * replica waiting on it), nor for HubSpot: a completion HubSpot does not take yet (429, 5XX, not
 * reachable) is parked (`retrying`, with what HubSpot is to get and when to try again: its
 * `Retry-After`, else a doubling backoff) and the enrollments partition goes on with the other
 * callbacks. Each parked attempt is a `HubSpotCallbackAttempted` event on the enrollments topic
 * (the enrollment's history shows it). The parked callbacks are tried again by a timer loop that
 * any replica runs (a claim is a compare-and-set, as above), until HubSpot takes them or the
 * next attempt would come after the BLOCK's expiration: then the callback is given up, saying
 * what HubSpot answered until the block expired.
 */
import type { HubSpotOrigin } from '@codestep/contracts';
import { deterministicId, type Logger } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';
import { Topics, envelope, fieldMapToPlain, fromRecord, toRecord, type Envelope } from '@codestep/events';
import { tenantScoped, type DocumentStore } from '@codestep/store';
import { envelopesOfTypes } from './hubspot-records.ts';

export const CALLBACKS = 'hubspot_callbacks';

export type CallbackState = 'waiting' | 'answered' | 'blocked' | 'completing' | 'retrying' | 'completed' | 'gave_up';

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
  /** When HubSpot stops waiting for the callback (the BLOCK answer's expiration), UNIX ms. */
  expiresAt?: number;
  /** Parked (`retrying`): when to call HubSpot again; a retry loop's claim (`completing`): its lease, UNIX ms. */
  retryAt?: number;
  /** Parked: what HubSpot answered last. */
  lastError?: string;
  /** Parked: what HubSpot is to get (the enrollment's outcome), so a retry needs no enrollment event. */
  outputFields?: Record<string, unknown>;
  executionState?: string;
}

export async function ensureCallbackCollection(store: DocumentStore, eventLog: EventLog): Promise<void> {
  await store.ensureCollection(CALLBACKS, [{ fields: ['tenantId'] }, { fields: ['state', 'retryAt'] }]);
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

/**
 * The id of a callback's outcome event: one per callback and outcome, whatever retries and
 * redeliveries produce. Distinct per outcome: a completion and a giving up of one callback (two
 * completers whose leases crossed) are two facts, and one id would make the log keep whichever
 * came first. `completed` keeps the id every outcome had before, so one recorded then and
 * announced again after an upgrade is still the same event.
 */
export function callbackOutcomeId(callbackId: string, outcome: CallbackOutcome): string {
  return outcome === 'completed' ? deterministicId('evt', 'hubspot-callback', callbackId) : deterministicId('evt', 'hubspot-callback', callbackId, outcome);
}

export type CallbackOutcome = 'completed' | 'answered' | 'gave_up';

/** The outcome event of a callback (one per callback id and outcome, whatever retries produce). */
export function callbackOutcome(tenantId: string, doc: CallbackDoc, outcome: { executionState: string; outcome: CallbackOutcome; error?: string }, now: number): Envelope {
  return envelope(
    { eventId: callbackOutcomeId(doc.callbackId, outcome.outcome), tenantId, aggregateId: doc.callbackId, occurredAt: now, correlationId: doc.enrollmentId },
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
  /**
   * How long HubSpot waits for a BLOCKed callback (`HUBSPOT_BLOCK_EXPIRATION`), ms: the
   * expiration of a callback whose record does not say (received by a gateway that crashed before
   * it answered). @default 86400000 (P1D)
   */
  blockExpirationMs?: number;
  /** The first wait before a parked callback is tried again when HubSpot sent no `Retry-After`, doubling each attempt, ms. @default 1000 */
  retryBaseMs?: number;
  /** The longest such wait, ms. @default 900000 (15 minutes) */
  retryMaxMs?: number;
  /** How often the retry loop looks for parked callbacks that are due, ms. @default 1000 */
  retryPollMs?: number;
  /** Consumer group. @default 'codestep-gateway-hubspot-callbacks' */
  group?: string;
  /**
   * How long an action request waits for its enrollment (`HUBSPOT_ACTION_ANSWER_MS`), ms: a
   * finished enrollment whose callback has no record yet is left to its request for that long
   * after it finished. @default 0
   */
  answerWithinMs?: number;
}

/** HubSpot's batch completion takes at most this many callbacks a request. */
export const MAX_CALLBACKS_PER_BATCH = 100;

type Sent = { ok: true } | { ok: false; retry: boolean; error: string; retryAfterMs?: number };

/** One callback's completion as HubSpot takes it (a failed workflow says so). */
const completionBody = (outputFields: Record<string, unknown>) =>
  outputFields['hs_execution_state'] === 'FAIL_CONTINUE' ? { outputFields, failureReasonType: 'CODESTEP_WORKFLOW_FAILED' } : { outputFields };

/**
 * POSTs a completion once (one callback: `…/callbacks/{callbackId}/complete`; several:
 * `…/callbacks/complete` with `inputs`); the outcome in words, with HubSpot's `Retry-After` when
 * it refused with 429 or 5XX. It never waits to try again: the caller parks what HubSpot refused.
 */
async function postCompletion(deps: CompleterDeps, token: string, completions: readonly Claimed[]): Promise<Sent> {
  const doFetch = deps.fetch ?? fetch;
  const base = `${deps.apiBaseUrl.replace(/\/+$/, '')}/automation/v4/actions/callbacks`;
  const single = completions.length === 1 ? completions[0]! : undefined;
  const url = single ? `${base}/${encodeURIComponent(single.doc.callbackId)}/complete` : `${base}/complete`;
  const body = JSON.stringify(single ? completionBody(single.outputFields) : { inputs: completions.map((c) => ({ callbackId: c.doc.callbackId, ...completionBody(c.outputFields) })) });
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
    const error = `HubSpot answered HTTP ${res.status}: ${text.slice(0, 300)}`;
    if (res.status !== 429 && res.status < 500) return { ok: false, retry: false, error };
    const retryAfter = Number(res.headers.get('retry-after'));
    return { ok: false, retry: true, error, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
  } catch (error) {
    return { ok: false, retry: true, error: `HubSpot could not be reached (${error instanceof Error ? error.message : String(error)})` };
  } finally {
    clearTimeout(timer);
  }
}

/** A callback to complete, and what HubSpot is to get. */
interface Completion {
  tenantId: string;
  enrollmentId: string;
  outputFields: Record<string, unknown>;
  executionState: string;
}

/** A finished HubSpot-started enrollment whose callback is to be completed. */
interface Finished extends Completion {
  origin: HubSpotOrigin;
  /** When the enrollment finished (its event), UNIX ms. */
  finishedAt: number;
}

/** A callback this completer holds (`completing`, its lease in `doc.leaseUntil`), with what HubSpot is to get. */
interface Claimed extends Completion {
  doc: CallbackDoc;
}

/** What one claim attempt found: ours now, decided by someone else, or to try again at `at`. */
type ClaimStep = { claimed: Claimed } | { settled: CallbackDoc } | { retryAt: number };

/** The events that finish an enrollment (the enrollments topic carries every other event of it too). */
const FINISHED_TYPES: ReadonlySet<string> = new Set(['EnrollmentCompleted', 'EnrollmentFailed']);

function finishedOf(env: Envelope): Finished | undefined {
  const e = env.event;
  if (e.$case !== 'enrollmentCompleted' && e.$case !== 'enrollmentFailed') return undefined;
  const origin = e.value.hubspot;
  if (!origin?.callbackId) return undefined;
  const outputFields =
    e.$case === 'enrollmentCompleted'
      ? outputFieldsOf({ outputs: Object.fromEntries(Object.entries(e.value.outputs).map(([k, v]) => [k, fieldMapToPlain(v.fields)])) })
      : outputFieldsOf({ error: e.value.error?.message ?? 'the workflow failed' });
  return {
    tenantId: env.tenantId,
    origin,
    enrollmentId: e.value.enrollmentId,
    outputFields,
    executionState: String(outputFields['hs_execution_state'] ?? 'SUCCESS'),
    finishedAt: env.occurredAt,
  };
}

/** A parked callback, or one the retry loop holds: the delivery of its enrollment leaves it to the loop. */
const parked = (d: CallbackDoc) => d.state === 'retrying' || (d.state === 'completing' && typeof d.retryAt === 'number');

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
      // Its action request writes the record with its answer, within its budget from when it came (before the enrollment finished).
      const leftToRequest = f.finishedAt + (deps.answerWithinMs ?? 0);
      if (now < leftToRequest) return { retryAt: leftToRequest };
      // Its request died (or is late, and answers BLOCK when it finds this record): nobody answered synchronously.
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
    if (cur.state === 'answered' || cur.state === 'completed' || cur.state === 'gave_up' || parked(cur)) return { settled: cur };
    if (cur.state === 'waiting' && now < cur.answerBy) return { retryAt: cur.answerBy };
    if (cur.state === 'completing' && now < cur.leaseUntil) return { retryAt: cur.leaseUntil };
    // The enrollment id from its event: the action request writes it only with its answer.
    const claimed = await moveCallback(deps.store, f.tenantId, callbackId, (d) => d.state === cur.state && d.leaseUntil === cur.leaseUntil, 'completing', {
      leaseUntil: now + (deps.leaseMs ?? 30_000),
      attempts: cur.attempts + 1,
      enrollmentId: cur.enrollmentId || f.enrollmentId,
    });
    if (claimed) return { claimed: { ...f, doc: claimed } };
  }
  return { retryAt: deps.clock() + 50 };
}

/** A callback's attempt HubSpot did not take: parked for the next one, or given up. */
function attemptEvent(tenantId: string, doc: CallbackDoc, attempt: { error: string; nextAttemptAt: number; expiresAt: number; gaveUp: boolean }, now: number): Envelope {
  return envelope(
    {
      eventId: deterministicId('evt', 'hubspot-callback-attempt', doc.callbackId, doc.attempts),
      tenantId,
      aggregateId: doc.enrollmentId || doc.callbackId,
      occurredAt: now,
      correlationId: doc.enrollmentId,
    },
    {
      $case: 'hubspotCallbackAttempted',
      value: {
        callbackId: doc.callbackId,
        enrollmentId: doc.enrollmentId,
        portalId: doc.portalId,
        attempt: doc.attempts,
        error: attempt.error,
        nextAttemptAt: attempt.nextAttemptAt,
        expiresAt: attempt.expiresAt,
        gaveUp: attempt.gaveUp,
      },
    },
  );
}

/** The events of a callback settled (or parked) before (none for a synchronous answer: the answer's path records it). */
function settledAgain(f: Finished, doc: CallbackDoc, now: number): Envelope[] {
  if (doc.state === 'completed') return [callbackOutcome(f.tenantId, doc, { executionState: f.executionState, outcome: 'completed' }, now)];
  if (doc.state === 'gave_up') return [callbackOutcome(f.tenantId, doc, { executionState: f.executionState, outcome: 'gave_up', error: doc.error ?? 'given up earlier' }, now)];
  if (doc.state === 'retrying' && doc.attempts > 0)
    return [attemptEvent(f.tenantId, doc, { error: doc.lastError ?? '', nextAttemptAt: doc.retryAt ?? 0, expiresAt: doc.expiresAt ?? 0, gaveUp: false }, now)];
  return [];
}

/** How one claimed callback ended: its events (none: another decided), or to be delivered again (the store failed). */
type Settled = { events: Envelope[] } | { again: string };

/** When HubSpot stops waiting for the callback, UNIX ms. */
const expirationOf = (deps: CompleterDeps, doc: CallbackDoc) => doc.expiresAt ?? doc.answerBy + (deps.blockExpirationMs ?? 86_400_000);

/**
 * When to try a refused completion again: HubSpot's `Retry-After`, else a doubling backoff; a
 * backoff that would pass the expiration is cut to one last attempt just before it. Undefined:
 * the next attempt would come after the expiration (give up now).
 */
function nextAttemptAt(deps: CompleterDeps, doc: CallbackDoc, sent: { retryAfterMs?: number }, now: number): number | undefined {
  const expiresAt = expirationOf(deps, doc);
  if (sent.retryAfterMs !== undefined) return now + sent.retryAfterMs < expiresAt ? now + sent.retryAfterMs : undefined;
  const base = deps.retryBaseMs ?? 1_000;
  const next = now + Math.min(base * 2 ** Math.max(0, doc.attempts - 1), deps.retryMaxMs ?? 900_000);
  if (next < expiresAt) return next;
  // One last attempt a base wait before the expiration, unless this was it.
  return expiresAt - now > 2 * base ? expiresAt - base : undefined;
}

/**
 * Records what HubSpot answered for one claimed callback: completed, parked for another attempt
 * (429/5XX, not reachable), or given up (any other refusal, no token, or the block expiring
 * before the next attempt). `record` gets the events before the record moves (the retry loop
 * appends them there, so a crash in between loses none; a consumer delivery returns them with its
 * position instead). Never throws: a callback whose record the store did not take is reported as
 * `again`, whatever happens to the others of its batch.
 */
async function settle(deps: CompleterDeps, c: Claimed, sent: Sent, batched: boolean, record: (events: Envelope[]) => Promise<void>): Promise<Settled> {
  const { tenantId, doc, executionState } = c;
  const log = { tenantId, callbackId: doc.callbackId, enrollmentId: doc.enrollmentId, attempt: doc.attempts };
  // Moved only while still ours (not a lease another completer took once ours ran out).
  const ours = (d: CallbackDoc) => d.state === 'completing' && d.leaseUntil === doc.leaseUntil;
  try {
    const now = deps.clock();
    if (sent.ok) {
      const events = [callbackOutcome(tenantId, doc, { executionState, outcome: 'completed' }, now)];
      await record(events);
      const done = await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'completed', { retryAt: undefined });
      deps.logger.info({ ...log, executionState, batched }, 'HubSpot callback completed');
      return { events: done ? events : [] };
    }
    const expiresAt = expirationOf(deps, doc);
    const next = sent.retry ? nextAttemptAt(deps, doc, sent, now) : undefined;
    if (next !== undefined) {
      deps.logger.warn({ ...log, error: sent.error, nextAttemptAt: new Date(next).toISOString() }, 'HubSpot callback not completed yet; parked for another attempt');
      const events = [attemptEvent(tenantId, doc, { error: sent.error, nextAttemptAt: next, expiresAt, gaveUp: false }, now)];
      await record(events);
      const moved = await moveCallback(deps.store, tenantId, doc.callbackId, ours, 'retrying', {
        leaseUntil: 0,
        retryAt: next,
        lastError: sent.error,
        expiresAt,
        outputFields: c.outputFields,
        executionState,
      });
      return { events: moved ? events : [] };
    }
    const error = sent.retry ? `callback not delivered: ${sent.error} (attempt ${doc.attempts}), until the block expired at ${new Date(expiresAt).toISOString()}` : sent.error;
    deps.logger.warn({ ...log, error }, 'HubSpot callback given up');
    const gaveUp = { ...doc, state: 'gave_up' as const, error };
    const events = [
      ...(sent.retry ? [attemptEvent(tenantId, doc, { error: sent.error, nextAttemptAt: 0, expiresAt, gaveUp: true }, now)] : []),
      callbackOutcome(tenantId, gaveUp, { executionState, outcome: 'gave_up', error }, now),
    ];
    await record(events);
    const moved = await moveCallback(deps.store, tenantId, doc.callbackId, ['completing'], 'gave_up', { error, retryAt: undefined });
    return { events: moved ? events : [] };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Released if the store lets us; otherwise the lease runs out (HubSpot refusing a second completion counts as done).
    await moveCallback(deps.store, tenantId, doc.callbackId, ours, typeof doc.retryAt === 'number' ? 'retrying' : 'blocked', { leaseUntil: 0 }).catch(() => undefined);
    return { again: `HubSpot callback ${doc.callbackId} not recorded: ${message}` };
  }
}

/** Token errors that pass (the broker's "try again"): the callback is parked instead of given up. Not INTERNAL: a bug would retry for a day. */
const TRANSIENT_TOKEN_ERRORS = new Set(['PROVIDER_UNAVAILABLE']);

/**
 * Completes claimed callbacks of one connection: one request when there is one, the batch
 * endpoint (up to {@link MAX_CALLBACKS_PER_BATCH} a request) when several are ready together. A
 * batch HubSpot refuses (one of its callbacks already completed, say) is completed one by one,
 * where an already completed callback counts as done. Each callback is settled on its own.
 */
async function completeGroup(deps: CompleterDeps, group: readonly Claimed[], record: (events: Envelope[]) => Promise<void>): Promise<Settled[]> {
  const first = group[0]!;
  const settleAll = (sent: Sent, batched: boolean) => inParallel(group, 8, (c) => settle(deps, c, sent, batched, record));
  let token: Awaited<ReturnType<CompleterDeps['tokenOf']>>;
  try {
    token = await deps.tokenOf(first.tenantId, first.doc.handle, group.length === 1 ? first.doc.callbackId : `${first.doc.callbackId} and ${group.length - 1} more`);
  } catch (error) {
    return settleAll({ ok: false, retry: true, error: `no token for the connection yet (${error instanceof Error ? error.message : String(error)})` }, false);
  }
  if ('error' in token && TRANSIENT_TOKEN_ERRORS.has(token.errorCode)) {
    // The provider or the broker is away for now, not the connection: parked, not given up.
    return settleAll({ ok: false, retry: true, error: `no token for the connection yet (${token.errorCode}: ${token.error})` }, false);
  }
  if ('error' in token) {
    for (const { tenantId, doc } of group) deps.logger.warn({ tenantId, callbackId: doc.callbackId, errorCode: token.errorCode }, 'HubSpot callback not completed: no token for the connection');
    return settleAll({ ok: false, retry: false, error: `reconnect HubSpot: ${token.error}` }, false);
  }
  const bearer = token.token;
  const one = async (c: Claimed) => settle(deps, c, await postCompletion(deps, bearer, [c]), false, record);
  const out: Settled[] = [];
  for (let i = 0; i < group.length; i += MAX_CALLBACKS_PER_BATCH) {
    const chunk = group.slice(i, i + MAX_CALLBACKS_PER_BATCH);
    if (chunk.length === 1) {
      out.push(await one(chunk[0]!));
      continue;
    }
    const sent = await postCompletion(deps, bearer, chunk);
    if (sent.ok || sent.retry) out.push(...(await inParallel(chunk, 8, (c) => settle(deps, c, sent, true, record))));
    else for (const c of chunk) out.push(await one(c));
  }
  return out;
}

/** Completes claimed callbacks grouped per connection (one token each); the settled callbacks' events, and what must be delivered again. */
async function completeClaimed(deps: CompleterDeps, claimed: readonly Claimed[], record: (events: Envelope[]) => Promise<void>): Promise<{ events: Envelope[]; again: string[] }> {
  const groups = new Map<string, Claimed[]>();
  for (const c of claimed) {
    const key = JSON.stringify([c.tenantId, c.doc.handle]);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const events: Envelope[] = [];
  const again: string[] = [];
  for (const settled of (await inParallel([...groups.values()], 4, (g) => completeGroup(deps, g, record))).flat()) {
    if ('again' in settled) again.push(settled.again);
    else events.push(...settled.events);
  }
  return { events, again };
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noRecord = async () => undefined;

/**
 * Completes the callbacks of one delivered batch of finished enrollments, in rounds: claim what
 * can be claimed now, complete it (batched per connection), settle each (HubSpot refusing parks
 * it); then wait, holding no lease, for the callbacks still waiting for their synchronous answer
 * or leased by another completer, and go again. Returns the events; when some callback must be
 * delivered again (the store failing, the completer stopping), it appends the events it has and
 * throws.
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
      // Settled or parked before this delivery: its events again (same event ids; consumers keep one), in case the
      // completer that settled it died before appending them.
      else outcomes.push(...settledAgain(pending[i]!, step.settled, deps.clock()));
    });
    const done = await completeClaimed(deps, claimed, noRecord);
    outcomes.push(...done.events);
    again.push(...done.again);
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
 * One round of the retry loop: claims the parked callbacks that are due (and those a loop that
 * died held past its lease), completes them, and appends their events. Returns how many it tried.
 */
export async function retryDueCallbacks(deps: CompleterDeps, limit = 200): Promise<number> {
  const now = deps.clock();
  const leaseMs = deps.leaseMs ?? 30_000;
  const due = [
    ...(await deps.store.find<CallbackDoc & { tenantId: string }>(CALLBACKS, {
      where: { state: 'retrying' },
      range: { field: 'retryAt', lt: now + 1 },
      orderBy: { field: 'retryAt', direction: 'asc' },
      limit,
    })),
    ...(await deps.store.find<CallbackDoc & { tenantId: string }>(CALLBACKS, { where: { state: 'completing' }, range: { field: 'retryAt', lt: now + 1 }, limit })),
  ];
  const claimed: Claimed[] = [];
  await inParallel(due, 16, async ({ doc: cur }) => {
    const claim = await moveCallback(deps.store, cur.tenantId, cur.callbackId, (d) => d.state === cur.state && d.retryAt === cur.retryAt, 'completing', {
      leaseUntil: now + leaseMs,
      retryAt: now + leaseMs,
      attempts: cur.attempts + 1,
    }).catch(() => undefined);
    if (claim?.outputFields)
      claimed.push({ tenantId: cur.tenantId, enrollmentId: claim.enrollmentId, outputFields: claim.outputFields, executionState: claim.executionState ?? 'SUCCESS', doc: claim });
  });
  if (claimed.length === 0) return 0;
  const record = async (events: Envelope[]) => {
    await deps.eventLog.append(events.map((e) => toRecord(e)));
  };
  const { again } = await completeClaimed(deps, claimed, record);
  if (again.length > 0) deps.logger.warn({ error: again[0], count: again.length }, 'parked HubSpot callbacks not recorded; tried again at the next round');
  return claimed.length;
}

/**
 * Follows the enrollments topic and completes the callback of every HubSpot-started enrollment
 * that finished and was not answered synchronously; a timer loop tries the parked ones again.
 * Any gateway replica can run it (one consumer group); the records decide who calls HubSpot.
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
      for (const env of envelopesOfTypes(batch, FINISHED_TYPES)) {
        const f = finishedOf(env);
        const key = f && JSON.stringify([f.tenantId, f.origin.callbackId]);
        if (f && key && !finished.has(key)) finished.set(key, f);
      }
      if (finished.size === 0) return [];
      const outcomes = await completeDelivered(deps, [...finished.values()], () => stopping);
      return outcomes.map((o) => toRecord(o));
    },
    onError: (error) => deps.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'HubSpot callbacks batch failed; will retry'),
  });
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const loop = () => {
    round = retryDueCallbacks(deps)
      .then(
        () => undefined,
        (error: unknown) => deps.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'HubSpot callback retries failed; will retry'),
      )
      .finally(() => {
        if (!stopping) timer = setTimeout(loop, deps.retryPollMs ?? 1_000);
      });
  };
  timer = setTimeout(loop, deps.retryPollMs ?? 1_000);
  return {
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      await round;
      await subscription.stop();
    },
  };
}
