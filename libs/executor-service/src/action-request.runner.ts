/**
 * Runs one consumed action request to the records to commit for it. Prepared before claiming: a
 * peer that is down (the enrollment or credentials service) redelivers the request after a
 * back-off instead of spending an attempt of the action. Claimed before it runs, so a redelivery
 * produces the recorded outcome again instead of running the action twice; the started event goes
 * out at once (history shows running executions), the run not waiting for its commit, the result
 * with the batch. The claim's lease is renewed while the action runs and until its outcome is
 * recorded; a run that throws before that (recording it included) gives its claim up, so it is
 * reported lost within a lease and retried (see `lease.heartbeat.ts`). A request found claimed by a run whose lease still runs (an
 * executor that may be alive, or one that died a moment ago) is looked at again for a short while,
 * then appended again for later ({@link Requeue}): the batch's other requests never wait for it.
 * An execution's events go to the actions topic's partition its request was consumed from (a
 * request appended before the retry lane to a live executor's partition keeps all its events in
 * one ordered stream there); a retry consumed from the retry lane (`Topics.actionRetries`) has its
 * events in its key's partition, with the copy of its request in the actions topic. A retry's
 * request in the actions topic marked as laned (`RETRY_LANE_HEADER`) is skipped: its copy in the
 * lane runs it. An execution this executor finds lost names, for its retry, a partition of the
 * lane it consumes (see `lease.reaper.ts`).
 * A run its batch left (it outlasted `detachAfterMs`, see `drain.controller.ts`) records its
 * outcome as not yet appended, appends it, then says so on its claim: an executor dying in between
 * leaves it to a lease reaper, which appends it a lease later.
 */
import type { ActionRequested } from '@codestep/contracts';
import type { Clock, Logger } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord } from '@codestep/event-log';
import { RETRY_LANE_HEADER, Topics, fromRecord, toRecord } from '@codestep/events';
import type { Sandbox } from '@codestep/sandbox';
import { currentTraceId, currentTraceparent, idAttributes, messagingSpanOf, withSpan } from '@codestep/telemetry';
import { ClaimHeld, type ClaimStore } from './claim.store.ts';
import { Requeue, type BatchRun, type DrainController } from './drain.controller.ts';
import { lostEvent, resultEvents, startedEvent } from './execution.mapping.ts';
import type { ExecutionPreparer } from './execution.preparer.ts';
import { startHoldBound } from './lease.heartbeat.ts';
import type { SandboxRunner } from './sandbox.runner.ts';

/** How long a request claimed by a live lease is looked at again before it is appended again, ms. */
export const HELD_CLAIM_WAIT_MS = 1_000;

/** What {@link createActionRequestRunner} works with. */
export interface ActionRequestRunnerDeps {
  eventLog: EventLog;
  claims: ClaimStore;
  drain: DrainController;
  prepare: ExecutionPreparer;
  runner: SandboxRunner;
  /** The sandbox, once the service started. */
  sandbox(): Sandbox;
  clock: Clock;
  logger: Logger;
  executorId: string;
  /** The claims' lease, ms (see `claim.store.ts`). */
  leaseMs: number;
  /** How long a run's claim is held at most, ms: above the longest wall time the sandbox allows (see `lease.heartbeat.ts`). */
  holdMs: number;
  /** A partition of the retry lane this executor consumes, for a lost execution's retry (undefined: none known). */
  lanePartitionFor(executionId: string): number | undefined;
}

/**
 * Runs one consumed record: the records to commit for it (none for anything but an action
 * request); `run`, given by the batch, says whether the batch left it (see the module comment).
 */
export type ActionRequestRunner = (record: ConsumedRecord, run?: BatchRun) => Promise<LogRecord[]>;

/** `records`, those of the actions topic in `partition` (the request's; see the module comment); undefined: their key's. */
function inPartition(records: LogRecord[], partition: number | undefined): LogRecord[] {
  return partition === undefined ? records : records.map((r) => (r.topic === Topics.actions ? { ...r, targetPartition: partition } : r));
}

/** The actions topic's partition of a consumed request, where its execution's events go; undefined (its key's) for the retry lane's. */
function actionsPartition(record: ConsumedRecord): number | undefined {
  return record.topic === Topics.actionRetries ? undefined : record.partition;
}

/** A retry's request in the actions topic whose copy in the retry lane runs it (see the module comment). */
export function isLanedCopy(record: ConsumedRecord): boolean {
  return record.topic === Topics.actions && record.headers[RETRY_LANE_HEADER] !== undefined;
}

