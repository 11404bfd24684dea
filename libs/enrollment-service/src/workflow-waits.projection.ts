/**
 * JsWorkflows waits (`api.waitForEvent`) as a projection of the actions topic, rebuilt by
 * `codestep replay`: one document per wait, keyed by the execution it resumes, found by the hash
 * of its resume token (the token itself is never stored). `WaitStarted` makes it `waiting`;
 * `WaitResumed` or `WaitTimedOut` ends it. A wait's events share one key (one partition, in
 * order), and an ended wait never goes back to waiting, so applying them again changes nothing.
 */
import { Topics, type Envelope } from '@codestep/events';
import type { DocumentStore, VersionedWrite } from '@codestep/store';
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

/**
 * Applies envelopes in log order; other events are ignored. Idempotent. Batched: one read of
 * every wait they touch and one write of those that changed. A waiting wait is version 1 and an
 * ended one 2 or more, so an end is never undone by a start applied again, by anyone.
 */
export async function applyToWorkflowWaits(store: DocumentStore, envs: Envelope[]): Promise<void> {
  const touched = envs.filter((env) => env.event.$case === 'waitStarted' || env.event.$case === 'waitResumed' || env.event.$case === 'waitTimedOut');
  if (!touched.length) return;
  const idOf = (env: Envelope) => (env.event.value as { executionId: string }).executionId;
  const stored = await store.getMany<WaitDoc>(WORKFLOW_WAITS, [...new Set(touched.map(idOf))]);
  const writes = new Map<string, VersionedWrite<WaitDoc>>();
  for (const env of touched) {
    const body = env.event;
    const id = idOf(env);
    const current = writes.get(id) ?? stored.get(id);
    if (body.$case === 'waitStarted') {
      if (current) continue;
      const v = body.value;
      writes.set(id, {
        id,
        version: 1,
        doc: {
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
        },
      });
    } else if (body.$case === 'waitResumed' || body.$case === 'waitTimedOut') {
      if (!current || current.doc.state !== 'waiting') continue;
      const ended: WaitDoc =
        body.$case === 'waitResumed' ? { ...current.doc, state: 'resumed', endedAt: env.occurredAt, method: body.value.method } : { ...current.doc, state: 'timed_out', endedAt: env.occurredAt };
      writes.set(id, { id, version: Math.max(2, current.version + 1), doc: ended });
    }
  }
  await store.writeVersioned(WORKFLOW_WAITS, [...writes.values()]);
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
