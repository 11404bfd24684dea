import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@codestep/core';
import type { ConsumedRecord, EventLog } from '@codestep/event-log';
import { Topics, envelope, toRecord } from '@codestep/events';
import { tenantScoped, type DocumentStore, type StoredDoc, type VersionedWrite } from '@codestep/store';
import { HISTORY_COLLECTIONS } from './history-views.projection.ts';
import { createHistoryService } from './history.service.ts';

/** An in-memory store honouring the port's versioned-write rule (enough for the projector). */
function memoryStore(): DocumentStore {
  const data = new Map<string, StoredDoc<unknown>>();
  const k = (c: string, id: string) => `${c}/${id}`;
  return {
    ensureCollection: async () => {},
    get: async <T>(c: string, id: string) => (data.get(k(c, id)) as StoredDoc<T> | undefined) ?? null,
    getMany: async <T>(c: string, ids: string[]) => new Map(ids.filter((id) => data.has(k(c, id))).map((id) => [id, data.get(k(c, id)) as StoredDoc<T>])),
    find: async () => [],
    writeVersioned: async <T>(c: string, writes: Array<VersionedWrite<T>>) => {
      for (const w of writes) if ((data.get(k(c, w.id))?.version ?? -1) < w.version) data.set(k(c, w.id), { id: w.id, version: w.version, doc: w.doc });
    },
    insertIfAbsent: async () => true,
    compareAndSet: async () => true,
    put: async () => {},
    delete: async () => true,
    clear: async () => {},
    close: async () => {},
  };
}

describe('history service projector', () => {
  it('applies the first record of a partition (Kafka offset 0)', async () => {
    const store = memoryStore();
    const service = createHistoryService({ store, eventLog: {} as EventLog, logger: silentLogger });
    const started = envelope(
      { eventId: 'e1', tenantId: 't', aggregateId: 'enr1', occurredAt: 1 },
      { $case: 'enrollmentStarted', value: { enrollmentId: 'enr1', workflowId: 'w', workflowVersion: 1, object: undefined, actionCount: 1, trigger: undefined } },
    );
    const rec: ConsumedRecord = { ...toRecord(started), topic: Topics.enrollments, partition: 2, offset: 0 };
    await service.applyBatch([rec]);
    assert.equal((await tenantScoped(store, 't').get<{ status: string }>(HISTORY_COLLECTIONS.enrollments, 'enr1'))?.doc.status, 'running');
    await service.applyBatch([rec]);
    assert.equal((await tenantScoped(store, 't').get(HISTORY_COLLECTIONS.enrollments, 'enr1'))?.version, 1);
  });
});
