import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envelope, toRecord, type Envelope } from '@codestep/events';
import { SqliteStore } from '@codestep/store-sqlite';
import { ENROLLMENT_STATE_COLLECTIONS, enrollmentStatesProjection, type EnrollmentStateDoc } from './enrollment-states.projection.ts';

const ctx = {
  enrollmentId: 'e1',
  workflowId: 'wf1',
  workflowVersion: 1,
  stepIndex: 1,
  actionId: 'b',
  attempt: 1,
  object: undefined,
  priorOutputs: {},
  firstAttemptAt: 1,
  trigger: undefined,
  limits: undefined,
  step: undefined,
};
const meta = (eventId: string, at: number) => ({ eventId, tenantId: 't1', aggregateId: 'e1', occurredAt: at });
const events: Envelope[] = [
  envelope(meta('s', 1), { $case: 'enrollmentStarted', value: { enrollmentId: 'e1', workflowId: 'wf1', workflowVersion: 1, object: undefined, actionCount: 2, trigger: undefined } }),
  envelope(meta('f', 2), {
    $case: 'enrollmentFailed',
    value: { enrollmentId: 'e1', failedActionId: 'b', error: { code: 'TIMEOUT', message: 'slow', retryable: false, retryAfterMs: 0 }, context: ctx },
  }),
  envelope(meta('r', 3), { $case: 'enrollmentRetried', value: { enrollmentId: 'e1', round: 1, actionId: 'b', workflowVersion: 2, executionId: 'x', jobId: 'rjob1', reason: '' } }),
  envelope(meta('c', 4), { $case: 'enrollmentCompleted', value: { enrollmentId: 'e1', outputs: {} } }),
];
const records = (envs: Envelope[]) => envs.map((e, offset) => ({ ...toRecord(e), partition: 0, offset }));

describe('enrollment states projection', () => {
  it('given a failure, then the state is failed with the failed step’s context and error code', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await enrollmentStatesProjection.ensure(store);
    await enrollmentStatesProjection.apply(store, records(events.slice(0, 2)));
    const doc = (await store.get<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, 't1/e1'))!.doc;
    assert.deepEqual([doc.status, doc.errorCode, doc.failedAt, doc.failedContext?.actionId], ['failed', 'TIMEOUT', 2, 'b']);
  });

  it('given the whole log replayed twice into an empty store, then the state is the same as applied once: completed after its retry', async () => {
    const once = new SqliteStore({ path: ':memory:' });
    const twice = new SqliteStore({ path: ':memory:' });
    for (const s of [once, twice]) await enrollmentStatesProjection.ensure(s);
    await enrollmentStatesProjection.apply(once, records(events));
    await enrollmentStatesProjection.apply(twice, records(events));
    await enrollmentStatesProjection.apply(twice, records(events));
    const doc = await twice.get<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, 't1/e1');
    assert.deepEqual(doc, await once.get(ENROLLMENT_STATE_COLLECTIONS.states, 't1/e1'));
    assert.deepEqual([doc?.doc.status, doc?.doc.round, doc?.doc.jobId, doc?.doc.workflowVersion, doc?.doc.failedContext], ['completed', 1, 'rjob1', 2, null]);
  });

  it('given two tenants’ enrollments in one batch, then each state is the one applied record by record, under its own tenant', async () => {
    const other = events.map((e) => ({ ...e, tenantId: 't2', eventId: `${e.eventId}-2` }));
    const interleaved = events.flatMap((e, i) => [e, other[i]!]);
    const batched = new SqliteStore({ path: ':memory:' });
    const oneByOne = new SqliteStore({ path: ':memory:' });
    for (const s of [batched, oneByOne]) await enrollmentStatesProjection.ensure(s);
    await enrollmentStatesProjection.apply(batched, records(interleaved));
    for (const r of records(interleaved)) await enrollmentStatesProjection.apply(oneByOne, [r]);
    for (const tenant of ['t1', 't2']) {
      const doc = await batched.get<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, `${tenant}/e1`);
      assert.deepEqual(doc, await oneByOne.get(ENROLLMENT_STATE_COLLECTIONS.states, `${tenant}/e1`));
      assert.deepEqual([doc?.doc.tenantId, doc?.doc.status, doc?.doc.round, doc?.doc.jobId], [tenant, 'completed', 1, 'rjob1']);
    }
  });

  it('given a tenant id or an enrollment id with a "/", then the state follows its events across batches', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await enrollmentStatesProjection.ensure(store);
    const slashed = (tenantId: string, enrollmentId: string) => events.map((e) => ({ ...e, tenantId, aggregateId: enrollmentId, eventId: `${e.eventId}-${tenantId}-${enrollmentId}` }));
    for (const [tenantId, enrollmentId] of [
      ['org/team', 'e1'],
      ['t3', 'e/1'],
    ] as const) {
      const log = records(slashed(tenantId, enrollmentId));
      for (const record of log.slice(0, 2)) await enrollmentStatesProjection.apply(store, [record]);
      const doc = (await store.get<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, `${tenantId}/${enrollmentId}`))!.doc;
      assert.deepEqual([doc.tenantId, doc.status, doc.errorCode], [tenantId, 'failed', 'TIMEOUT'], `${tenantId} ${enrollmentId}: the failure applied over the started state`);
    }
  });

  it('given another tenant’s state under the same stored key, then it is neither read nor overwritten', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await enrollmentStatesProjection.ensure(store);
    // "a/b" + "c" and "a" + "b/c" are both stored as "a/b/c".
    const first = events.map((e) => ({ ...e, tenantId: 'a/b', aggregateId: 'c', eventId: `${e.eventId}-1` }));
    const second = events.map((e) => ({ ...e, tenantId: 'a', aggregateId: 'b/c', eventId: `${e.eventId}-2` }));
    await enrollmentStatesProjection.apply(store, records(first.slice(0, 2)));
    await enrollmentStatesProjection.apply(
      store,
      records([second[0]!, second[2]!]).map((r, i) => ({ ...r, offset: 10 + i })),
    );
    const doc = (await store.get<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, 'a/b/c'))!.doc;
    assert.deepEqual([doc.tenantId, doc.status, doc.round], ['a/b', 'failed', 0]);
  });
});
