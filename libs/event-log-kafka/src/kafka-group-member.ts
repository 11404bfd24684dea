/**
 * One consumer-group member running a consume→produce step exactly once per input record, as
 * seen by `read_committed` readers. Per input partition, in log order:
 *
 *   handle(batch) → transaction { send(outputs), sendOffsets(group, next offset) } → commit
 *
 * The outputs and the group's new position become visible together or not at all. A failure
 * anywhere before the commit aborts the transaction and leaves the in-memory position where it
 * was, so kafkajs fetches the same records again. See ../ARCHITECTURE.md for fencing.
 */
import { MetricAttributes, codestepMetrics } from '@codestep/telemetry';
import type { Logger } from '@codestep/core';
import type { ConsumeOptions, ConsumedRecord, LogRecord, Subscription } from '@codestep/event-log';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer, RetryOptions, Transaction } from 'kafkajs';
import { byTopic, targetPartitioner, toConsumedRecord, transactionalIdFor } from './kafka-records.ts';

/** What a member needs from the log that created it; all values already defaulted. */
export interface GroupMemberSettings {
  /** A fresh client for this member's consumer, so its committed-offset cache is its own. */
  newKafka(): Kafka;
  /** The client transactional producers are created from. */
  producerKafka: Kafka;
  admin(): Promise<Admin>;
  logger: Logger;
  transactionalIdPrefix: string;
  transactionTimeoutMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitTimeMs: number;
  partitionsConsumedConcurrently: number;
  retry: RetryOptions;
  beforeCommit: ((batch: ConsumedRecord[], outputs: LogRecord[]) => Promise<void>) | undefined;
}

interface PartitionProducer {
  producer: Producer;
  /** The assignment generation the producer was initialised in. */
  generation: number;
  /** Whether the group's committed offset was re-read after this producer fenced the last owner. */
  validated: boolean;
  busy: boolean;
}

