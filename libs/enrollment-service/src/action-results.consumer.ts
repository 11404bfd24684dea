/**
 * The step machine's consume→produce step over the actions topic: each action result goes
 * through the pure decider (`@codestep/workflows`) and the events that follow are returned, to be
 * appended atomically with the consumer's position (exactly once per the log's contract). The
 * same batch feeds the retry timers projection, whose new timers wake the scheduler, and the
 * waits projection (a resume URL works once its WaitStarted is there). What follows
 * about the same execution (its retry being scheduled) goes to the partition of its result, where
 * its other events are (a retry routed to a live executor's partition keeps them there).
 */
import type { WorkflowDefinition } from '@codestep/contracts';
import type { Logger, RunBounds } from '@codestep/core';
import type { ConsumedRecord, LogRecord } from '@codestep/event-log';
import { Topics, fromRecord, toRecord, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { currentTraceparent, idAttributes, messagingSpanOf, withSpan } from '@codestep/telemetry';
import { decideStepResult, onActionResult, type RetryPolicy } from '@codestep/workflows';
import { applyToRetryTimers } from './retry-timers.projection.ts';
import type { GrantStamper } from './execution-grant.stamper.ts';
import type { WorkflowRepository } from './workflow.repository.ts';
import { decideWithRunState } from './workflow-runs.projection.ts';
import { applyToWorkflowWaits } from './workflow-waits.projection.ts';

export interface ActionResultsDeps {
  store: DocumentStore;
  clock: () => number;
  logger: Logger;
  retryPolicy: RetryPolicy;
  /** JsWorkflows: the caps on a run's chain depth and branches. */
  runBounds: RunBounds;
  repository: WorkflowRepository;
  /** Called when the batch set new retry timers. */
  onTimersScheduled(): void;
  stampGrants: GrantStamper;
}

/** Handles one batch of the actions topic; returns the records to append. */
export type ActionResultsHandler = (batch: ConsumedRecord[]) => Promise<LogRecord[]>;

export function createActionResultsConsumer(deps: ActionResultsDeps): ActionResultsHandler {
  const { repository, logger } = deps;

  async function decide(env: Envelope, headers: Record<string, string>, partition: number): Promise<LogRecord[]> {
    const ctx = (env.event.value as { context?: { workflowId: string; workflowVersion: number; enrollmentId: string; actionId?: string; step?: unknown } }).context;
    const executionId = (env.event.value as { executionId?: string }).executionId;
    const m = messagingSpanOf({ topic: Topics.actions, operation: 'process', messageId: env.eventId, key: env.aggregateId, partition });
    const ids = idAttributes({
      tenantId: env.tenantId,
      ...(executionId ? { executionId } : {}),
      ...(ctx ? { workflowId: ctx.workflowId, enrollmentId: ctx.enrollmentId, ...(ctx.actionId ? { actionId: ctx.actionId } : {}) } : {}),
    });
    return withSpan(m.name, { kind: m.kind, parent: headers, attributes: { ...m.attributes, ...ids, 'codestep.event.type': env.type } }, async () => {
      if (!ctx) return [];
      let wf: WorkflowDefinition;
      try {
        wf = await repository.load(env.tenantId, ctx.workflowId, ctx.workflowVersion);
      } catch (error) {
        logger.error({ eventId: env.eventId, error }, 'action result for an unknown workflow version; skipped');
        return [];
      }
      const tp = currentTraceparent();
      const now = deps.clock();
      // A JsWorkflows step: decided against the run's branches, written under compare-and-set.
      const events = ctx.step
        ? (await decideWithRunState(deps.store, env.tenantId, ctx.enrollmentId, (before) => decideStepResult(wf, env.tenantId, env, deps.retryPolicy, deps.runBounds, before, now))).events
        : onActionResult(wf, env.tenantId, env, deps.retryPolicy, now);
      return deps.stampGrants(wf, events).map((e) => (e.aggregateId === env.aggregateId ? { ...toRecord(e, tp), targetPartition: partition } : toRecord(e, tp)));
    });
  }

  return async (batch) => {
    const decoded = batch.flatMap((record) => {
      const env = fromRecord(record.value);
      return env ? [{ env, headers: record.headers, partition: record.partition }] : [];
    });
    const envs = decoded.map((d) => d.env);
    await applyToWorkflowWaits(deps.store, envs);
    if (await applyToRetryTimers(deps.store, envs)) deps.onTimersScheduled();
    const out: LogRecord[] = [];
    for (const { env, headers, partition } of decoded) {
      const c = env.event.$case;
      // A wait's end is decided here too: its step's request, or the end of its branch.
      if (c === 'actionSucceeded' || c === 'actionFailed' || c === 'waitResumed' || c === 'waitTimedOut') out.push(...(await decide(env, headers, partition)));
    }
    return out;
  };
}
