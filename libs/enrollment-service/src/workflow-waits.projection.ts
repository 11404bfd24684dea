/**
 * JsWorkflows waits (`api.waitForEvent`) as a projection of the actions topic, rebuilt by
 * `codestep replay`: one document per wait, keyed by the execution it resumes, found by the hash
 * of its resume token (the token itself is never stored). `WaitStarted` makes it `waiting`;
 * `WaitResumed` or `WaitTimedOut` ends it. A wait's events share one key (one partition, in
 * order), and an ended wait never goes back to waiting, so applying them again changes nothing.
 */
import { Topics, type Envelope } from '@codestep/events';
import type { DocumentStore } from '@codestep/store';
import { envelopeProjection } from './envelope.projection.ts';

export const WORKFLOW_WAITS = 'workflow_waits';

export type WaitState = 'waiting' | 'resumed' | 'timed_out';

export interface WaitDoc {
  tenantId: string;
  enrollmentId: string;
  /** SHA-256 (hex) of the resume token. */
  tokenHash: string;
  state: WaitState;
  /** The method the wait resumes. */
  action: string;
  /** When it times out, UNIX ms. */
  dueAt: number;
  redirectUrl: string;
  /** When it was resumed or timed out, UNIX ms (0 while waiting). */
  endedAt: number;
  /** GET or POST, once resumed. */
  method: string;
  /** The WaitStarted envelope, JSON (what a resume or a timeout is decided from). */
  envelope: string;
}

export async function ensureWorkflowWaits(store: DocumentStore): Promise<void> {
  await store.ensureCollection(WORKFLOW_WAITS, [{ fields: ['tokenHash'] }]);
}

/** The wait whose resume token hashes to `tokenHash`, if it has started. */
export async function findWait(store: DocumentStore, tokenHash: string): Promise<{ id: string; doc: WaitDoc } | undefined> {
  const [found] = await store.find<WaitDoc>(WORKFLOW_WAITS, { where: { tokenHash }, limit: 1 });
  return found ? { id: found.id, doc: found.doc } : undefined;
}

/** Applies envelopes in log order; other events are ignored. Idempotent. */
export async function applyToWorkflowWaits(store: DocumentStore, envs: Envelope[]): Promise<void> {
  for (const env of envs) {
    const body = env.event;
    if (body.$case === 'waitStarted') {
      const v = body.value;
      await store.insertIfAbsent<WaitDoc>(WORKFLOW_WAITS, v.executionId, {
        tenantId: env.tenantId,
        enrollmentId: v.context?.enrollmentId ?? '',
        tokenHash: v.tokenHash,
        state: 'waiting',
        action: v.context?.step?.name ?? '',
        dueAt: v.dueAt,
        redirectUrl: v.redirectUrl,
        endedAt: 0,
        method: '',
        envelope: JSON.stringify(env),
      });
    } else if (body.$case === 'waitResumed' || body.$case === 'waitTimedOut') {
      const current = await store.get<WaitDoc>(WORKFLOW_WAITS, body.value.executionId);
      if (!current || current.doc.state !== 'waiting') continue;
      const ended: WaitDoc =
        body.$case === 'waitResumed' ? { ...current.doc, state: 'resumed', endedAt: env.occurredAt, method: body.value.method } : { ...current.doc, state: 'timed_out', endedAt: env.occurredAt };
      await store.put<WaitDoc>(WORKFLOW_WAITS, body.value.executionId, ended);
    }
  }
}

/** The waits, for the enrollment service's consumer and for `codestep replay`. */
export const workflowWaitsProjection = envelopeProjection({
  name: 'workflow-waits',
  service: 'enrollment',
  topics: [Topics.actions],
  collections: [WORKFLOW_WAITS],
  ensure: ensureWorkflowWaits,
  apply: applyToWorkflowWaits,
});
