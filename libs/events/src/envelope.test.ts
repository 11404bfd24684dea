/**
 * Envelopes to records and back: a record's value is decoded once per process, and the decoded
 * envelope is shared (and frozen, so no consumer can change what another sees).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventEnvelope } from '@codestep/contracts';
import { envelope, fromRecord, toRecord, type Envelope } from './envelope.ts';
import { Topics } from './topics.ts';

const started: Envelope = envelope(
  { eventId: 'evt_1', tenantId: 'tnt_1', aggregateId: 'enr_1', occurredAt: 1_700_000_000_000, correlationId: 'req_1' },
  {
    $case: 'enrollmentStarted',
    value: {
      enrollmentId: 'enr_1',
      workflowId: 'wf_1',
      workflowVersion: 3,
      object: { objectType: 'WEBHOOK', objectId: 'hook-1', properties: { email: 'ada@example.com' } },
      actionCount: 1,
      trigger: { dataJson: '{"n":1}', headers: { 'content-type': 'application/json' } },
      requestId: 'req_1',
    },
  },
);

const meta2 = (eventId: string) => ({ eventId, tenantId: 'tnt_1', aggregateId: 'enr_1', occurredAt: 1_700_000_000_002 });

/** Counts `EventEnvelope.decode` calls until restored. */
function countDecodes() {
  const decode = EventEnvelope.decode;
  const counter = { count: 0, restore: () => void (EventEnvelope.decode = decode) };
  EventEnvelope.decode = (...args) => (counter.count++, decode(...args));
  return counter;
}