type StepOutcome = 'committed' | 'retry' | 'moved';

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class KafkaGroupMember implements Subscription {
  private readonly options: ConsumeOptions;
  private readonly settings: GroupMemberSettings;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private consumer: Consumer | undefined;
  private readonly producers = new Map<string, PartitionProducer>();
  private readonly backoffs = new Map<string, number>();
  private assigned = new Set<string>();
  /** Bumped on every group join: producers from an older generation are re-initialised. */
  private generation = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs = MIN_BACKOFF_MS;

  constructor(options: ConsumeOptions, settings: GroupMemberSettings) {
    this.options = options;
    this.settings = settings;
    this.logger = settings.logger.child({ group: options.group });
    this.batchSize = Math.max(1, options.batchSize ?? 100);
  }

  /** Joins the group; resolves once this member has its first assignment. */
  async start(): Promise<void> {
    const s = this.settings;
    const consumer = s.newKafka().consumer({
      groupId: this.options.group,
      readUncommitted: false,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      rebalanceTimeout: s.rebalanceTimeoutMs,
      maxWaitTimeInMs: s.maxWaitTimeMs,
      ...(this.options.fetchBytesPerPartition ? { maxBytesPerPartition: this.options.fetchBytesPerPartition } : {}),
      allowAutoTopicCreation: false,
      retry: s.retry,
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.reportError(payload.error);
      // kafkajs restarts by itself after retriable errors; anything else would leave this member
      // dead while its caller believes it subscribed, so it is restarted from scratch here.
      if (!payload.restart && !this.stopping) this.scheduleRestart(consumer);
    });
    this.consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, this.options.partitionsConcurrently ?? s.partitionsConsumedConcurrently),
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    this.restartDelayMs = MIN_BACKOFF_MS;
  }

  /** The partitions of `topic` assigned to this member at its last group join. */
  partitionsOf(topic: string): number[] {
    return [...this.assigned].flatMap((key) => {
      const [t, p] = key.split('\u0000');
      return t === topic ? [Number(p)] : [];
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    // kafkajs waits for the batch in progress (our step, commit included) before leaving.
    await this.consumer?.disconnect();
    await Promise.all([...this.producers.keys()].map((key) => this.discardProducer(key)));
  }

  private scheduleRestart(crashed: Consumer): void {
    clearTimeout(this.restartTimer);
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, MAX_BACKOFF_MS);
    this.restartTimer = setTimeout(async () => {
      await crashed.disconnect().catch(() => {});
      if (this.stopping) return;
      try {
        await this.start();
        // stop() may have come while the new consumer was joining, and seen the old one.
        if (this.stopping) await this.consumer?.disconnect();
        else this.logger.warn({}, 'kafka consumer restarted after a crash');
      } catch (error) {
        this.reportError(error);
        if (!this.stopping && this.consumer) this.scheduleRestart(this.consumer);
      }
    }, delay);
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    this.generation++;
    this.assigned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => tpKey(topic, p))));
    for (const [key, entry] of this.producers) {
      if (!this.assigned.has(key) && !entry.busy) void this.discardProducer(key);
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const records = batch.messages.map((m) => toConsumedRecord(topic, partition, m));
    for (let i = 0; i < records.length; i += this.batchSize) {
      if (!isRunning() || isStale() || this.stopping) return;
      const chunk = records.slice(i, i + this.batchSize);
      const outcome = await this.step(topic, partition, chunk, heartbeat, isRunning);
      // Anything but a commit leaves the rest unresolved: kafkajs fetches it again from the
      // last resolved offset (or from where `step` moved the position).
      if (outcome !== 'committed') return;
      resolveOffset(String(chunk[chunk.length - 1]!.offset));
      // The group's lag on this partition as of this commit: what the fetch saw after it (docs/metrics.md).
      const lag = Number(batch.highWatermark) - (chunk[chunk.length - 1]!.offset + 1);
      codestepMetrics().consumerLag.record(Math.max(0, lag), {
        [MetricAttributes.consumerGroup]: this.options.group,
        [MetricAttributes.topic]: topic,
        [MetricAttributes.partition]: String(partition),
      });
    }
  }

  private async step(topic: string, partition: number, chunk: ConsumedRecord[], heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<StepOutcome> {
    const key = tpKey(topic, partition);
    const stopHeartbeats = this.keepAlive(heartbeat);
    let entry: PartitionProducer | undefined;
    try {
      entry = await this.producerFor(topic, partition);
      entry.busy = true;
      if (!entry.validated) {
        const committed = await this.committedOffset(topic, partition);
        entry.validated = true;
        if (committed !== null && committed > chunk[0]!.offset) {
          // Another owner committed past what this member fetched before the new producer
          // fenced it: skip what it already did.
          this.logger.warn({ topic, partition, from: chunk[0]!.offset, to: committed }, 'skipping records committed by the previous owner');
          this.consumer?.seek({ topic, partition, offset: String(committed) });
          return 'moved';
        }
      }
      let outputs: LogRecord[];
      try {
        outputs = await this.options.handle(chunk);
      } catch (error) {
        await this.backOff(key, error, isRunning);
        return 'retry';
      }
      const next = String(chunk[chunk.length - 1]!.offset + 1);
      const tx = await entry.producer.transaction();
      try {
        if (outputs.length > 0) await tx.sendBatch({ acks: -1, topicMessages: byTopic(outputs) });
        await sendOffsets(tx, { consumerGroupId: this.options.group, topics: [{ topic, partitions: [{ partition, offset: next }] }] });
        await this.settings.beforeCommit?.(chunk, outputs);
        await tx.commit();
      } catch (error) {
        // Abort to release read_committed readers at once, then drop the producer whatever the
        // abort did: after a failed send its sequence numbers may be off, after a failed commit
        // the outcome is unknown, and after fencing it is useless. The next step initialises a
        // new one (which settles any transaction still open) and re-reads the committed offset,
        // so a commit that did land is not repeated.
        if (tx.isActive()) await tx.abort().catch(() => {});
        await this.discardProducer(key);
        await this.backOff(key, error, isRunning);
        return 'retry';
      }
      this.backoffs.delete(key);
      return 'committed';
    } catch (error) {
      // Producer initialisation or the offset check failed (broker away, coordinator moving).
      await this.discardProducer(key);
      await this.backOff(key, error, isRunning);
      return 'retry';
    } finally {
      stopHeartbeats();
      if (entry) {
        entry.busy = false;
        if (!this.assigned.has(key)) await this.discardProducer(key);
      }
    }
  }

  /**
   * The partition's transactional producer, initialised in the current assignment generation.
   * Initialising bumps the id's epoch: a zombie still holding the partition is fenced and its
   * open transaction aborted (or, if it was committing, completed) before this returns.
   */
  private async producerFor(topic: string, partition: number): Promise<PartitionProducer> {
    const key = tpKey(topic, partition);
    const existing = this.producers.get(key);
    if (existing && existing.generation === this.generation) return existing;
    if (existing) await this.discardProducer(key);
    const s = this.settings;
    const producer = s.producerKafka.producer({
      transactionalId: transactionalIdFor(s.transactionalIdPrefix, this.options.group, topic, partition),
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: s.transactionTimeoutMs,
      allowAutoTopicCreation: false,
      createPartitioner: targetPartitioner,
      retry: s.retry,
    });
    const entry: PartitionProducer = { producer, generation: this.generation, validated: false, busy: false };
    try {
      await producer.connect();
      // kafkajs initialises a transactional id lazily, at the first transaction; an empty one
      // does it now and ends without a round trip to the coordinator.
      const init = await producer.transaction();
      await init.abort();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
    this.producers.set(key, entry);
    return entry;
  }

  private async discardProducer(key: string): Promise<void> {
    const entry = this.producers.get(key);
    if (!entry) return;
    this.producers.delete(key);
    await entry.producer.disconnect().catch((error: unknown) => this.logger.warn({ error }, 'kafka producer did not disconnect cleanly'));
  }

  private async committedOffset(topic: string, partition: number): Promise<number | null> {
    const admin = await this.settings.admin();
    const [offsets] = await admin.fetchOffsets({ groupId: this.options.group, topics: [topic] });
    const offset = offsets?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || Number(offset) < 0 ? null : Number(offset);
  }

  /** Heartbeats while a (possibly 20 s) handler runs, so the group keeps this member. */
  private keepAlive(heartbeat: () => Promise<void>): () => void {
    const timer = setInterval(() => {
      // A failed heartbeat means a rebalance is under way: kafkajs rejoins after this batch.
      heartbeat().catch(() => {});
    }, this.settings.heartbeatIntervalMs);
    return () => clearInterval(timer);
  }

  private async backOff(key: string, error: unknown, isRunning: () => boolean): Promise<void> {
    this.reportError(error);
    const delay = this.backoffs.get(key) ?? MIN_BACKOFF_MS;
    this.backoffs.set(key, Math.min(delay * 2, MAX_BACKOFF_MS));
    const until = Date.now() + delay;
    while (Date.now() < until && isRunning() && !this.stopping) {
      await new Promise((r) => setTimeout(r, Math.min(50, until - Date.now())));
    }
  }

  private reportError(error: unknown): void {
    if (this.options.onError) this.options.onError(error);
    else this.logger.warn({ error }, 'kafka consumer step failed; retrying');
  }
}

/**
 * `Transaction.sendOffsets`, retried while the coordinator answers CONCURRENT_TRANSACTIONS.
 * After a commit the coordinator still writes the transaction's markers for a few milliseconds,
 * and the next transaction of the same id is refused meanwhile. kafkajs retries that for the
 * requests adding partitions, but not for AddOffsetsToTxn — the first request of a step without
 * outputs — so without this every such step right after another failed and went round again.
 */
async function sendOffsets(tx: Transaction, offsets: Parameters<Transaction['sendOffsets']>[0]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await tx.sendOffsets(offsets);
    } catch (error) {
      if (attempt >= 20 || (error as { type?: unknown }).type !== 'CONCURRENT_TRANSACTIONS') throw error;
      await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** attempt, 200)));
    }
  }
}
