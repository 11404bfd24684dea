/**
 * Mapping between the port's records and Kafka messages, and the names the adapter derives
 * (transactional ids). Pure functions, so they are unit-tested without a broker.
 */
import type { ConsumedRecord, LogRecord } from '@codestep/event-log';
import { Partitioners, type ICustomPartitioner, type IHeaders, type KafkaMessage, type Message } from 'kafkajs';

/**
 * Header carrying `LogRecord.id`. Kafka does not dedupe on append, so the id travels with the
 * record for consumers to dedupe on; it is taken out of `headers` again when consumed.
 */
export const RECORD_ID_HEADER = 'codestep-record-id';

/**
 * A Kafka message for a record: key = record key, headers as strings, id as a header, and the
 * record's `targetPartition` as the message's partition (see {@link targetPartitioner}).
 */
export function toKafkaMessage(record: LogRecord): Message {
  const headers: IHeaders = { ...record.headers };
  if (record.id !== undefined) headers[RECORD_ID_HEADER] = record.id;
  return {
    key: record.key,
    // A view over the same memory: no copy of the payload.
    value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
    headers,
    ...(record.targetPartition !== undefined ? { partition: record.targetPartition } : {}),
  };
}

/**
 * kafkajs's default partitioner (the key's murmur2 hash), except that a message naming a
 * partition the topic has goes there; one naming a partition it does not have (the topic was
 * recreated with fewer) goes to its key's.
 */
export const targetPartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return ({ topic, partitionMetadata, message }) => {
    const target = message.partition;
    if (target !== undefined && target !== null && partitionMetadata.some((p) => p.partitionId === target)) return target;
    return byKey({ topic, partitionMetadata, message: { ...message, partition: undefined } });
  };
};

/** Groups records by topic, keeping their order within each topic (and so within each key). */
export function byTopic(records: LogRecord[]): Array<{ topic: string; messages: Message[] }> {
  const topics = new Map<string, Message[]>();
  for (const record of records) {
    let messages = topics.get(record.topic);
    if (!messages) topics.set(record.topic, (messages = []));
    messages.push(toKafkaMessage(record));
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

function headerString(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  // Kafka allows a header key more than once; kafkajs gives an array then. The last one wins,
  // as it would in a map built by a Java consumer iterating the headers.
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  if (last === undefined) return undefined;
  return typeof last === 'string' ? last : last.toString('utf8');
}

/** The port's view of a consumed Kafka message. */
export function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  const headers: Record<string, string> = {};
  let id: string | undefined;
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    const value = headerString(raw);
    if (value === undefined) continue;
    if (name === RECORD_ID_HEADER) id = value;
    else headers[name] = value;
  }
  return {
    topic,
    key: message.key === null ? '' : message.key.toString('utf8'),
    value: message.value ?? new Uint8Array(0),
    headers,
    ...(id === undefined ? {} : { id }),
    partition,
    offset: Number(message.offset),
  };
}

/**
 * The transactional id of the producer that commits a group's progress on one input partition.
 *
 * It names the partition, not the member: kafkajs commits offsets inside a transaction with
 * TxnOffsetCommit v0–v1, which carry no group generation, so the only thing that stops a member
 * that lost a partition (a zombie) from still committing for it is the transaction
 * coordinator's epoch on a shared transactional id. Whoever owns the partition next initialises
 * the same id, which bumps the epoch, fences the zombie and aborts its open transaction — the
 * scheme Kafka Streams used before KIP-447. The id is stable across restarts by construction.
 */
export function transactionalIdFor(prefix: string, group: string, topic: string, partition: number): string {
  return `${prefix}.${group}.${topic}.${partition}`;
}
