/**
 * The event log port: topics of keyed records, ordered per key, read by consumer groups.
 * Two adapters implement it (SQLite for embedded mode, Kafka for distributed mode) and one
 * contract suite (`./event-log.contract.ts`) runs against both.
 */

export interface LogRecord {
  topic: string;
  /** The aggregate id: records with one key stay in order. */
  key: string;
  /** An encoded `EventEnvelope`. */
  value: Uint8Array;
  /** Event type, schema version, W3C `traceparent`. */
  headers: Record<string, string>;
  /**
   * A unique id for deduplication where the adapter supports it on append (SQLite ignores a
   * second record with the same topic and id). Consumers must still tolerate duplicates: the
   * log is at-least-once.
   */
  id?: string;
  /**
   * Where the log has partitions, append the record to this one instead of its key's (an
   * adapter without partitions, or a partition the topic does not have, ignores it). For a
   * record that starts an aggregate's stream and should be consumed by a given member (a retry
   * routed to a live executor); the key's other records stay in the key's partition.
   */
  targetPartition?: number;
}

export interface ConsumedRecord extends LogRecord {
  partition: number;
  /** Position within the partition: strictly increasing per key. */
  offset: number;
}

export interface ConsumeOptions {
  /** Consumer group: members of one group share the topics' partitions. */
  group: string;
  topics: string[];
  /** Max records per batch. @default 100 */
  batchSize?: number;
  /**
   * Partitions this member handles at once (each still in order), where the adapter has
   * partitions. @default the adapter's setting (Kafka: `partitionsConsumedConcurrently`, 1)
   */
  partitionsConcurrently?: number;
  /**
   * How much one fetch takes of a partition at most, bytes, where the adapter fetches (at least
   * one record is always taken): small, a fetch is soon worked through, and what was appended
   * meanwhile comes with the next one. @default the adapter's (Kafka: 1 MiB)
   */
  fetchBytesPerPartition?: number;
  /**
   * Called with records in log order (per partition). The records it returns are appended
   * atomically with the group's new position: a crash before that commit re-delivers the batch
   * and discards the outputs, so consume→produce steps happen exactly once. Throwing re-delivers
   * the batch after a back-off.
   */
  handle(batch: ConsumedRecord[]): Promise<LogRecord[]>;
  onError?(error: unknown): void;
  /**
   * Where the adapter runs several consumers in one thread (SQLite: the consumers of one process
   * woken by one commit), a consumer of a higher priority is woken first: a step on a request's
   * path (the executor handing a request to the sandbox process, the step machine, the history
   * views a waiting request reads) before the projections nothing waits for. Others ignore it. @default 0
   */
  priority?: number;
}

export interface Subscription {
  /** Stops after the batch in progress is committed. */
  stop(): Promise<void>;
  /**
   * The partitions of `topic` this member is consuming now (as of its last group join); empty
   * while it has none. Undefined where the adapter has no partitions to speak of.
   */
  partitionsOf?(topic: string): number[];
}

export interface EventLog {
  ensureTopics(topics: string[]): Promise<void>;
  /** Resolves once the records are durable. */
  append(records: LogRecord[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Subscription>;
  /**
   * Reads every record of the topics from the beginning up to their end at the time of the call,
   * outside any group (replay, rebuilds). `handle` is awaited per batch.
   */
  readAll(topics: string[], handle: (batch: ConsumedRecord[]) => Promise<void>): Promise<number>;
  close(): Promise<void>;
}
