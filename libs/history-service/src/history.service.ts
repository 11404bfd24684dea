/**
 * The history service (the `log` app): keeps the history views as a projection of the
 * enrollment, action and console-line topics, and serves them over gRPC `History`, with a live
 * tail. The views are rebuilt by `codestep replay` through the same projection.
 */
import type { historyV1 } from '@codestep/contracts';
import { ValidationError, type Logger } from '@codestep/core';
import type { Envelope } from '@codestep/events';
import type { ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';
import type { DocumentStore } from '@codestep/store';
import { createHistoryTail } from './history-tail.ts';
import { createHistoryQueries, type HistoryQueries } from './history.queries.ts';
import { HISTORY_TOPICS, applyToHistory, ensureHistoryCollections } from './history-views.projection.ts';

export interface HistoryServiceDeps {
  store: DocumentStore;
  eventLog: EventLog;
  logger: Logger;
  /** Consumer group. @default 'codestep-log' */
  group?: string;
  /**
   * Told of each batch once the views hold it (in log order), as the tail is: embedded mode
   * pushes it to the requests waiting in this process for an outcome.
   */
  onApplied?(events: Envelope[]): void;
}

export interface HistoryService {
  history: HistoryQueries & {
    tail(req: historyV1.TailRequest, write: (e: historyV1.TailEvent) => boolean, signal: AbortSignal): Promise<void>;
  };
  /** Applies a batch of records to the views and publishes it to the tail (the consumer's step). */
  applyBatch(batch: ConsumedRecord[]): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createHistoryService(deps: HistoryServiceDeps): HistoryService {
  const { store, eventLog, logger } = deps;
  const tail = createHistoryTail();
  let subscription: Subscription | undefined;

  async function applyBatch(batch: ConsumedRecord[]): Promise<void> {
    const events = await applyToHistory(store, batch);
    tail.publish(events);
    deps.onApplied?.(events);
  }

  return {
    applyBatch,
    history: {
      ...createHistoryQueries(store),
      tail(req, write, signal) {
        if (!req.tenantId) throw new ValidationError('tenant_id is required');
        return tail.follow(req, write, signal);
      },
    },
    async start() {
      await ensureHistoryCollections(store);
      await eventLog.ensureTopics(HISTORY_TOPICS);
      subscription = await eventLog.consume({
        group: deps.group ?? 'codestep-log',
        topics: HISTORY_TOPICS,
        batchSize: 500,
        handle: async (batch): Promise<LogRecord[]> => {
          await applyBatch(batch);
          return [];
        },
        onError: (error) => logger.error({ error }, 'history projection batch failed; will retry'),
        // Requests wait for what the views apply (a webhook's answer): before the other projections (embedded mode).
        priority: 1,
      });
    },
    async stop() {
      await subscription?.stop();
    },
  };
}
