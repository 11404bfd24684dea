/**
 * Distributed event log on Apache Kafka (kafkajs). Topics are created explicitly; a record's key
 * is the Kafka key, so one aggregate's records stay in one partition and in order. Plain appends
 * go through one idempotent producer; consume→produce steps go through transactions (see
 * `kafka-group-member.ts` and ../ARCHITECTURE.md). Every consumer reads `read_committed`.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { CodestepError, createLogger, type Logger } from '@codestep/core';
import type { ConsumeOptions, ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';
import { Kafka, type Admin, type Producer, type RetryOptions, type SASLOptions } from 'kafkajs';
import { KafkaGroupMember, type GroupMemberSettings } from './kafka-group-member.ts';
import { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.ts';
import { SocketTracker } from './kafka-sockets.ts';
import { patchKafkajsRequestQueue } from './kafkajs-patches.ts';

patchKafkajsRequestQueue();
import { byTopic, targetPartitioner, toConsumedRecord } from './kafka-records.ts';

export interface KafkaEventLogOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** @default 'codestep' */
  clientId?: string;
  /** TLS to the brokers: `true` (system CAs) or Node TLS options (CA, client certificate and key). */
  ssl?: boolean | ConnectionOptions;
  /** SASL authentication (PLAIN or SCRAM; use it over `ssl`). */
  sasl?: SASLOptions;
  /** Partitions of a topic created by {@link KafkaEventLog.ensureTopics}. @default 3 */
  partitions?: number;
  /** Replication factor of created topics; use 3 on a real cluster. @default 1 */
  replicationFactor?: number;
  /**
   * Prefix of transactional ids (`<prefix>.<group>.<topic>.<partition>`) and of `readAll`'s
   * throwaway group ids. Deployments sharing a cluster must use different prefixes.
   * @default 'codestep'
   */
  transactionalIdPrefix?: string;
  /**
   * How long the coordinator lets a transaction stay open before aborting it, ms. A transaction
   * spans only send → commit (the handler runs before it begins), so this bounds how long a
   * crashed member's open transaction can hold back `read_committed` readers when no one takes
   * over its partition. @default 10000
   */
  transactionTimeoutMs?: number;
  /** Consumer session timeout, ms (broker bounds: 6000–1800000 by default). @default 30000 */
  sessionTimeoutMs?: number;
  /** Heartbeat interval, ms; heartbeats continue while a handler runs. @default 3000 */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to finish their batch, ms. @default 60000 */
  rebalanceTimeoutMs?: number;
  /** Longest a fetch waits for new records, ms; also bounds how long `stop()` waits. @default 1000 */
  maxWaitTimeMs?: number;
  /** Partitions one member processes at once. @default 1 */
  partitionsConsumedConcurrently?: number;
  /**
   * kafkajs retry policy for every client. The first retry comes quickly because the commonest
   * retriable error is the broker still writing the markers of a transactional id's previous
   * transaction (CONCURRENT_TRANSACTIONS), which clears in milliseconds: with kafkajs's 300 ms
   * default every step after the first paid it. Doubling from there, the default rides out about
   * 25 s of broker outage before an append fails or a consumer restarts.
   * @default { retries: 12, initialRetryTime: 25, maxRetryTime: 5000 }
   */
  retry?: RetryOptions;
  /** @default 3000 */
  connectionTimeoutMs?: number;
  /** @default a `createLogger({ component: 'event-log-kafka' })` */
  logger?: Logger;
  /** Minimum level of kafkajs's own log lines. @default 'warn' */
  kafkaLogLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Fault injection for tests only: called inside a step's transaction after the outputs and
   * offsets were sent, just before the commit. Throwing (or killing the process) here is a crash
   * between "decided" and "committed".
   */
  testHooks?: { beforeCommit?(batch: ConsumedRecord[], outputs: LogRecord[]): Promise<void> };
}

const DEFAULT_RETRY: RetryOptions = { retries: 12, initialRetryTime: 25, maxRetryTime: 5_000 };

/** Errors the adapter raises itself carry this code; the kafkajs error is the `cause`. */
export const EVENT_LOG_UNAVAILABLE = 'EVENT_LOG_UNAVAILABLE';

export class KafkaEventLog implements EventLog {
  private readonly options: KafkaEventLogOptions;
  private readonly logger: Logger;
  private readonly kafka: Kafka;
  private readonly retry: RetryOptions;
  private adminConnection: Promise<Admin> | undefined;
  private producerConnection: Promise<Producer> | undefined;
  private readonly members = new Set<KafkaGroupMember>();
  private readonly sockets = new SocketTracker();
  private closed = false;

