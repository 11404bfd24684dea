/** Picks the event log and store adapters from configuration: SQLite by default, Kafka/MongoDB when set. */
import { join } from 'node:path';
import { namespacedEventLog, type EventLog } from '@codestep/event-log';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import type { PlatformConfig } from './platform.config.ts';

export async function openEventLog(config: PlatformConfig, clientId: string): Promise<EventLog> {
  if (config.kafkaBrokers?.length) {
    const { KafkaEventLog } = await import('@codestep/event-log-kafka');
    const kafka = new KafkaEventLog({ brokers: config.kafkaBrokers, clientId, partitions: config.kafkaPartitions, transactionalIdPrefix: config.namespace || 'codestep' });
    return namespacedEventLog(kafka, config.namespace);
  }
  return new SqliteEventLog({ path: join(config.dataDir, 'events.db') });
}

/** One store per service: each owns its data (a database in MongoDB, a file in embedded mode). */
export async function openStore(config: PlatformConfig, service: string): Promise<DocumentStore> {
  if (config.mongodbUri) {
    const { MongoStore } = await import('@codestep/store-mongodb');
    return new MongoStore({ uri: config.mongodbUri, database: `${config.mongodbDatabase}_${service.replaceAll('-', '_')}` });
  }
  return new SqliteStore({ path: join(config.dataDir, `${service}.db`) });
}
