// Smoke check of the local infrastructure, against servers already running
// (infra/local/up.sh): proves that the features codestep's distributed adapters
// rely on actually work on this Kafka broker and this MongoDB-wire server.
//
//   eval "$(infra/local/up.sh)" && node infra/local/check.ts
//
// Kafka: topic creation through the admin client; transactional produce where
// an aborted transaction must stay invisible to a read-committed consumer (and
// visible to a read-uncommitted one, which proves the isolation level is real);
// a consume→produce step whose output and consumer-group offset commit in one
// transaction. MongoDB wire (FerretDB): unique index enforced, idempotent
// unordered bulk upserts, findOneAndUpdate with upsert, find with sort + limit.
// It then probes features FerretDB v1 may lack and reports them without failing.
//
// Prints one line per step; exits 1 if a required step fails. Everything it
// creates (topics, group, database) is named per run and removed at the end.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { MongoClient, MongoServerError, type Db } from 'mongodb';

// kafkajs hands setTimeout a negative delay when its request queue is idle
// (harmless, Node 24 warns about it); keep every other warning visible.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`).split(',');
const mongoUri = process.env.MONGODB_URI ?? `mongodb://127.0.0.1:${process.env.FERRETDB_PORT ?? '27018'}/`;
const runId = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
/** Upper bound for waiting on consumers; a guard against hanging, not a performance assertion. */
const consumeTimeoutMs = 60_000;

let failures = 0;

async function step(name: string, fn: () => Promise<string | void>): Promise<boolean> {
  const started = performance.now();
  try {
    const detail = await fn();
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`ok    ${name}${detail ? ` — ${detail}` : ''} (${ms} ms)\n`);
    return true;
  } catch (error) {
    failures += 1;
    process.stdout.write(`FAIL  ${name} — ${error instanceof Error ? error.message : String(error)}\n`);
    return false;
  }
}

/** An optional feature: report whether it works, never fail the check. */
async function probe(name: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
    process.stdout.write(`yes   ${name}\n`);
  } catch (error) {
    const reason = error instanceof MongoServerError ? `${error.codeName ?? error.code}: ${error.message}` : String(error);
    process.stdout.write(`no    ${name} — ${reason.split('\n')[0]}\n`);
  }
}

/** Run a consumer from the beginning of `topic` until `count` messages arrived (or the guard timeout). */
async function consumeN(consumer: Consumer, topic: string, count: number): Promise<KafkaMessage[]> {
  const received: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => {
      reject(new Error(`received ${received.length} of ${count} messages from ${topic} within ${consumeTimeoutMs} ms`));
    }, consumeTimeoutMs);
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          received.push(message);
          if (received.length >= count) {
            clearTimeout(guard);
            resolve();
          }
        },
      })
      .catch((error: unknown) => {
        clearTimeout(guard);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
  });
  return received;
}

const values = (messages: KafkaMessage[]): string[] => messages.map((m) => m.value?.toString() ?? '<null>');

