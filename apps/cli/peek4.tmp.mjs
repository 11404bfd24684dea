import { Kafka, logLevel } from 'kafkajs';
const ns = process.argv[2];
const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
for (const g of ['codestep-enrollment', 'codestep-executor']) {
  const offs = await admin.fetchOffsets({ groupId: `${ns}.${g}` });
  for (const t of offs) {
    const hw = await admin.fetchTopicOffsets(t.topic);
    console.log(g, t.topic.split('.').slice(-2).join('.'), t.partitions.map((p) => `${p.partition}:${p.offset}/${hw.find((x) => x.partition === p.partition)?.high}`).join(' '));
  }
}
await admin.disconnect();