  constructor(options: KafkaEventLogOptions) {
    if (options.brokers.length === 0) throw new CodestepError('INVALID_ARGUMENT', 'KafkaEventLog needs at least one broker (KAFKA_BROKERS)');
    this.options = options;
    this.logger = options.logger ?? createLogger({ component: 'event-log-kafka' });
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.kafka = this.newKafka();
  }

  /**
   * A kafkajs client. kafkajs caches a group's committed offsets per client and transactional
   * producers write into that cache at `sendOffsets` (before the commit), so every consumer gets
   * a client of its own and sees only what the broker said.
   */
  private newKafka(): Kafka {
    return new Kafka({
      clientId: this.options.clientId ?? 'codestep',
      brokers: this.options.brokers,
      ...(this.options.ssl ? { ssl: this.options.ssl } : {}),
      ...(this.options.sasl ? { sasl: this.options.sasl } : {}),
      connectionTimeout: this.options.connectionTimeoutMs ?? 3_000,
      retry: this.retry,
      logLevel: kafkaLogLevel(this.options.kafkaLogLevel ?? 'warn'),
      logCreator: kafkaLogCreator(this.logger),
      socketFactory: this.sockets.factory,
    });
  }

  private admin(): Promise<Admin> {
    this.adminConnection ??= connectOrForget(
      async () => {
        const admin = this.kafka.admin({ retry: this.retry });
        await admin.connect();
        return admin;
      },
      () => (this.adminConnection = undefined),
    );
    return this.adminConnection;
  }

  private producer(): Promise<Producer> {
    this.producerConnection ??= connectOrForget(
      async () => {
        // Idempotent, one request in flight: a retried send neither duplicates nor reorders.
        const producer = this.kafka.producer({
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          createPartitioner: targetPartitioner,
          retry: this.retry,
        });
        await producer.connect();
        return producer;
      },
      () => (this.producerConnection = undefined),
    );
    return this.producerConnection;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    this.assertOpen();
    // Several apps create the same topics as they start: the broker can answer a metadata request
    // about a topic just created (by us or a peer) with UNKNOWN_TOPIC_OR_PARTITION until its
    // leaders are elected. Such retriable answers are tried again, a few times, before failing.
    return retryingRetriable(() => this.ensureTopicsOnce(topics));
  }

