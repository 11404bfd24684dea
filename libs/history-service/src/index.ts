export { createHistoryService, type HistoryService, type HistoryServiceDeps } from './history.service.ts';
export { HISTORY_COLLECTIONS, HISTORY_TOPICS, applyToHistory, ensureHistoryCollections, historyProjection } from './history-views.projection.ts';
export { createHistoryQueries, executionView, type HistoryQueries } from './history.queries.ts';
export { createHistoryTail, tailEventsOf, type HistoryTail } from './history-tail.ts';