async function checkKafka(): Promise<void> {
  // kafkajs logs every retried broker answer (coordinator loading, concurrent
  // transaction) at ERROR; failures surface as thrown errors anyway. Set
  // KAFKAJS_LOG_LEVEL=info to see its logs when debugging.
  const kafka = new Kafka({ clientId: `codestep-infra-check-${runId}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const input = `codestep.infra-check.${runId}.in`;
  const output = `codestep.infra-check.${runId}.out`;
  const group = `codestep-infra-check-${runId}`;
  const consumers: Consumer[] = [];
  const newConsumer = (groupId: string, readUncommitted: boolean): Consumer => {
    const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 500 });
    consumers.push(consumer);
    return consumer;
  };
  const producer = kafka.producer({ transactionalId: `codestep-infra-check-${runId}`, idempotent: true, maxInFlightRequests: 1 });

  try {
    if (
      !(await step('kafka: admin connects and describes the cluster', async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return `${cluster.brokers.length} broker(s) at ${brokers.join(',')}`;
      }))
    )
      return;

    if (
      !(await step('kafka: admin creates topics', async () => {
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            { topic: input, numPartitions: 1 },
            { topic: output, numPartitions: 1 },
          ],
        });
        assert.equal(created, true, 'createTopics reported that the topics already existed');
        const listed = await admin.listTopics();
        assert.ok(listed.includes(input) && listed.includes(output), 'new topics missing from listTopics');
        return `${input}, ${output}`;
      }))
    )
      return;

    await step('kafka: transactional producer commits one transaction and aborts another', async () => {
      await producer.connect();
      const committed = await producer.transaction();
      await committed.send({ topic: input, messages: ['a', 'b', 'c'].map((v) => ({ key: 'k', value: `committed-${v}` })) });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: input, messages: ['x', 'y'].map((v) => ({ key: 'k', value: `aborted-${v}` })) });
      await aborted.abort();
      // Committed again after the abort so a read-committed consumer must skip the aborted ones.
      const after = await producer.transaction();
      await after.send({ topic: input, messages: [{ key: 'k', value: 'committed-d' }] });
      await after.commit();
    });

    await step('kafka: read-uncommitted consumer sees the aborted records (control case)', async () => {
      const seen = values(await consumeN(newConsumer(`${group}-uncommitted`, true), input, 6));
      assert.deepEqual(seen, ['committed-a', 'committed-b', 'committed-c', 'aborted-x', 'aborted-y', 'committed-d']);
    });

    let inputMessages: KafkaMessage[] = [];
    await step('kafka: read-committed consumer (readUncommitted: false) sees only committed records', async () => {
      inputMessages = await consumeN(newConsumer(group, false), input, 4);
      assert.deepEqual(values(inputMessages), ['committed-a', 'committed-b', 'committed-c', 'committed-d']);
    });

    await step('kafka: consume→produce commits output and consumer offsets in one transaction', async () => {
      assert.ok(inputMessages.length === 4, 'nothing consumed in the previous step');
      // The group must be inactive for sendOffsets to land on it predictably.
      for (const consumer of consumers.splice(0)) await consumer.disconnect();
      const last = inputMessages.at(-1);
      assert.ok(last);
      const nextOffset = (BigInt(last.offset) + 1n).toString();
      const txn = await producer.transaction();
      await txn.send({
        topic: output,
        messages: inputMessages.map((m) => ({ key: m.key, value: `processed-${m.value?.toString() ?? ''}` })),
      });
      await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: input, partitions: [{ partition: 0, offset: nextOffset }] }] });
      await txn.commit();
      // commit() returns once the coordinator has decided; the markers that make
      // transactional offsets visible to an OffsetFetch (kafkajs doesn't ask for
      // require_stable) land asynchronously, so poll briefly before judging.
      let committedOffset: string | undefined;
      for (let attempt = 0; attempt < 50 && committedOffset !== nextOffset; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [input] });
        committedOffset = offsets?.partitions[0]?.offset;
      }
      assert.equal(committedOffset, nextOffset, 'group offset was not committed by the transaction');
      const outputSeen = values(await consumeN(newConsumer(`${group}-verify`, false), output, 4));
      assert.deepEqual(
        outputSeen,
        ['committed-a', 'committed-b', 'committed-c', 'committed-d'].map((v) => `processed-${v}`),
      );
      return `group offset ${nextOffset}, 4 outputs visible to read-committed`;
    });
  } finally {
    for (const consumer of consumers) await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    await admin.deleteGroups([group, `${group}-uncommitted`, `${group}-verify`]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

async function checkMongo(): Promise<void> {
  const client = new MongoClient(mongoUri, { serverSelectionTimeoutMS: 10_000, appName: 'codestep-infra-check' });
  const dbName = `codestep_check_${runId.replace(/-/g, '_')}`;
  let db: Db | undefined;
  try {
    if (
      !(await step('mongo: driver connects and pings', async () => {
        await client.connect();
        db = client.db(dbName);
        const info: { version?: unknown; ferretdbVersion?: unknown } = await client.db('admin').command({ buildInfo: 1 });
        return `${mongoUri} reports MongoDB ${String(info.version)}${typeof info.ferretdbVersion === 'string' ? `, FerretDB ${info.ferretdbVersion}` : ''}`;
      }))
    )
      return;
    assert.ok(db);
    type Execution = { tenantId: string; eventId: string; seq: number; status: string };
    const executions = db.collection<Execution>('executions');

    await step('mongo: unique index is created and enforced', async () => {
      const name = await executions.createIndex({ tenantId: 1, eventId: 1 }, { unique: true, name: 'tenant_event_unique' });
      const indexes = await executions.indexes();
      assert.ok(
        indexes.some((i) => i.name === name && i.unique === true),
        'unique index not listed',
      );
      await executions.insertOne({ tenantId: 't1', eventId: 'dup', seq: -1, status: 'probe' });
      await assert.rejects(
        executions.insertOne({ tenantId: 't1', eventId: 'dup', seq: -2, status: 'probe' }),
        (error: unknown) => error instanceof MongoServerError && error.code === 11000,
        'a duplicate key was accepted',
      );
      await executions.deleteOne({ tenantId: 't1', eventId: 'dup' });
    });

    await step('mongo: unordered bulkWrite of upserts is idempotent when applied twice', async () => {
      const ops = Array.from({ length: 20 }, (_, i) => ({
        updateOne: {
          filter: { tenantId: 't1', eventId: `e${i}` },
          update: { $setOnInsert: { tenantId: 't1', eventId: `e${i}`, seq: i, status: 'new' } },
          upsert: true,
        },
      }));
      const first = await executions.bulkWrite(ops, { ordered: false });
      assert.equal(first.upsertedCount, 20, 'first application should insert every document');
      const second = await executions.bulkWrite(ops, { ordered: false });
      assert.equal(second.upsertedCount, 0, 'second application inserted duplicates');
      assert.equal(second.matchedCount, 20);
      assert.equal(second.modifiedCount, 0, 'second application modified documents');
      assert.equal(await executions.countDocuments({ tenantId: 't1' }), 20);
      return 'first: 20 upserted; second: 20 matched, 0 upserted, 0 modified';
    });

    await step('mongo: findOneAndUpdate with upsert inserts, then updates', async () => {
      const counters = db!.collection<{ _id: string; value: number }>('counters');
      const created = await counters.findOneAndUpdate({ _id: 't1:seq' }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after' });
      assert.deepEqual(created, { _id: 't1:seq', value: 1 });
      const updated = await counters.findOneAndUpdate({ _id: 't1:seq' }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after' });
      assert.deepEqual(updated, { _id: 't1:seq', value: 2 });
    });

    await step('mongo: find with filter, sort and limit', async () => {
      const page = await executions
        .find({ tenantId: 't1', seq: { $gte: 5 } }, { projection: { _id: 0, eventId: 1, seq: 1 } })
        .sort({ seq: -1 })
        .limit(3)
        .toArray();
      assert.deepEqual(page, [
        { eventId: 'e19', seq: 19 },
        { eventId: 'e18', seq: 18 },
        { eventId: 'e17', seq: 17 },
      ]);
    });

    process.stdout.write('--    optional MongoDB features (informational, never fail the check):\n');
    const probes = db.collection<{ _id: string; n: number; at?: Date }>('probes');
    await probe('multi-document transactions (session.withTransaction)', async () => {
      const session = client.startSession();
      try {
        await session.withTransaction(async () => {
          await probes.insertOne({ _id: 'txn', n: 1 }, { session });
        });
      } finally {
        await session.endSession();
      }
    });
    await probe('change streams (collection.watch)', async () => {
      const stream = probes.watch();
      try {
        await stream.tryNext();
      } finally {
        await stream.close();
      }
    });
    await probe('partial indexes (partialFilterExpression)', () => probes.createIndex({ n: 1 }, { name: 'partial_n', partialFilterExpression: { n: { $gt: 0 } } }));
    await probe('TTL indexes (expireAfterSeconds)', () => probes.createIndex({ at: 1 }, { name: 'ttl_at', expireAfterSeconds: 3600 }));
    await probe('aggregation $group', () => executions.aggregate([{ $group: { _id: '$tenantId', n: { $sum: 1 } } }]).toArray());
    await probe('aggregation $lookup', () => executions.aggregate([{ $lookup: { from: 'counters', localField: 'tenantId', foreignField: '_id', as: 'c' } }]).toArray());
    await probe('update with arrayFilters', () => probes.updateOne({ _id: 'arr' }, { $set: { 'xs.$[x].v': 1 } }, { upsert: true, arrayFilters: [{ 'x.k': 'a' }] }));
    await probe('collation on find', () =>
      executions
        .find({}, { collation: { locale: 'en', strength: 2 } })
        .limit(1)
        .toArray(),
    );
  } finally {
    if (db) await db.dropDatabase().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

await checkKafka();
await checkMongo();

if (failures > 0) {
  process.stdout.write(`\n${failures} required check(s) failed\n`);
  process.exit(1);
}
process.stdout.write('\nall required checks passed\n');
process.exit(0);
