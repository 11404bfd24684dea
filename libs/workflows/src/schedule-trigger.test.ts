import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCodestepError } from '@codestep/core';
import { decideTick, nextFireTimes, parseTrigger, triggerToInput } from './schedule-trigger.ts';
import { parseWorkflowInput } from './workflow-definition.ts';

const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString());
const at = (s: string) => Date.parse(s);

function refused(raw: unknown, minIntervalMs = 60_000): { field: unknown; message: string } {
  try {
    parseTrigger(raw, { minIntervalMs });
  } catch (error) {
    assert.ok(isCodestepError(error) && error.code === 'INVALID_ARGUMENT');
    return { field: error.details?.field, message: error.message };
  }
  assert.fail('expected the trigger to be refused');
}

describe('schedule triggers', () => {
  it('fires a weekday cron in Paris at 9:00 local time, on both sides of the spring DST change', () => {
    const t = parseTrigger({ type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' })!;
    // Friday 27 March 2026 is still winter time (UTC+1); Monday 30 March is summer time (UTC+2).
    assert.deepEqual(iso(nextFireTimes(t, at('2026-03-27T00:00:00Z'), 5)), [
      '2026-03-27T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
      '2026-04-01T07:00:00.000Z',
      '2026-04-02T07:00:00.000Z',
    ]);
  });

  it('fires a 02:30 Paris cron once on the night that repeats it and at the shifted time on the night that skips it', () => {
    const t = parseTrigger({ type: 'schedule', cron: '30 2 * * *', timezone: 'Europe/Paris' })!;
    assert.deepEqual(iso(nextFireTimes(t, at('2026-03-28T00:00:00Z'), 3)), ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    assert.deepEqual(iso(nextFireTimes(t, at('2026-10-24T00:00:00Z'), 3)), ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('ticks an interval at whole multiples of it since the epoch, strictly after the given time', () => {
    const t = parseTrigger({ type: 'schedule', every: '15 min' })!;
    assert.deepEqual(iso(nextFireTimes(t, at('2026-12-07T10:07:12Z'), 3)), ['2026-12-07T10:15:00.000Z', '2026-12-07T10:30:00.000Z', '2026-12-07T10:45:00.000Z']);
    assert.deepEqual(iso(nextFireTimes(t, at('2026-12-07T10:15:00Z'), 1)), ['2026-12-07T10:30:00.000Z']);
  });

  it('defaults the time zone to UTC and missed ticks to runOnce, and shows the trigger as it was sent', () => {
    const t = parseTrigger({ type: 'schedule', cron: '0  9 * * *' })!;
    assert.deepEqual(triggerToInput(t), { type: 'schedule', cron: '0 9 * * *', timezone: 'UTC', missed: 'runOnce' });
    assert.deepEqual(triggerToInput(parseTrigger({ type: 'schedule', every: '2 hr', missed: 'skip' })!), { type: 'schedule', every: '2 hr', missed: 'skip' });
    assert.equal(parseTrigger(undefined), undefined);
    assert.equal(parseTrigger(null), undefined);
  });

  it('refuses a bad cron, time zone, interval or policy, naming the field', () => {
    assert.deepEqual(refused({ type: 'schedule', cron: '61 * * * *' }).field, 'trigger.cron');
    assert.match(refused({ type: 'schedule', cron: '61 * * * *' }).message, /^trigger\.cron: .*minute/);
    assert.equal(refused({ type: 'schedule', cron: '0 9 * *' }).field, 'trigger.cron');
    assert.equal(refused({ type: 'schedule', cron: 'every morning' }).field, 'trigger.cron');
    assert.equal(refused({ type: 'schedule', cron: '0 9 * * *', timezone: 'Mars/Olympus' }).field, 'trigger.timezone');
    assert.equal(refused({ type: 'schedule', every: 'often' }).field, 'trigger.every');
    assert.equal(refused({ type: 'schedule', every: '5 sec' }).field, 'trigger.every');
    assert.match(refused({ type: 'schedule', every: '99999999999999999999 days' }).message, /^trigger\.every: must be at most 400 days/);
    assert.match(refused({ type: 'schedule', every: '5 sec' }).message, /at least 1 min/);
    assert.equal(refused({ type: 'schedule', cron: '* * * * * *' }).field, 'trigger.cron');
    assert.equal(refused({ type: 'schedule', cron: '0 9 * * *', every: '1 hr' }).field, 'trigger');
    assert.equal(refused({ type: 'schedule' }).field, 'trigger');
    assert.equal(refused({ type: 'cron', cron: '0 9 * * *' }).field, 'trigger.type');
    assert.equal(refused({ type: 'schedule', every: '1 hr', missed: 'all' }).field, 'trigger.missed');
    assert.equal(refused({ type: 'schedule', every: '1 hr', timezone: 'UTC' }).field, 'trigger.timezone');
    assert.equal(refused({ type: 'schedule', every: '1 hr', cronn: 'x' }).field, 'trigger.cronn');
    assert.equal(refused('0 9 * * *').field, 'trigger');
  });

  it('accepts a shorter interval when the operator lowered the minimum (tests)', () => {
    assert.equal(parseTrigger({ type: 'schedule', every: '1 sec' }, { minIntervalMs: 1000 })?.every, '1 sec');
    assert.equal(parseTrigger({ type: 'schedule', cron: '*/2 * * * * *' }, { minIntervalMs: 1000 })?.cron, '*/2 * * * * *');
  });

  it('is part of a workflow body, refused there with the same field', () => {
    const action = { id: 'a', code: 'exports.main = async () => ({ outputFields: {} })' };
    assert.equal(parseWorkflowInput({ name: 'w', actions: [action], trigger: { type: 'schedule', every: '1 hr' } }).trigger?.every, '1 hr');
    assert.equal(parseWorkflowInput({ name: 'w', actions: [action] }).trigger, undefined);
    assert.throws(
      () => parseWorkflowInput({ name: 'w', actions: [action], trigger: { type: 'schedule', cron: 'nope' } }),
      (e: unknown) => isCodestepError(e) && e.details?.field === 'trigger.cron',
    );
  });

  describe('deciding a due tick', () => {
    const hourly = parseTrigger({ type: 'schedule', every: '1 hr' })!;
    const hourlySkip = parseTrigger({ type: 'schedule', every: '1 hr', missed: 'skip' })!;
    const grace = 60_000;

    it('fires nothing before the tick', () => {
      assert.equal(decideTick(hourly, at('2026-12-07T10:00:00Z'), at('2026-12-07T09:59:59Z'), grace), undefined);
    });

    it('fires a tick found on time, whatever the policy', () => {
      for (const t of [hourly, hourlySkip])
        assert.deepEqual(decideTick(t, at('2026-12-07T10:00:00Z'), at('2026-12-07T10:00:01Z'), grace), {
          outcome: 'fired',
          tickAt: at('2026-12-07T10:00:00Z'),
          missed: 0,
          coveredUntil: at('2026-12-07T10:00:00Z'),
        });
    });

    it('runs ticks missed while down once, as the latest due tick, counting the others (runOnce)', () => {
      assert.deepEqual(decideTick(hourly, at('2026-12-07T10:00:00Z'), at('2026-12-07T13:20:00Z'), grace), {
        outcome: 'fired',
        tickAt: at('2026-12-07T13:00:00Z'),
        missed: 3,
        coveredUntil: at('2026-12-07T13:00:00Z'),
      });
    });

    it('skips ticks missed while down (skip), and fires the ones still on time', () => {
      assert.deepEqual(decideTick(hourlySkip, at('2026-12-07T10:00:00Z'), at('2026-12-07T13:20:00Z'), grace), {
        outcome: 'skipped',
        tickAt: at('2026-12-07T13:00:00Z'),
        missed: 4,
        coveredUntil: at('2026-12-07T13:00:00Z'),
      });
      assert.deepEqual(decideTick(hourlySkip, at('2026-12-07T10:00:00Z'), at('2026-12-07T13:00:30Z'), grace), {
        outcome: 'skipped',
        tickAt: at('2026-12-07T12:00:00Z'),
        missed: 3,
        coveredUntil: at('2026-12-07T12:00:00Z'),
      });
      assert.deepEqual(decideTick(hourlySkip, at('2026-12-07T13:00:00Z'), at('2026-12-07T13:00:30Z'), grace)?.outcome, 'fired');
    });

    it('fires each on-time tick on its own when the scheduler runs behind', () => {
      const minutely = parseTrigger({ type: 'schedule', every: '1 min' }, { minIntervalMs: 1000 })!;
      assert.deepEqual(decideTick(minutely, at('2026-12-07T10:00:00Z'), at('2026-12-07T10:00:50Z'), 120_000), {
        outcome: 'fired',
        tickAt: at('2026-12-07T10:00:00Z'),
        missed: 0,
        coveredUntil: at('2026-12-07T10:00:00Z'),
      });
      assert.deepEqual(decideTick(minutely, at('2026-12-07T10:00:00Z'), at('2026-12-07T10:01:50Z'), 120_000)?.tickAt, at('2026-12-07T10:00:00Z'));
    });

    it('counts missed cron ticks in their time zone', () => {
      const daily = parseTrigger({ type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' })!;
      // Due Friday 9:00 Paris; found Tuesday 10:00 Paris: Friday, Monday and Tuesday were due.
      const d = decideTick(daily, at('2026-12-04T08:00:00Z'), at('2026-12-08T09:00:00Z'), grace);
      assert.deepEqual(d, { outcome: 'fired', tickAt: at('2026-12-08T08:00:00Z'), missed: 2, coveredUntil: at('2026-12-08T08:00:00Z') });
    });
  });
});
