import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NotFoundError } from '@codestep/core';
import type { ConsumedRecord } from '@codestep/event-log';
import { Topics, envelope, toRecord, type EventBody } from '@codestep/events';
import { SqliteStore } from '@codestep/store-sqlite';
import { applyToHistory, ensureHistoryCollections } from './history-views.projection.ts';
import { createHistoryQueries } from './history.queries.ts';

const dir = mkdtempSync(join(tmpdir(), 'history-queries-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let offset = 0;
const record = (topic: string, tenantId: string, aggregateId: string, body: EventBody): ConsumedRecord => ({
  ...toRecord(envelope({ eventId: `e${offset}`, tenantId, aggregateId, correlationId: aggregateId, occurredAt: 1000 + offset }, body)),
  topic,
  partition: 0,
  offset: offset++,
});
const started = (tenantId: string, enrollmentId: string, workflowId: string) =>
  record(Topics.enrollments, tenantId, enrollmentId, {
    $case: 'enrollmentStarted',
    value: { enrollmentId, workflowId, workflowVersion: 1, object: { objectType: 'CONTACT', objectId: '1', properties: {} }, actionCount: 1, trigger: undefined },
  });

describe('history queries', () => {
  it("answers a tenant with its own enrollments only, and another tenant's id as not found", async () => {
    const store = new SqliteStore({ path: join(dir, 'a.db') });
    await ensureHistoryCollections(store);
    // Two tenants happen to use the same enrollment id: each sees its own.
    await applyToHistory(store, [started('tA', 'enr1', 'wfA'), started('tB', 'enr1', 'wfB'), started('tA', 'enr2', 'wfA')]);
    const queries = createHistoryQueries(store);
    assert.equal((await queries.getEnrollment({ tenantId: 'tA', enrollmentId: 'enr1' })).workflowId, 'wfA');
    assert.equal((await queries.getEnrollment({ tenantId: 'tB', enrollmentId: 'enr1' })).workflowId, 'wfB');
    await assert.rejects(queries.getEnrollment({ tenantId: 'tB', enrollmentId: 'enr2' }), NotFoundError);
    const listed = await queries.listEnrollments({ tenantId: 'tA', workflowId: '', status: '', limit: 10 });
    assert.deepEqual(listed.enrollments.map((e) => e.enrollmentId).sort(), ['enr1', 'enr2']);
    await assert.rejects(queries.listEnrollments({ tenantId: '', workflowId: '', status: '', limit: 10 }), /tenant_id is required/);
    await store.close();
  });
});
