/**
 * The live tail: every event the history views apply is published here, and each `Tail`
 * subscriber gets its own tenant's (optionally one enrollment's) as they arrive.
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

export function createHistoryTail(): HistoryTail {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(events) {
      for (const env of events) emitter.emit('event', env);
    },
    follow(req, write, signal) {
      return new Promise<void>((resolve) => {
        const onEvent = (env: Envelope) => {
          if (env.tenantId !== req.tenantId) return;
          if (req.enrollmentId && (env.correlationId || env.aggregateId) !== req.enrollmentId) return;
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
