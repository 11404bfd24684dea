/**
 * Test fixtures of the step machine: a published workflow, an enrollment's first action request,
 * and the action results that follow it, built through the pure decider.
 */
import type { WorkflowDefinition } from '@codestep/contracts';
import { envelope, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { DEFAULT_RETRY_POLICY, onActionResult, startEnrollment, type RetryPolicy } from '@codestep/workflows';
import { actionDef } from './testing.fixtures.ts';
import { applyWorkflowPublished, ensureWorkflowCollections } from './workflows.projection.ts';

export const RETRY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, initialDelayMs: 1_000 };

/** Publishes (to the projection only) a two-action workflow `wf1` for tenant `t1`. */
export async function seedWorkflow(store: DocumentStore): Promise<WorkflowDefinition> {
  await ensureWorkflowCollections(store);
  const wf: WorkflowDefinition = { workflowId: 'wf1', version: 1, name: 'Two steps', objectType: 'CONTACT', actions: [actionDef('a'), actionDef('b')], createdAt: 1 };
  await applyWorkflowPublished(store, envelope({ eventId: 'evt_wf1', tenantId: 't1', aggregateId: 'wf1', occurredAt: 1 }, { $case: 'workflowPublished', value: { workflow: wf } }));
  return wf;
}

/** The first action request of enrollment `enrollmentId` on `wf`. */
export function firstRequest(wf: WorkflowDefinition, enrollmentId: string, now = 100): Envelope {
  const events = startEnrollment(wf, { tenantId: 't1', enrollmentId, object: { objectType: 'CONTACT', objectId: '1', properties: {} }, portalId: 0 }, now);
  const requested = events.find((e) => e.event.$case === 'actionRequested');
  if (!requested) throw new Error('no first request');
  return requested;
}

function contextOf(requested: Envelope) {
  if (requested.event.$case !== 'actionRequested' || !requested.event.value.context) throw new Error('not an action request');
  return { executionId: requested.event.value.executionId, context: requested.event.value.context };
}

export function succeeded(requested: Envelope, now = 200): Envelope {
  const { executionId, context } = contextOf(requested);
  return envelope(
    { eventId: `evt_ok_${executionId}`, tenantId: 't1', aggregateId: executionId, occurredAt: now },
    { $case: 'actionSucceeded', value: { executionId, context, outputFields: {}, durationMs: 1, returnValueJson: '', nextSteps: [], waits: [], httpResponseJson: '' } },
  );
}

export function failedRetryably(requested: Envelope, now = 200): Envelope {
  const { executionId, context } = contextOf(requested);
  return envelope(
    { eventId: `evt_fail_${executionId}`, tenantId: 't1', aggregateId: executionId, occurredAt: now },
    {
      $case: 'actionFailed',
      value: { executionId, context, error: { code: 'RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 0 }, durationMs: 1, continueEnrollment: false, outputFields: {} },
    },
  );
}

/** The ActionRetryScheduled the decider makes of a retryable failure at `now`. */
export function retryScheduled(wf: WorkflowDefinition, requested: Envelope, now = 200): Envelope {
  const [scheduled] = onActionResult(wf, 't1', failedRetryably(requested, now), RETRY, now);
  if (scheduled?.event.$case !== 'actionRetryScheduled') throw new Error('no retry scheduled');
  return scheduled;
}

/** Publishes (to the projection only) a JsWorkflows workflow `wf2` for tenant `t1`: `start`, then a method its waits would resume. */
export async function seedJsWorkflow(store: DocumentStore): Promise<WorkflowDefinition> {
  await ensureWorkflowCollections(store);
  const action = { ...actionDef('flow'), runtime: 'jsworkflows', code: 'class Workflow { async start() {} async never() {} }' };
  const wf: WorkflowDefinition = { workflowId: 'wf2', version: 1, name: 'Waits', objectType: 'WEBHOOK', actions: [action], createdAt: 1 };
  await applyWorkflowPublished(store, envelope({ eventId: 'evt_wf2', tenantId: 't1', aggregateId: 'wf2', occurredAt: 1 }, { $case: 'workflowPublished', value: { workflow: wf } }));
  return wf;
}

/** The success of `start` (requested by `requested`), asking for `count` waits that time out `timeoutMs` after it finished, at `now`. */
export function startedWaits(requested: Envelope, count: number, timeoutMs = 60_000, now = 200): Envelope {
  const { executionId, context } = contextOf(requested);
  const waits = Array.from({ length: count }, (_, i) => ({ action: 'never', payloadJson: `{"i":${i}}`, timeoutMs, redirectUrl: '', tokenHash: `hash-${executionId}-${i}` }));
  return envelope(
    { eventId: `evt_ok_${executionId}`, tenantId: 't1', aggregateId: executionId, occurredAt: now },
    { $case: 'actionSucceeded', value: { executionId, context, outputFields: {}, durationMs: 1, returnValueJson: '', nextSteps: [], waits, httpResponseJson: '' } },
  );
}
