/**
 * What a transactional consume→produce step costs, against plain appends measured in the same
 * run on the same broker. Not a test: run by hand with KAFKA_BROKERS set.
 *
 *   node libs/event-log-kafka/src/kafka-step.bench.ts [records=5000] [batchSize=100]
 */
import { randomUUID } from 'node:crypto';
import type { LogRecord } from '@codestep/event-log';
import { KafkaEventLog } from './kafka.event-log.ts';

const brokers = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
if (brokers.length === 0) throw new Error('set KAFKA_BROKERS (eval "$(infra/local/up.sh)")');
const records = Number(process.argv[2] ?? 5000);
const batchSize = Number(process.argv[3] ?? 100);

const log = new KafkaEventLog({ brokers, maxWaitTimeMs: 100 });
const [input, output] = [`bench-in-${randomUUID()}`, `bench-out-${randomUUID()}`];
await log.ensureTopics([input, output]);
const payload = new Uint8Array(200);
const rec = (topic: string, i: number): LogRecord => ({ topic, key: `k${i % 50}`, value: payload, headers: { 'event-type': 'Bench' }, id: `e${i}` });

function report(what: string, seconds: number): number {
  const rate = records / seconds;
  console.log(`${what.padEnd(44)} ${rate.toFixed(0).padStart(7)} records/s`);
  return rate;
}

/** Drains the input through a new group; timed from the first batch, so joining is not counted. */
async function drain(produce: boolean): Promise<number> {
  let seen = 0;
  let started = 0;
  const done = Promise.withResolvers<number>();
  const sub = await log.consume({
    group: `bench-${randomUUID()}`,
    topics: [input],
    batchSize,
    handle: async (batch) => {
      started ||= performance.now();
      seen += batch.length;
      if (seen >= records) done.resolve((performance.now() - started) / 1000);
      return produce ? batch.map((r) => ({ ...r, topic: output })) : [];
    },
  });
  const seconds = await done.promise;
  await sub.stop();
  return seconds;
}

const started = performance.now();
for (let i = 0; i < records; i += batchSize) await log.append(Array.from({ length: Math.min(batchSize, records - i) }, (_, j) => rec(input, i + j)));
const append = report(`append, batches of ${batchSize} (baseline)`, (performance.now() - started) / 1000);
const consumeOnly = report('step with no outputs (offsets only)', await drain(false));
const consumeProduce = report('step producing one output per input', await drain(true));
console.log(`ratios to the append baseline: offsets-only ${(consumeOnly / append).toFixed(2)}, with outputs ${(consumeProduce / append).toFixed(2)}`);
await log.close();
