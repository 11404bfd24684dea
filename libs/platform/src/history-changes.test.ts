/**
 * Waiting without polling across processes (distributed mode): a gateway's watch follows the
 * log service's `Tail` over gRPC with mutual TLS, and is told when the history views applied the
 * event it waits for — never another tenant's. In one process (embedded mode) the history
 * service pushes the same changes straight to the hub.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { historyV1 } from '@codestep/contracts';
import { silentLogger } from '@codestep/core';
import type { ConsumedRecord, EventLog } from '@codestep/event-log';
import { Topics, envelope, toRecord, type Envelope } from '@codestep/events';
import { createHistoryChangesHub, tailHistoryChanges } from '@codestep/gateway-service';
import { createHistoryService, type HistoryService } from '@codestep/history-service';
import { createClient, implement, serve, type GrpcServer, type PromiseClient } from '@codestep/rpc';
import { testPki } from '@codestep/rpc/testing';
import { SqliteStore } from '@codestep/store-sqlite';

const FINISHED = new Set(['EnrollmentCompleted', 'EnrollmentFailed']);
let offset = 0;
const record = (env: Envelope): ConsumedRecord => ({ ...toRecord(env), topic: Topics.enrollments, partition: 0, offset: offset++ });
const started = (tenantId: string, id: string) =>
  envelope(
    { eventId: `s-${tenantId}-${id}`, tenantId, aggregateId: id, occurredAt: 1 },
    { $case: 'enrollmentStarted', value: { enrollmentId: id, workflowId: 'wf', workflowVersion: 1, object: undefined, actionCount: 1, trigger: undefined } },
  );
const completed = (tenantId: string, id: string) =>
  envelope({ eventId: `c-${tenantId}-${id}`, tenantId, aggregateId: id, occurredAt: 2 }, { $case: 'enrollmentCompleted', value: { enrollmentId: id, outputs: {} } });

describe('history changes pushed to waiting requests', () => {
  let store: SqliteStore;
  let server: GrpcServer;
  let history: PromiseClient<historyV1.HistoryClient>;
  let service: HistoryService;
  const hub = createHistoryChangesHub();

  before(async () => {
    const pki = await testPki();
    store = new SqliteStore({ path: ':memory:' });
    service = createHistoryService({
      store,
      eventLog: {} as EventLog,
      logger: silentLogger,
      onApplied: (events) => hub.publish(events.map((e) => ({ tenantId: e.tenantId, runId: e.correlationId || e.aggregateId, type: e.type }))),
    });
    server = await serve('127.0.0.1:0', [[historyV1.HistoryService, implement(historyV1.HistoryService, service.history)]], { tls: pki.tls('log') });
    history = createClient(historyV1.HistoryClient, `127.0.0.1:${server.port}`, { tls: pki.tls('gateway') });
  });
  after(async () => {
    history?.close();
    await server?.stop();
    await store?.close();
  });

  it('tells a watch over the Tail stream once the views hold the event it waits for, and not for another tenant’s', async () => {
    const watch = tailHistoryChanges(history.raw).watch('tnt_a', 'enr_1', FINISHED);
    try {
      await service.applyBatch([record(started('tnt_a', 'enr_1')), record(started('tnt_b', 'enr_1'))]);
      // The stream is being set up on the server while these are applied: another tenant's event
      // for the same id is published again and again until the watch could have seen it.
      for (let i = 0; i < 20; i++) {
        await service.applyBatch([record(completed('tnt_b', 'enr_1'))]);
        assert.equal(await watch.changed(50), false, 'another tenant’s enrollment of the same id');
      }
      let told = false;
      for (let i = 0; i < 100 && !told; i++) {
        await service.applyBatch([record(completed('tnt_a', 'enr_1'))]);
        told = await watch.changed(100);
      }
      assert.ok(told, 'told of its own enrollment’s completion');
      const view = await history.getEnrollment({ tenantId: 'tnt_a', enrollmentId: 'enr_1' });
      assert.equal(view.status, 'completed', 'what it was told of is in the views already');
    } finally {
      watch.close();
    }
  });

  it('tells a watch in the same process straight from the projection', async () => {
    const watch = hub.watch('tnt_a', 'enr_2', FINISHED);
    try {
      await service.applyBatch([record(started('tnt_a', 'enr_2')), record(completed('tnt_b', 'enr_2'))]);
      assert.equal(await watch.changed(0), false);
      await service.applyBatch([record(completed('tnt_a', 'enr_2'))]);
      assert.equal(await watch.changed(0), true, 'told as soon as the batch was applied');
    } finally {
      watch.close();
    }
  });
});
