export { EVENT_LOG_UNAVAILABLE, KafkaEventLog, type KafkaEventLogOptions } from './kafka.event-log.ts';
export { RECORD_ID_HEADER, transactionalIdFor } from './kafka-records.ts';
