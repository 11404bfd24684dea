/**
 * An example consumer of codestep's published events (docs/events.md), written as another team
 * would write it: plain kafkajs, a consumer group of its own, `read_committed`, every record's
 * value decoded with `EventEnvelope` generated from the published `proto/codestep/events`.
 * It knows nothing of codestep's services. Run it against a distributed installation:
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 node apps/cli/src/e2e/events-consumer.example.ts [group] [namespace]
 *
 * which prints one JSON line per event. `events-consumer.int.test.ts` runs it against the real broker.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { EventEnvelope } from '@codestep/contracts';
import { ALL_TOPICS } from '@codestep/events';

/** One consumed record: where it was, what it said, and the envelope it decodes to. */
export interface ConsumedEvent {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  headers: Record<string, string>;
  /** The record's value as it was on the wire. */
  value: Buffer;
  envelope: EventEnvelope;
}

export interface EventsConsumer {
  stop(): Promise<void>;
}

export interface EventsConsumerOptions {
  brokers: string[];
  /** The consumer group: the consumer's own, never one of the platform's. */
  groupId: string;
  /** The installation's `CODESTEP_NAMESPACE` (topics are `<namespace>.codestep.…`); empty for none. */
  namespace?: string;
  onEvent(event: ConsumedEvent): void | Promise<void>;
}

/** Subscribes to every published topic from the beginning and hands each decoded event to `onEvent`. */
export async function startEventsConsumer(options: EventsConsumerOptions): Promise<EventsConsumer> {
  const kafka = new Kafka({ clientId: options.groupId, brokers: options.brokers, logLevel: logLevel.NOTHING });
  // readUncommitted: false (kafkajs's default, said here because it matters): codestep writes in transactions.
  const consumer = kafka.consumer({ groupId: options.groupId, readUncommitted: false });
  await consumer.connect();
  const prefix = options.namespace ? `${options.namespace}.` : '';
  await consumer.subscribe({ topics: ALL_TOPICS.map((t) => prefix + t), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
      const value = message.value ?? Buffer.alloc(0);
      await options.onEvent({ topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? '', headers, value, envelope: EventEnvelope.decode(value) });
    },
  });
  return { stop: () => consumer.disconnect() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) {
    console.error('set KAFKA_BROKERS (host:port,...)');
    process.exit(2);
  }
  const consumer = await startEventsConsumer({
    brokers,
    groupId: process.argv[2] ?? 'codestep-example-consumer',
    namespace: process.argv[3] ?? '',
    onEvent: ({ topic, key, envelope }) => console.log(JSON.stringify({ topic, key, ...(EventEnvelope.toJSON(envelope) as object) })),
  });
  process.once('SIGINT', () => void consumer.stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void consumer.stop().then(() => process.exit(0)));
}
