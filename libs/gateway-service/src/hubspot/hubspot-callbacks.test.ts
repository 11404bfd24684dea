/**
 * A callback's outcome events: one id per callback and outcome. A completion and a giving up of
 * one callback (two completers whose leases crossed) are both kept by the log, which drops a
 * second record with an id it has; the same outcome announced again (a redelivery, a completer
 * that died before its append) is one event.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteEventLog } from '@codestep/event-log-sqlite';
import { Topics, fromRecord, toRecord } from '@codestep/events';
import { callbackOutcome, callbackOutcomeId, type CallbackDoc } from './hubspot-callbacks.ts';

const T = 'tenant-a';
const doc = (callbackId: string): CallbackDoc => ({
  callbackId,
  enrollmentId: 'enr-1',
  portalId: 62515,
  handle: 'hubspot',
  state: 'completing',
  receivedAt: 1,
  answerBy: 2,
  leaseUntil: 3,
  attempts: 1,
});

describe('HubSpot callback outcome events', () => {
  it('gives completed, gave_up and answered distinct ids, each the same every time', () => {
    const ids = (['completed', 'gave_up', 'answered'] as const).map((outcome) => callbackOutcome(T, doc('cb-1'), { executionState: 'SUCCESS', outcome }, 10).eventId);
    assert.equal(new Set(ids).size, 3, ids.join(', '));
    assert.deepEqual(
      (['completed', 'gave_up', 'answered'] as const).map((outcome) => callbackOutcome(T, doc('cb-1'), { executionState: 'FAIL_CONTINUE', outcome, error: 'x' }, 99).eventId),
      ids,
      'the same outcome of the same callback: the same id, whatever else it says',
    );
    assert.deepEqual(ids, [callbackOutcomeId('cb-1', 'completed'), callbackOutcomeId('cb-1', 'gave_up'), callbackOutcomeId('cb-1', 'answered')]);
    assert.notEqual(callbackOutcomeId('cb-2', 'completed'), ids[0], 'another callback, another id');
  });

  it('keeps both a completion and a giving up of one callback in the log, and each once however often appended', async () => {
    const log = new SqliteEventLog({ path: ':memory:' });
    try {
      await log.ensureTopics([Topics.hubspot]);
      const completed = callbackOutcome(T, doc('cb-9'), { executionState: 'SUCCESS', outcome: 'completed' }, 10);
      const gaveUp = callbackOutcome(T, { ...doc('cb-9'), state: 'gave_up' }, { executionState: 'SUCCESS', outcome: 'gave_up', error: 'HubSpot answered HTTP 400' }, 11);
      await log.append([toRecord(completed)]);
      await log.append([toRecord(gaveUp)]);
      await log.append([toRecord(completed), toRecord(gaveUp)]);
      await log.append([toRecord(callbackOutcome(T, doc('cb-9'), { executionState: 'SUCCESS', outcome: 'completed' }, 12))]);
      const outcomes: string[] = [];
      await log.readAll([Topics.hubspot], async (batch) => {
        for (const r of batch) {
          const env = fromRecord(r.value);
          if (env?.event.$case === 'hubspotCallbackCompleted') outcomes.push(`${env.event.value.callbackId}:${env.event.value.outcome}`);
        }
      });
      assert.deepEqual(outcomes.sort(), ['cb-9:completed', 'cb-9:gave_up']);
    } finally {
      await log.close();
    }
  });
});
