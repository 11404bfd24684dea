import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { envelope, toRecord } from '@codestep/events';
import type { ProjectedRecord } from '@codestep/store';
import { ENROLL_REQUESTS, enrollRequestsProjection, requestKey } from './enroll-requests.projection.ts';
import { openFixture, removeDir, type Fixture } from './testing.fixtures.ts';

function started(enrollmentId: string, requestId: string | undefined, workflowVersion: number, offset: number): ProjectedRecord {
  const env = envelope(
    { eventId: `evt_${enrollmentId}`, tenantId: 't1', aggregateId: enrollmentId, occurredAt: 1 },
    { $case: 'enrollmentStarted', value: { enrollmentId, workflowId: 'wf1', workflowVersion, object: undefined, actionCount: 1, trigger: undefined, requestId } },
  );
  return { ...toRecord(env), partition: 0, offset };
}

describe('enroll requests projection', () => {
  let f: Fixture;
  const dirs: string[] = [];
  beforeEach(async () => {
    f = openFixture();
    dirs.push(f.dir);
    await enrollRequestsProjection.ensure(f.store);
  });
  after(() => dirs.forEach(removeDir));

  it('given an enrollment started with a request id, when applied, then the request records its enrollment and version', async () => {
    await enrollRequestsProjection.apply(f.store, [started('enr1', 'r1', 3, 0)]);
    const doc = await f.store.get(ENROLL_REQUESTS, requestKey('t1', 'r1'));
    assert.deepEqual(doc?.doc, { tenantId: 't1', requestId: 'r1', enrollmentId: 'enr1', workflowVersion: 3 });
  });

  it('given an enrollment started without a request id, when applied, then nothing is recorded', async () => {
    await enrollRequestsProjection.apply(f.store, [started('enr1', undefined, 1, 0)]);
    assert.equal((await f.store.find(ENROLL_REQUESTS, {})).length, 0);
  });

  it('given a second start for one request id, when applied, then the first stays', async () => {
    await enrollRequestsProjection.apply(f.store, [started('enr1', 'r1', 1, 0), started('enr2', 'r1', 2, 1)]);
    await enrollRequestsProjection.apply(f.store, [started('enr1', 'r1', 1, 0)]);
    assert.equal((await f.store.get<{ enrollmentId: string }>(ENROLL_REQUESTS, requestKey('t1', 'r1')))?.doc.enrollmentId, 'enr1');
  });
});
