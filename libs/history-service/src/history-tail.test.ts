import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { historyV1 } from '@codestep/contracts';
import { envelope } from '@codestep/events';
import { createHistoryTail, tailEventsOf } from './history-tail.ts';

const logged = (tenantId: string, enrollmentId: string) =>
  envelope(
    { eventId: `l-${tenantId}-${enrollmentId}`, tenantId, aggregateId: 'ex1', correlationId: enrollmentId, occurredAt: 1 },
    {
      $case: 'actionLogged',
      value: {
        executionId: 'ex1',
        lines: [
          { level: 'info', message: 'hi', at: 1 },
          { level: 'warn', message: 'ho', at: 2 },
        ],
        truncated: false,
        context: undefined,
      },
    },
  );

describe('history tail', () => {
  it('turns each console line of an ActionLogged event into its own tail event', () => {
    const events = tailEventsOf(logged('t1', 'enr1'));
    assert.deepEqual(
      events.map((e) => [e.type, e.enrollmentId, e.executionId, e.line?.message]),
      [
        ['log', 'enr1', 'ex1', 'hi'],
        ['log', 'enr1', 'ex1', 'ho'],
      ],
    );
  });

  it('gives a follower only its tenant and enrollment, and stops when aborted', async () => {
    const tail = createHistoryTail();
    const seen: historyV1.TailEvent[] = [];
    const abort = new AbortController();
    const done = tail.follow({ tenantId: 't1', enrollmentId: 'enr1', workflowId: '' }, (e) => seen.push(e) > 0, abort.signal);
    tail.publish([logged('t2', 'enr1'), logged('t1', 'enr2'), logged('t1', 'enr1')]);
    abort.abort();
    await done;
    tail.publish([logged('t1', 'enr1')]);
    assert.equal(seen.length, 2);
    assert.ok(seen.every((e) => e.enrollmentId === 'enr1'));
  });

  it("gives a workflow's follower the events of that workflow's enrollments, learnt from the events that name it", async () => {
    const tail = createHistoryTail();
    const seen: historyV1.TailEvent[] = [];
    const abort = new AbortController();
    const done = tail.follow({ tenantId: 't1', enrollmentId: '', workflowId: 'wfA' }, (e) => seen.push(e) > 0, abort.signal);
    const started = (enrollmentId: string, workflowId: string, tenantId = 't1') =>
      envelope(
        { eventId: `s-${enrollmentId}-${tenantId}`, tenantId, aggregateId: enrollmentId, correlationId: enrollmentId, occurredAt: 1 },
        {
          $case: 'enrollmentStarted',
          value: { enrollmentId, workflowId, workflowVersion: 1, object: undefined, actionCount: 1, trigger: undefined },
        },
      );
    const completed = (enrollmentId: string) =>
      envelope(
        { eventId: `c-${enrollmentId}`, tenantId: 't1', aggregateId: enrollmentId, correlationId: enrollmentId, occurredAt: 2 },
        { $case: 'enrollmentCompleted', value: { enrollmentId, outputs: {} } },
      );
    tail.publish([started('enrA', 'wfA'), started('enrB', 'wfB'), started('enrC', 'wfA', 't2'), logged('t1', 'enrA'), logged('t1', 'enrB'), completed('enrA'), completed('enrB')]);
    abort.abort();
    await done;
    assert.deepEqual(
      seen.map((e) => [e.type, e.enrollmentId]),
      [
        ['EnrollmentStarted', 'enrA'],
        ['log', 'enrA'],
        ['log', 'enrA'],
        ['EnrollmentCompleted', 'enrA'],
      ],
    );
  });
});
