/**
 * The step machine's consume→produce step over the actions topic: each action result goes
 * through the pure decider (`@codestep/workflows`) and the events that follow are returned, to be
 * appended atomically with the consumer's position (exactly once per the log's contract). The
 * same batch feeds the retry timers projection, whose new timers wake the scheduler, and the
 * waits projection (a resume URL works once its WaitStarted is there). The results of one
 * JsWorkflows run in a batch are decided together (one read and one write of its run state), so a
 * burst of a run's timeouts does not rewrite its state, which grows with its branches, once each. What follows
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

/** The events the step machine decides on: a result, or the end of a wait. */
const DECIDED = new Set(['actionSucceeded', 'actionFailed', 'waitResumed', 'waitTimedOut']);

interface Decoded {
  env: Envelope;
  headers: Record<string, string>;
  partition: number;
}

type ResultContext = { workflowId: string; workflowVersion: number; enrollmentId: string; actionId?: string; step?: unknown };
const contextOf = (env: Envelope): ResultContext | undefined => (env.event.value as { context?: ResultContext }).context;

export function createActionResultsConsumer(deps: ActionResultsDeps): ActionResultsHandler {
  const { repository, logger } = deps;

  /**
   * Decides a group of results: one result of a plain action, or every result of one JsWorkflows
   * run in the batch (in log order), folded over the run's state in one read and one
   * compare-and-set write, so a burst of a run's timeouts costs one write per batch, not one each.
   */
  async function decide(group: Decoded[]): Promise<LogRecord[]> {
    const first = group[0]!;
    const ctx = contextOf(first.env);
    const executionId = (first.env.event.value as { executionId?: string }).executionId;
    const m = messagingSpanOf({ topic: Topics.actions, operation: 'process', messageId: first.env.eventId, key: first.env.aggregateId, partition: first.partition, messageCount: group.length });
    const ids = idAttributes({
      tenantId: first.env.tenantId,
      ...(executionId && group.length === 1 ? { executionId } : {}),
      ...(ctx ? { workflowId: ctx.workflowId, enrollmentId: ctx.enrollmentId, ...(ctx.actionId ? { actionId: ctx.actionId } : {}) } : {}),
    });
    return withSpan(m.name, { kind: m.kind, parent: first.headers, attributes: { ...m.attributes, ...ids, 'codestep.event.type': first.env.type } }, async () => {
      const loaded: Array<Decoded & { wf: WorkflowDefinition }> = [];
      for (const d of group) {
        const c = contextOf(d.env);
        if (!c) continue;
        try {
          loaded.push({ ...d, wf: await repository.load(d.env.tenantId, c.workflowId, c.workflowVersion) });
        } catch (error) {
          logger.error({ eventId: d.env.eventId, error }, 'action result for an unknown workflow version; skipped');
        }
      }
      if (!loaded.length) return [];
      const tp = currentTraceparent();
      const now = deps.clock();
      const head = loaded[0]!;
      const run = contextOf(head.env)!;
      // JsWorkflows steps: decided against the run's branches, written under compare-and-set.
      const decided: Envelope[][] = run.step
        ? (
            await decideWithRunState(deps.store, head.env.tenantId, run.enrollmentId, (before) => {
              let state = before;
              const events = loaded.map((d) => {
                const decision = decideStepResult(d.wf, d.env.tenantId, d.env, deps.retryPolicy, deps.runBounds, state, now);
                state = decision.state;
                return decision.events;
              });
              return { state, events };
            })
          ).events
        : loaded.map((d) => onActionResult(d.wf, d.env.tenantId, d.env, deps.retryPolicy, now));
      // A result delivered again decides the same events (same ids): a batch of them appends each once.
      const seen = new Set<string>();
      return loaded.flatMap((d, i) =>
        deps.stampGrants(d.wf, decided[i]!).flatMap((e) => {
          if (seen.has(e.eventId)) return [];
          seen.add(e.eventId);
          return [e.aggregateId === d.env.aggregateId ? { ...toRecord(e, tp), targetPartition: d.partition } : toRecord(e, tp)];
        }),
      );
    });
  }

  return async (batch) => {
    const decoded: Decoded[] = batch.flatMap((record) => {
      const env = fromRecord(record.value);
      return env ? [{ env, headers: record.headers, partition: record.partition }] : [];
    });
    const envs = decoded.map((d) => d.env);
    await applyToWorkflowWaits(deps.store, envs);
    if (await applyToRetryTimers(deps.store, envs)) deps.onTimersScheduled();
    // A wait's end is decided here too: its step's request, or the end of its branch. A run's
    // results are decided together; one execution's events are all of one run, so stay in order.
    const groups = new Map<string, Decoded[]>();
    decoded.forEach((d, i) => {
      if (!DECIDED.has(d.env.event.$case)) return;
      const ctx = contextOf(d.env);
      const key = ctx?.step ? `run ${ctx.enrollmentId}` : `one ${i}`;
      const group = groups.get(key);
      if (group) group.push(d);
      else groups.set(key, [d]);
    });
    const out: LogRecord[] = [];
    for (const group of groups.values()) out.push(...(await decide(group)));
    return out;
  };
}
