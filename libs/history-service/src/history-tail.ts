/**
 * The live tail: every event the history views apply is published here, and each `Tail`
 * subscriber gets its own tenant's (optionally one enrollment's, or one workflow's) as they
 * arrive. Not every event names its workflow (a completion does not), so a workflow's follower
 * learns its enrollments from the events that do (a start, each step's context) and then takes
 * every event of those enrollments.
 */
import { EventEmitter } from 'node:events';
import type { historyV1 } from '@codestep/contracts';
import type { Envelope } from '@codestep/events';

export interface HistoryTail {
  publish(events: Envelope[]): void;
  /** Writes matching events until `signal` aborts. */
  follow(req: historyV1.TailRequest, write: (e: historyV1.TailEvent) => boolean, signal: AbortSignal): Promise<void>;
}

/** The tail event(s) one envelope becomes for a subscriber. */
export function tailEventsOf(env: Envelope): historyV1.TailEvent[] {
  const e = env.event;
  const enrollmentId = env.correlationId || env.aggregateId;
  if (e.$case === 'actionLogged') return e.value.lines.map((line) => ({ type: 'log', enrollmentId, executionId: e.value.executionId, line, status: '' }));
  return [{ type: env.type, enrollmentId, executionId: 'executionId' in e.value ? String(e.value.executionId) : '', line: undefined, status: '' }];
}

/** The workflow an event names, if it names one. */
function workflowOf(env: Envelope): string | undefined {
  const v = env.event.value as { workflowId?: unknown; context?: { workflowId?: unknown } };
  const id = typeof v.workflowId === 'string' ? v.workflowId : v.context?.workflowId;
  return typeof id === 'string' && id ? id : undefined;
}

/** Most enrollments a workflow's follower remembers (the oldest are forgotten first). */
const MAX_FOLLOWED_ENROLLMENTS = 10_000;

export function createHistoryTail(): HistoryTail {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(events) {
      for (const env of events) emitter.emit('event', env);
    },
    follow(req, write, signal) {
      return new Promise<void>((resolve) => {
        const ofWorkflow = new Set<string>();
        const onEvent = (env: Envelope) => {
          if (env.tenantId !== req.tenantId) return;
          const enrollmentId = env.correlationId || env.aggregateId;
          if (req.enrollmentId && enrollmentId !== req.enrollmentId) return;
          if (req.workflowId) {
            const named = workflowOf(env);
            if (named === req.workflowId && !ofWorkflow.has(enrollmentId)) {
              ofWorkflow.add(enrollmentId);
              if (ofWorkflow.size > MAX_FOLLOWED_ENROLLMENTS) ofWorkflow.delete(ofWorkflow.values().next().value!);
            }
            if (!ofWorkflow.has(enrollmentId)) return;
          }
          for (const e of tailEventsOf(env)) write(e);
        };
        emitter.on('event', onEvent);
        signal.addEventListener('abort', () => {
          emitter.off('event', onEvent);
          resolve();
        });
      });
    },
  };
}
