/**
 * Runs one consumed action request to the records to commit for it. Prepared before claiming: a
 * peer that is down (the enrollment or credentials service) redelivers the request after a
 * back-off instead of spending an attempt of the action. Claimed before it runs, so a redelivery
 * produces the recorded outcome again instead of running the action twice; the started event goes
 * out at once (history shows running executions), the result with the batch.
 */
import type { ActionRequested } from '@codestep/contracts';
import type { Clock } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord } from '@codestep/event-log';
import { fromRecord, toRecord } from '@codestep/events';
import type { Sandbox } from '@codestep/sandbox';
import { SpanKind, currentTraceId, currentTraceparent, withSpan } from '@codestep/telemetry';
import type { ClaimStore } from './claim.store.ts';
import type { DrainController } from './drain.controller.ts';
import { lostEvent, resultEvents, startedEvent } from './execution.mapping.ts';
import type { ExecutionPreparer } from './execution.preparer.ts';
import type { SandboxRunner } from './sandbox.runner.ts';

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
  executorId: string;
}

/** Runs one consumed record: the records to commit for it (none for anything but an action request). */
export type ActionRequestRunner = (record: ConsumedRecord) => Promise<LogRecord[]>;

/** Creates the {@link ActionRequestRunner} of one executor. */
export function createActionRequestRunner(deps: ActionRequestRunnerDeps): ActionRequestRunner {
  const { eventLog, claims, drain, clock } = deps;

  async function runClaimed(req: ActionRequested, tenantId: string): Promise<LogRecord[]> {
    const existing = await claims.get(req.executionId);
    const prepared = existing ? undefined : await deps.prepare(tenantId, req);
    drain.assertNotHandingBack(req.executionId);
    const token = existing ? undefined : await claims.claim(req.executionId);
    if (!token) return claims.outcomeOfClaimed(req.executionId, existing, () => [toRecord(lostEvent(req, tenantId, clock), currentTraceparent())]);
    await drain.claimed(req.executionId);
    await eventLog.append([toRecord(startedEvent(req, tenantId, deps.executorId, currentTraceId(), clock), currentTraceparent())]);
    const result = 'failure' in prepared! ? prepared.failure : await deps.runner.run(deps.sandbox(), prepared!);
    drain.finished(req.executionId);
    const records = resultEvents(req, tenantId, result, clock).map((e) => toRecord(e, currentTraceparent()));
    return claims.recordOutcome(req.executionId, token, records);
  }

  return async (record) => {
    const env = fromRecord(record.value);
    if (!env || env.event.$case !== 'actionRequested') return [];
    const req = env.event.value;
    return withSpan('execute action', { kind: SpanKind.CONSUMER, parent: record.headers, attributes: { 'codestep.execution_id': req.executionId } }, async () => {
      if (!req.context) return [];
      return runClaimed(req, env.tenantId);
    });
  };
}
