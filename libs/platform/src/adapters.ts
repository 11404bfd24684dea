/** Picks the event log and store adapters from configuration: SQLite by default, Kafka/MongoDB when set. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import type { MongoClientOptions } from 'mongodb';
import { namespacedEventLog, tracedEventLog, type EventLog } from '@codestep/event-log';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { CLAIMS } from '@codestep/executor-service';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import type { PlatformConfig } from './platform.config.ts';

/** Kafka's TLS and SASL settings from the configuration (none: plaintext, as on infra/local). */
export function kafkaSecurityOf(config: PlatformConfig): { ssl?: boolean | ConnectionOptions; sasl?: SASLOptions } {
  const out: { ssl?: boolean | ConnectionOptions; sasl?: SASLOptions } = {};
  if (config.kafkaSsl) {
    const ca = config.kafkaSslCaFile ? { ca: readFileSync(config.kafkaSslCaFile, 'utf8') } : {};
    const client = config.kafkaSslCertFile && config.kafkaSslKeyFile ? { cert: readFileSync(config.kafkaSslCertFile, 'utf8'), key: readFileSync(config.kafkaSslKeyFile, 'utf8') } : {};
    out.ssl = Object.keys(ca).length || Object.keys(client).length ? { ...ca, ...client } : true;
  }
  if (config.kafkaSaslMechanism && config.kafkaSaslUsername && config.kafkaSaslPassword) {
    out.sasl = { mechanism: config.kafkaSaslMechanism as 'plain', username: config.kafkaSaslUsername, password: config.kafkaSaslPassword };
  }
  return out;
}

/** MongoDB's TLS settings from the configuration (the URI's own `tls…` options work as well). */
export function mongoTlsOf(config: PlatformConfig): MongoClientOptions {
  if (!config.mongodbTls) return {};
  return { tls: true, ...(config.mongodbTlsCaFile ? { tlsCAFile: config.mongodbTlsCaFile } : {}), ...(config.mongodbTlsCertKeyFile ? { tlsCertificateKeyFile: config.mongodbTlsCertKeyFile } : {}) };
}

export async function openEventLog(config: PlatformConfig, clientId: string): Promise<EventLog> {
  if (config.kafkaBrokers?.length) {
    const { KafkaEventLog } = await import('@codestep/event-log-kafka');
    // A short session: the partitions of an app that died go to another member within seconds.
    const failover = { sessionTimeoutMs: config.kafkaSessionTimeoutMs, heartbeatIntervalMs: Math.max(100, Math.floor(config.kafkaSessionTimeoutMs / 3)) };
    const kafka = new KafkaEventLog({
      brokers: config.kafkaBrokers,
      clientId,
      partitions: config.kafkaPartitions,
      transactionalIdPrefix: config.namespace || 'codestep',
      ...failover,
      ...kafkaSecurityOf(config),
    });
    return tracedEventLog(namespacedEventLog(kafka, config.namespace), 'kafka');
  }
  // Embedded mode's executor thread opens the same file: each thread's appends wake the other's consumers.
  return tracedEventLog(new SqliteEventLog({ path: join(config.dataDir, 'events.db'), wakeAcrossThreads: config.embeddedWorkers > 0 }), 'sqlite');
}

/**
 * The stores' bound on a transition left unfinished (its writer died between its two writes) for
 * the collections of `service` that shorten it: the executor's claims, three leases (15 s by
 * default), not the store's 30 s, so a lost execution is reported sooner. Not one lease: renewals
 * write the executor's liveness, never its claims, but other writers of a live executor's claims
 * remain (two executors taking a released claim's tombstone over at once: an original request and
 * its copy appended again after a hand-back), and a writer slowed by a loaded FerretDB between its
 * two writes must not be overtaken (both would win).
 */
export function staleTransitionsOf(config: Pick<PlatformConfig, 'claimLeaseMs'>, service: string): { staleTransitionMs?: Record<string, number> } {
  return service === 'executor' ? { staleTransitionMs: { [CLAIMS]: 3 * config.claimLeaseMs } } : {};
}

/**
 * One store per service: each owns its data (a database in MongoDB, a file in embedded mode). The
 * executor's claims are leases: a transition of one left by a dead executor is stale after three
 * leases (see {@link staleTransitionsOf}).
 */
export async function openStore(config: PlatformConfig, service: string): Promise<DocumentStore> {
  if (config.mongodbUri) {
    const { MongoStore } = await import('@codestep/store-mongodb');
    return new MongoStore({
      uri: config.mongodbUri,
      database: `${config.mongodbDatabase}_${service.replaceAll('-', '_')}`,
      clientOptions: mongoTlsOf(config),
      ...staleTransitionsOf(config, service),
    });
  }
  return new SqliteStore({ path: join(config.dataDir, `${service}.db`) });
}
