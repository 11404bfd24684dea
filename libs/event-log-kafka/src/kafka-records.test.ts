import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { RECORD_ID_HEADER, byTopic, targetPartitioner, toConsumedRecord, toKafkaMessage, transactionalIdFor } from './kafka-records.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function consumed(message: Partial<KafkaMessage> & { headers: KafkaMessage['headers'] }): KafkaMessage {
  return { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: '0', attributes: 0, offset: '41', ...message } as KafkaMessage;
}

void describe('Kafka record mapping', () => {
  void it('puts the record key in the Kafka key and the record id in a header beside the others', () => {
    const m = toKafkaMessage({ topic: 't', key: 'agg-1', value: enc('hello'), headers: { traceparent: 'tp' }, id: 'evt-1' });
    assert.equal(m.key, 'agg-1');
    assert.deepEqual(m.headers, { traceparent: 'tp', [RECORD_ID_HEADER]: 'evt-1' });
    assert.equal(Buffer.from(m.value as Buffer).toString(), 'hello');
  });

  void it('sends exactly the bytes of a value that is a view into a larger buffer', () => {
    const backing = enc('xxpayloadyy');
    const view = backing.subarray(2, 9);
    const m = toKafkaMessage({ topic: 't', key: 'k', value: view, headers: {} });
    assert.equal((m.value as Buffer).toString(), 'payload');
  });

  void it('sends a record with a target partition there when the topic has it, and by its key otherwise', () => {
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0 }));
    const partition = targetPartitioner();
    const byKey = (key: string) => partition({ topic: 't', partitionMetadata, message: toKafkaMessage({ topic: 't', key, value: enc(''), headers: {} }) });
    const keys = Array.from({ length: 30 }, (_, i) => `exe_${i}`);
    for (const target of [0, 1, 2]) {
      const key = keys.find((k) => byKey(k) !== target)!;
      const message = toKafkaMessage({ topic: 't', key, value: enc(''), headers: {}, targetPartition: target });
      assert.equal(message.partition, target);
      assert.equal(partition({ topic: 't', partitionMetadata, message }), target);
    }
    const missing = toKafkaMessage({ topic: 't', key: 'exe_1', value: enc(''), headers: {}, targetPartition: 7 });
    assert.equal(partition({ topic: 't', partitionMetadata, message: missing }), byKey('exe_1'), 'a partition the topic lacks: the key decides');
    assert.equal(toKafkaMessage({ topic: 't', key: 'k', value: enc(''), headers: {} }).partition, undefined);
  });

  void it('adds no id header when the record has no id', () => {
    const m = toKafkaMessage({ topic: 't', key: 'k', value: enc(''), headers: { a: '1' } });
    assert.deepEqual(m.headers, { a: '1' });
  });

  void it('groups records by topic without reordering them', () => {
    const rec = (topic: string, v: string) => ({ topic, key: 'k', value: enc(v), headers: {} });
    const grouped = byTopic([rec('a', '1'), rec('b', '2'), rec('a', '3')]);
    assert.deepEqual(
      grouped.map((g) => [g.topic, g.messages.map((m) => (m.value as Buffer).toString())]),
      [
        ['a', ['1', '3']],
        ['b', ['2']],
      ],
    );
  });

  void it('turns a consumed message back into the record that was appended, id out of the headers', () => {
    const r = toConsumedRecord('t', 2, consumed({ headers: { traceparent: Buffer.from('tp'), [RECORD_ID_HEADER]: Buffer.from('evt-1') } }));
    assert.deepEqual({ ...r, value: Buffer.from(r.value).toString() }, { topic: 't', key: 'k', value: 'v', headers: { traceparent: 'tp' }, id: 'evt-1', partition: 2, offset: 41 });
  });

  void it('keeps the last value of a header that arrived more than once', () => {
    const r = toConsumedRecord('t', 0, consumed({ headers: { h: [Buffer.from('first'), Buffer.from('second')] } }));
    assert.equal(r.headers.h, 'second');
  });

  void it('names transactional ids after the input partition, not the member, so they survive restarts', () => {
    assert.equal(transactionalIdFor('codestep', 'executor', 'codestep.actions.v1', 2), 'codestep.executor.codestep.actions.v1.2');
    assert.notEqual(transactionalIdFor('p', 'g', 't', 0), transactionalIdFor('p', 'g', 't', 1));
  });
});