describe('records of envelopes', () => {
  it('encodes an envelope to its topic and key with its traceparent in the headers, and decodes it back', () => {
    const r = toRecord(started, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(r.topic, Topics.enrollments);
    assert.equal(r.key, 'enr_1');
    assert.equal(r.id, 'evt_1');
    assert.deepEqual(r.headers, { 'event-type': 'EnrollmentStarted', 'schema-version': '1', 'tenant-id': 'tnt_1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    assert.deepEqual(fromRecord(r.value), EventEnvelope.decode(r.value));
    assert.equal(fromRecord(r.value)?.event.$case, 'enrollmentStarted');
  });

  it('decodes one record value once: every consumer handed it gets the same envelope', () => {
    const { value } = toRecord(started);
    const first = fromRecord(value);
    assert.ok(first);
    assert.equal(fromRecord(value), first, 'the same object, not a second decode');
    const sameBytes = fromRecord(new Uint8Array(value));
    assert.notEqual(sameBytes, first, 'another value with the same bytes is decoded on its own');
    assert.deepEqual(sameBytes, first);
  });

  it('freezes the shared envelope through and through, so that no consumer changes what another sees', () => {
    const env = fromRecord(toRecord(started).value)!;
    assert.ok(Object.isFrozen(env));
    assert.ok(Object.isFrozen(env.event));
    assert.ok(env.event.$case === 'enrollmentStarted');
    const value = env.event.value;
    assert.ok(Object.isFrozen(value.object!.properties));
    assert.throws(() => {
      (env as { tenantId: string }).tenantId = 'tnt_2';
    }, TypeError);
    assert.throws(() => {
      value.object!.properties.email = 'eve@example.com';
    }, TypeError);
    assert.equal(value.object!.properties.email, 'ada@example.com');
    const changed = { ...env, tenantId: 'tnt_2' };
    assert.equal(changed.tenantId, 'tnt_2', 'a copy can be changed');
  });

  it('hands a record made here to its consumers without decoding it: a frozen copy equal to what decoding gives', () => {
    const requested = {
      ...envelope(
        { eventId: 'evt_2', tenantId: 'tnt_1', aggregateId: 'exe_1', occurredAt: 1_700_000_000_001 },
        {
          $case: 'actionRequested',
          // As services build them: optional fields left out, and a property the schema does not have.
          value: {
            executionId: 'exe_1',
            context: {
              enrollmentId: 'enr_1',
              workflowId: 'wf_1',
              workflowVersion: 1,
              stepIndex: 0,
              actionId: 'one',
              attempt: 1,
              priorOutputs: { zero: { fields: { n: { kind: { $case: 'numberValue', value: 2 } } } } },
              firstAttemptAt: 1_700_000_000_000,
            },
            callbackId: '',
            inputFields: { email: { kind: { $case: 'stringValue', value: 'ada@example.com' } }, ok: { kind: { $case: 'boolValue', value: false } } },
            grant: 'g1.x.y',
            notInTheSchema: true,
          } as never,
        },
      ),
    };
    const decodes = countDecodes();
    try {
      const { value } = toRecord(requested);
      const env = fromRecord(value);
      assert.equal(decodes.count, 0, 'not decoded');
      assert.deepEqual(env, EventEnvelope.decode(value), 'what decoding gives, defaults and all');
      assert.ok(Object.isFrozen(env) && Object.isFrozen(env!.event.value) && env!.event.$case === 'actionRequested' && Object.isFrozen(env!.event.value.inputFields.email!.kind));
      assert.equal(fromRecord(value), env);
      assert.equal(Object.isFrozen(requested.event), false, "the service's own envelope is left as it was");
    } finally {
      decodes.restore();
    }
  });

  it('decodes a record made here whose strings are not well-formed, as consumers elsewhere and replays see it', () => {
    const odd = envelope({ eventId: 'evt_3', tenantId: 'tnt_1', aggregateId: 'enr_1', occurredAt: 1 }, {
      ...started.event,
      value: { ...started.event.value, workflowId: 'wf_\ud800' },
    } as Envelope['event']);
    const decodes = countDecodes();
    try {
      const env = fromRecord(toRecord(odd).value);
      assert.equal(decodes.count, 1);
      assert.ok(env?.event.$case === 'enrollmentStarted');
      assert.equal(env.event.value.workflowId, 'wf_\ufffd', 'the lone surrogate as encoding replaced it');
    } finally {
      decodes.restore();
    }
  });

  it('decodes a record made here whose map has a key that is not well-formed or a value left undefined', () => {
    const cases: Array<[Record<string, string>, Record<string, string>]> = [
      [{ 'k\ud800': 'v' }, { 'k\ufffd': 'v' }],
      [{ h: undefined as unknown as string }, { h: 'undefined' }],
    ];
    for (const [headers, expected] of cases) {
      const odd = envelope({ eventId: 'evt_4', tenantId: 'tnt_1', aggregateId: 'enr_1', occurredAt: 1 }, {
        ...started.event,
        value: { ...started.event.value, trigger: { dataJson: '{}', headers } },
      } as Envelope['event']);
      const { value } = toRecord(odd);
      const env = fromRecord(value);
      assert.ok(env?.event.$case === 'enrollmentStarted');
      assert.deepEqual(env.event.value.trigger?.headers, expected, 'as decoding gives it');
      assert.deepEqual(env, EventEnvelope.decode(value));
    }
  });

  it('encodes each record on its own with the one reused writer, also after an envelope that could not be encoded', () => {
    const big = envelope({ ...meta2('evt_big'), aggregateId: 'enr_big' }, {
      ...started.event,
      value: { ...started.event.value, trigger: { dataJson: 'x'.repeat(5_000), headers: {} } },
    } as Envelope['event']);
    const small = toRecord(started);
    const large = toRecord(big);
    assert.throws(() => toRecord({ ...started, schemaVersion: -1 }), /invalid uint32/);
    const again = toRecord(started);
    assert.deepEqual(again.value, small.value, 'the same bytes as before the failure, nothing left over from it');
    assert.notEqual(again.value.buffer, small.value.buffer, 'each record has bytes of its own');
    assert.deepEqual(EventEnvelope.decode(small.value), EventEnvelope.decode(EventEnvelope.encode(started).finish()));
    const decodedLarge = EventEnvelope.decode(large.value).event;
    assert.equal(decodedLarge?.$case === 'enrollmentStarted' ? decodedLarge.value.trigger?.dataJson.length : undefined, 5_000);
  });

  it('gives undefined, every time, for an envelope whose event this version does not know', () => {
    const value = EventEnvelope.encode({ ...started, event: undefined }).finish();
    assert.equal(fromRecord(value), undefined);
    assert.equal(fromRecord(value), undefined);
  });
});
