import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { retryingRetriable } from './kafka.event-log.ts';

/** The error kafkajs raises for a broker's error code (its typings take only a message or an Error). */
const protocolError = (type: string, code: number, retriable: boolean, message: string) => new kafkajs.KafkaJSProtocolError({ type, code, retriable, message } as unknown as Error);
const notLeader = () => protocolError('NOT_LEADER_FOR_PARTITION', 6, true, 'This server is not the leader for that topic-partition');
const unknownTopic = () => protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3, true, 'This server does not host this topic-partition');

/** A call that fails with the given errors first, then answers `value`; counts its calls. */
function flaky<T>(errors: Error[], value: T) {
  const calls = { n: 0 };
  const fn = async () => {
    const error = errors[calls.n++];
    if (error) throw error;
    return value;
  };
  return { fn, calls };
}

describe('Kafka calls tried again on a retriable answer', () => {
  it('answers once the broker stops saying it is not the leader or does not host the topic yet (a topic just created by a peer)', async () => {
    const { fn, calls } = flaky([notLeader(), unknownTopic(), notLeader()], [{ partition: 0, low: '0', high: '3' }]);
    assert.deepEqual(await retryingRetriable(fn, () => 0), [{ partition: 0, low: '0', high: '3' }]);
    assert.equal(calls.n, 4);
  });

  it('gives up after 8 tries with the broker’s own error', async () => {
    const { fn, calls } = flaky(Array.from({ length: 20 }, notLeader), 'never');
    await assert.rejects(
      retryingRetriable(fn, () => 0),
      { type: 'NOT_LEADER_FOR_PARTITION' },
    );
    assert.equal(calls.n, 8);
  });

  it('does not try again what trying again cannot fix', async () => {
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', 29, false, 'Not authorized to access topics');
    const { fn, calls } = flaky([denied, notLeader()], 'never');
    await assert.rejects(
      retryingRetriable(fn, () => 0),
      { type: 'TOPIC_AUTHORIZATION_FAILED' },
    );
    assert.equal(calls.n, 1);
  });
});
