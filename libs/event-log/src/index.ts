export type { ConsumeOptions, ConsumedRecord, EventLog, LogRecord, Subscription } from './event-log.port.ts';
export { eventLogContract } from './event-log.contract.ts';
export { namespacedEventLog } from './namespaced.event-log.ts';
export { tracedEventLog } from './traced.event-log.ts';
