/**
 * How a JsWorkflows wait ends: its resume URL is called (`resume`), or its timeout comes (`timeOut`,
 * from its durable timer). Exactly one of the two happens per wait: each reserves its outcome in
 * the wait outbox under the wait's id (see `./command.outbox.ts`) before appending it, and only
 * one reservation per id can exist. The loser appends the winner's reserved records again (a crash
 * between a reservation and its append is repaired by whoever comes next) and, for a resume,
 * answers 409 (resumed already) or 410 (timed out). The token is the credential: the request
 * names no tenant, the wait found by the token's hash says whose it is.
 */
import { createHash } from 'node:crypto';
import type { enrollmentsV1 } from '@codestep/contracts';
import { CodestepError, NotFoundError, ValidationError, type Clock, type Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import type { Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { mergeWaitData, runHasFailed, waitResumed, waitTimedOut, type RunState } from '@codestep/workflows';
import { createCommandOutbox, envelopesOf, type CommandOutbox, logRecordsOf, reserveRecords, type Reservation } from './command.outbox.ts';
import { applyToRetryTimers } from './retry-timers.projection.ts';
import { WORKFLOW_RUNS } from './workflow-runs.projection.ts';
import { applyToWorkflowWaits, findWait, type WaitDoc } from './workflow-waits.projection.ts';

/** The outbox of wait outcomes, one per wait (resumed or timed out). */
export const WAIT_OUTBOX = 'wait_outbox';

interface OutcomeReservation extends Reservation {
  outcome: 'resumed' | 'timed_out';
  at: number;
}

export interface WaitCommandDeps {
  store: DocumentStore;
  eventLog: EventLog;
  clock: Clock;
  logger: Logger;
  /** Largest data a resumed step may get (the wait's payload merged with the request's), characters of JSON. */
  maxPayloadChars: number;
  /**
   * How long a resume waits for a wait it does not know yet, ms: the step that made the URL may
   * have handed it out before its result was decided (within the gateway's 10 s call deadline). @default 5000
   */
  lookupMs?: number;
}

export interface WaitCommands {
  resume(req: enrollmentsV1.ResumeWaitRequest): Promise<enrollmentsV1.ResumeWaitResponse>;
  /** The wait's timeout came: WaitTimedOut, unless it was resumed first. Returns what was appended. */
  timeOut(started: Envelope): Promise<Envelope[]>;
  /**
   * {@link timeOut} for many waits at once (a burst of due timers): their outcomes reserved in one
   * batch, appended in one append, applied to the projections in one write each. Returns what was
   * appended (each wait's WaitTimedOut, or the WaitResumed that came first).
   */
  timeOutMany(started: Envelope[]): Promise<Envelope[]>;
}

export async function ensureWaitOutbox(store: DocumentStore): Promise<void> {
  await store.ensureCollection(WAIT_OUTBOX, []);
}

/** What a resume token looks like (`api.waitForEvent` makes them): anything else is unknown at once. */
const TOKEN = /^rt_[A-Za-z0-9_-]{32}$/;

/** Times out waits in one batch (see {@link WaitCommands.timeOutMany}). */
async function timeOutWaits(deps: WaitCommandDeps, outbox: CommandOutbox<OutcomeReservation>, starteds: Envelope[]): Promise<Envelope[]> {
  const entries = starteds.flatMap((started) => {
    if (started.event.$case !== 'waitStarted') return [];
    const timedOut = waitTimedOut(started);
    const doc: OutcomeReservation = { tenantId: started.tenantId, outcome: 'timed_out', at: timedOut.occurredAt, records: reserveRecords([timedOut]) };
    return [{ id: started.event.value.executionId, doc }];
  });
  if (!entries.length) return [];
  const held = (await outbox.reserveMany(entries)).map((r) => r.reservation);
  await deps.eventLog.append(held.flatMap(logRecordsOf));
  const envs = held.flatMap(envelopesOf);
  await applyToWorkflowWaits(deps.store, envs);
  await applyToRetryTimers(deps.store, envs);
  return envs;
}

export function createWaitCommands(deps: WaitCommandDeps): WaitCommands {
  const { store, clock } = deps;
  const outbox = createCommandOutbox<OutcomeReservation>(store, deps.eventLog, WAIT_OUTBOX);
  const lookupMs = deps.lookupMs ?? 5000;

  /** Appends a reserved outcome (again, if it was) and applies it to the projections this service answers from. */
  async function settle(reservation: OutcomeReservation): Promise<void> {
    await outbox.append(reservation);
    const envs = envelopesOf(reservation);
    await applyToWorkflowWaits(store, envs);
    await applyToRetryTimers(store, envs);
  }

  async function lookup(tokenHash: string): Promise<{ id: string; doc: WaitDoc } | undefined> {
    const deadline = Date.now() + lookupMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
      const found = await findWait(store, tokenHash);
      if (found || Date.now() >= deadline) return found;
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
    }
  }

  const refusal = (held: OutcomeReservation, doc: WaitDoc): CodestepError =>
    held.outcome === 'resumed' ? new CodestepError('WAIT_ALREADY_RESUMED', `this resume URL was already used (at ${new Date(held.at).toISOString()}): a wait resumes its run once`) : expired(doc);
  const expired = (doc: WaitDoc): CodestepError =>
    new CodestepError('WAIT_EXPIRED', `this wait timed out at ${new Date(doc.dueAt).toISOString()}: its branch ended without ${doc.action} running, and nothing can resume it now`);

  return {
    async resume(req) {
      if (!TOKEN.test(req.token)) throw new NotFoundError('no wait has this resume URL: check that it was copied whole');
      let data: unknown;
      try {
        data = JSON.parse(req.dataJson || '{}');
      } catch {
        throw new ValidationError('the resume data is not JSON: send a JSON object');
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ValidationError('the resume data must be a JSON object: its fields are merged into the wait payload');
      const tokenHash = createHash('sha256').update(req.token).digest('hex');
      const wait = await lookup(tokenHash);
      if (!wait) throw new NotFoundError('no wait has this resume URL: it is mistyped, or the step that made it failed (a failed step waits for nothing)');
      const { doc } = wait;
      const held = await outbox.get(wait.id);
      if (held) {
        await settle(held);
        throw refusal(held, doc);
      }
      const now = clock();
      if (doc.dueAt <= now) throw expired(doc);
      const run = await store.get<RunState>(WORKFLOW_RUNS, doc.enrollmentId);
      if (run && (runHasFailed(run.doc) || run.doc.completed))
        throw new CodestepError('WAIT_EXPIRED', `the run this wait belongs to has ended (${run.doc.completed ? 'it completed' : 'it failed'}): nothing can resume it`);
      const started = JSON.parse(doc.envelope) as Envelope;
      const payloadJson = started.event.$case === 'waitStarted' ? (started.event.value.context?.step?.dataJson ?? '{}') : '{}';
      const dataJson = JSON.stringify(mergeWaitData(payloadJson, data as Record<string, unknown>));
      if (dataJson.length > deps.maxPayloadChars)
        throw new CodestepError(
          'PAYLOAD_TOO_LARGE',
          `the resumed step's data (the wait payload merged with this request's) is ${dataJson.length} characters of JSON, over ${deps.maxPayloadChars}: send less`,
        );
      const method = req.method === 'GET' ? 'GET' : 'POST';
      const resumed = waitResumed(started, dataJson, method, now);
      const { reservation, won } = await outbox.reserve(wait.id, { tenantId: doc.tenantId, outcome: 'resumed', at: now, records: reserveRecords([resumed]) });
      await settle(reservation);
      if (!won) throw refusal(reservation, doc);
      deps.logger.info({ tenantId: doc.tenantId, enrollmentId: doc.enrollmentId, executionId: wait.id, method }, 'wait resumed');
      return { tenantId: doc.tenantId, enrollmentId: doc.enrollmentId, executionId: wait.id, action: doc.action, redirectUrl: doc.redirectUrl };
    },

    timeOut: (started) => timeOutWaits(deps, outbox, [started]),
    timeOutMany: (started) => timeOutWaits(deps, outbox, started),
  };
}