/** Creates the {@link ActionRequestRunner} of one executor. */
export function createActionRequestRunner(deps: ActionRequestRunnerDeps): ActionRequestRunner {
  const { eventLog, claims, drain, clock } = deps;

  /**
   * The outcome of an execution claimed already: its records once it finished or its lease ran
   * out, looked at again until then for up to {@link HELD_CLAIM_WAIT_MS}; then {@link Requeue}.
   */
  async function outcomeOfClaimed(req: ActionRequested, tenantId: string, record: ConsumedRecord, seen: Awaited<ReturnType<ClaimStore['get']>>, run?: BatchRun): Promise<LogRecord[]> {
    // Its batch waits for it from here (a second at most): what it produces goes out with the batch.
    if (run?.leftByBatch()) throw new Requeue(`execution ${req.executionId} was left by its batch before it was looked at; its request is appended again`);
    // Reported by this executor: the retry goes to a partition of the lane it consumes (the one the request came from, if from there).
    const lanePartition = record.topic === Topics.actionRetries ? record.partition : deps.lanePartitionFor(req.executionId);
    const lost = () => inPartition([toRecord(lostEvent(req, tenantId, clock, lanePartition), currentTraceparent())], actionsPartition(record));
    const giveUpAt = Date.now() + HELD_CLAIM_WAIT_MS;
    for (let claim = seen; ; claim = null) {
      try {
        return await claims.outcomeOfClaimed(req.executionId, claim, lost);
      } catch (error) {
        if (!(error instanceof ClaimHeld)) throw error;
        const left = giveUpAt - Date.now();
        if (left <= 0) throw new Requeue(`${error.message}; its request is appended again`);
        // Just past the lease's end if that comes first: a lease left by a dead executor is resolved at once.
        await new Promise((r) => setTimeout(r, Math.min(left, error.leaseLeftMs + 10)));
      }
    }
  }

  async function runClaimed(req: ActionRequested, tenantId: string, record: ConsumedRecord, run?: BatchRun): Promise<LogRecord[]> {
    const existing = await claims.get(req.executionId);
    const prepared = existing ? undefined : await deps.prepare(tenantId, req);
    drain.assertNotHandingBack(req.executionId);
    // The claim keeps the request, so a lease reaper can report it lost without it (see `lease.reaper.ts`).
    const partition = actionsPartition(record);
    const token = existing ? undefined : await claims.claim(req.executionId, { value: record.value, partition });
    if (!token) return outcomeOfClaimed(req, tenantId, record, existing, run);
    await drain.claimed(req.executionId, run);
    const lease = startHoldBound({ claims, logger: deps.logger, leaseMs: deps.leaseMs, holdMs: deps.holdMs }, req.executionId, token);
    // Held until its outcome is recorded; abandoned on any error before that (see `lease.heartbeat.ts`).
    try {
      const out = await runHeld(req, tenantId, partition, prepared!, token, run);
      await lease.stop();
      return out;
    } catch (error) {
      lease.abandon();
      throw error;
    }
  }

  /** Runs a claimed execution held by `token` and records its outcome on the claim (see the module comment). */
  async function runHeld(req: ActionRequested, tenantId: string, partition: number | undefined, prepared: Awaited<ReturnType<ExecutionPreparer>>, token: string, run?: BatchRun): Promise<LogRecord[]> {
    // Reported started at once, and run without waiting for that append to commit (a turn of the
    // log's, spent otherwise before the sandbox gets the request): the result is recorded once it
    // is, so the started report stays first in the log; if it failed, it goes with the result.
    const started = inPartition([toRecord(startedEvent(req, tenantId, deps.executorId, currentTraceId(), clock), currentTraceparent())], partition);
    const startedAppend: Promise<LogRecord[]> = eventLog.append(started).then(
      () => [],
      () => started,
    );
    const result = 'failure' in prepared ? prepared.failure : await deps.runner.run(deps.sandbox(), prepared);
    const startedAgain = await startedAppend;
    drain.finished(req.executionId);
    const records = [
      ...startedAgain,
      ...inPartition(
        resultEvents(req, tenantId, result, clock).map((e) => toRecord(e, currentTraceparent())),
        partition,
      ),
    ];
    if (!run?.leftByBatch()) return claims.recordOutcome(req.executionId, token, records);
    // Its batch was committed without it: recorded as not yet appended, appended, then marked so.
    const out = await claims.recordOutcome(req.executionId, token, records, { unpublished: true });
    if (out.length) await eventLog.append(out);
    await claims.markPublished({ executionId: req.executionId, token });
    return out;
  }

  return async (record, run) => {
    if (isLanedCopy(record)) return [];
    const env = fromRecord(record.value);
    if (!env || env.event.$case !== 'actionRequested') return [];
    const req = env.event.value;
    const m = messagingSpanOf({ topic: record.topic, operation: 'process', messageId: env.eventId, key: record.key, partition: record.partition });
    const ids = idAttributes({
      tenantId: env.tenantId,
      executionId: req.executionId,
      ...(req.context ? { workflowId: req.context.workflowId, enrollmentId: req.context.enrollmentId, actionId: req.context.actionId } : {}),
    });
    return withSpan(m.name, { kind: m.kind, parent: record.headers, attributes: { ...m.attributes, ...ids } }, async () => {
      if (!req.context) return [];
      return runClaimed(req, env.tenantId, record, run);
    });
  };
}
