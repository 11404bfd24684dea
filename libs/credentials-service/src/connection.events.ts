/**
 * Connection events on `codestep.connections.v1`, keyed `<tenant>/<handle>`. They say what
 * happened to a connection and never carry token material (the event types have no field
 * that could hold it).
 */
import { deterministicId } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { envelope, toRecord, type EventBody } from '@codestep/events';
import { currentTraceparent } from '@codestep/telemetry';
import { connectionId } from './connection.model.ts';

export type ConnectionEvent = Extract<EventBody, { $case: 'connectionAuthorized' | 'connectionRefreshed' | 'connectionNeedsReauth' | 'connectionRevoked' }>;

export interface ConnectionEventMeta {
  tenantId: string;
  handle: string;
  /** The stored connection version this event describes: with it the event id is deterministic. */
  version: number;
  occurredAt: number;
}

export async function appendConnectionEvent(eventLog: EventLog, meta: ConnectionEventMeta, event: ConnectionEvent): Promise<void> {
  const aggregateId = connectionId(meta.tenantId, meta.handle);
  const env = envelope(
    {
      eventId: deterministicId('evt', aggregateId, event.$case, meta.version),
      tenantId: meta.tenantId,
      aggregateId,
      occurredAt: meta.occurredAt,
    },
    event,
  );
  await eventLog.append([toRecord(env, currentTraceparent())]);
}