  private async ensureTopicsOnce(topics: string[]): Promise<void> {
    await unavailableOnError('could not create Kafka topics', async () => {
      const admin = await this.admin();
      const existing = new Set(await admin.listTopics());
      const missing = [...new Set(topics)].filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: this.options.partitions ?? 3,
            replicationFactor: this.options.replicationFactor ?? 1,
          })),
        });
      } catch (error) {
        // Another process may have created some of them meanwhile; that is success.
        const now = new Set(await admin.listTopics());
        if (!missing.every((t) => now.has(t))) throw error;
      }
    });
  }

  async append(records: LogRecord[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    await unavailableOnError('could not append to Kafka', async () => {
      const producer = await this.producer();
      try {
        await producer.sendBatch({ acks: -1, topicMessages: byTopic(records) });
      } catch (error) {
        // The batch may have landed anyway (the caller's retry then duplicates it: consumers
        // dedupe by record id). A fresh producer id keeps the next append clear of the old
        // one's sequence numbers, which a failed send can leave out of step with the broker.
        if (this.producerConnection) {
          this.producerConnection = undefined;
          await producer.disconnect().catch(() => {});
        }
        throw error;
      }
    });
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    this.assertOpen();
    const member = new KafkaGroupMember(options, this.memberSettings());
    await unavailableOnError('could not join the Kafka consumer group', () => member.start());
    this.members.add(member);
    return {
      stop: async () => {
        this.members.delete(member);
        await member.stop();
      },
      partitionsOf: (topic) => member.partitionsOf(topic),
    };
  }

  private memberSettings(): GroupMemberSettings {
    const o = this.options;
    return {
      newKafka: () => this.newKafka(),
      producerKafka: this.kafka,
      admin: () => this.admin(),
      logger: this.logger,
      transactionalIdPrefix: o.transactionalIdPrefix ?? 'codestep',
      transactionTimeoutMs: o.transactionTimeoutMs ?? 10_000,
      sessionTimeoutMs: o.sessionTimeoutMs ?? 30_000,
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 60_000,
      maxWaitTimeMs: o.maxWaitTimeMs ?? 1_000,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 1,
      retry: this.retry,
      beforeCommit: o.testHooks?.beforeCommit,
    };
  }

  /**
   * Reads each partition from its first retained offset up to its high watermark at the time of
   * the call, `read_committed`, through a throwaway consumer group that never commits and is
   * deleted afterwards (kafkajs has no group-less `assign`). Records of transactions still open
   * at the call are delivered once committed; aborted ones are skipped.
   */
  async readAll(topics: string[], handle: (batch: ConsumedRecord[]) => Promise<void>): Promise<number> {
    this.assertOpen();
    const admin = await unavailableOnError('could not reach Kafka', () => this.admin());
    const ends = new Map<string, number>();
    const positions = new Map<string, number>();
    const existing = new Set(await retryingRetriable(() => admin.listTopics()));
    const wanted = [...new Set(topics)].filter((t) => existing.has(t));
    for (const topic of wanted) {
      // Right after the topic was created (by this process or a peer starting beside it), the
      // broker can answer NOT_LEADER_FOR_PARTITION until its leaders are known: tried again.
      for (const p of await retryingRetriable(() => admin.fetchTopicOffsets(topic))) {
        const low = Number(p.low);
        const high = Number(p.high);
        if (high > low) {
          ends.set(`${topic}\u0000${p.partition}`, high);
          positions.set(`${topic}\u0000${p.partition}`, low);
        }
      }
    }
    if (ends.size === 0) return 0;

    const groupId = `${this.options.transactionalIdPrefix ?? 'codestep'}.read-all.${randomUUID()}`;
    const consumer = this.newKafka().consumer({
      groupId,
      readUncommitted: false,
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 1_000,
      allowAutoTopicCreation: false,
      retry: this.retry,
    });
    const finished = Promise.withResolvers<void>();
    let failed = false;
    const reachedEnd = () => [...ends].every(([tp, end]) => (positions.get(tp) ?? 0) >= end);
    // Progress comes from kafkajs's batch events rather than from the records handed over:
    // a batch may end in a transaction marker or aborted records that are never handed over.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const tp = `${payload.topic}\u0000${payload.partition}`;
      positions.set(tp, Math.max(positions.get(tp) ?? 0, Number(payload.lastOffset) + 1));
      if (reachedEnd()) finished.resolve();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) finished.reject(new CodestepError(EVENT_LOG_UNAVAILABLE, 'Kafka consumer crashed during readAll', { cause: payload.error }));
    });

    let count = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: wanted, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(`${batch.topic}\u0000${batch.partition}`);
          if (failed || end === undefined) return;
          const records = batch.messages.filter((m) => Number(m.offset) < end).map((m) => toConsumedRecord(batch.topic, batch.partition, m));
          for (let i = 0; i < records.length && !failed; i += 500) {
            const chunk = records.slice(i, i + 500);
            try {
              await handle(chunk);
            } catch (error) {
              failed = true;
              finished.reject(error);
              return;
            }
            count += chunk.length;
          }
        },
      });
      await finished.promise;
      return count;
    } finally {
      await consumer.disconnect().catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.members].map((m) => m.stop()));
    this.members.clear();
    const producer = this.producerConnection?.catch(() => undefined);
    const admin = this.adminConnection?.catch(() => undefined);
    await Promise.all([(await producer)?.disconnect(), (await admin)?.disconnect()]);
    const leaked = this.sockets.endAll();
    if (leaked > 0) this.logger.debug({ sockets: leaked }, 'closing sockets kafkajs left open');
  }

  private assertOpen(): void {
    if (this.closed) throw new CodestepError('FAILED_PRECONDITION', 'the Kafka event log is closed');
  }
}

const RETRIABLE_ATTEMPTS = 8;

/** Runs `fn`, trying again (up to 8 times, with a growing pause) while Kafka answers a retriable error. */
export async function retryingRetriable<T>(fn: () => Promise<T>, pauseMs = (attempt: number) => Math.min(500 * attempt, 3_000)): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= RETRIABLE_ATTEMPTS || !isRetriableKafkaError(error)) throw error;
      await new Promise((r) => setTimeout(r, pauseMs(attempt)));
    }
  }
}

/** A kafkajs error (or its cause, as wrapped by unavailableOnError or kafkajs' retrier) the broker says may pass. */
function isRetriableKafkaError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if ((e as { retriable?: unknown }).retriable === true) return true;
    if (e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSTopicMetadataNotLoaded') return true;
  }
  return false;
}

/** A memoisable connection that is forgotten when it fails, so the next call tries again. */
function connectOrForget<T>(connect: () => Promise<T>, forget: () => void): Promise<T> {
  const connection = connect();
  connection.catch(forget);
  return connection;
}

async function unavailableOnError<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CodestepError) throw error;
    throw new CodestepError(EVENT_LOG_UNAVAILABLE, `${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
