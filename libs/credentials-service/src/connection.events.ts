/**
 * Connection events on `codestep.connections.v1`, keyed `<tenant>/<handle>`. They say what
 * happened to a connection and never carry token material (the event types have no field
 * that could hold it). Every visible change gives a `ConnectionChanged` (the connection's new
 * view, which the projection keeps) after the event that names the change, if any.
 */
import { deterministicId } from '@codestep/core';
import { EventEnvelope } from '@codestep/contracts';
import { envelope, fromRecord, type Envelope, type EventBody } from '@codestep/events';
import { connectionId, type ConnectionDoc, type OutboxEntry } from './connection.model.ts';
import { snapshotOf } from './connections.projection.ts';

export type ConnectionEvent = Extract<EventBody, { $case: 'connectionAuthorized' | 'connectionRefreshed' | 'connectionNeedsReauth' | 'connectionRevoked' }>;

/**
 * The envelopes of one visible change of `doc` (already changed), numbered `sequence` for its
 * connection. Ids are deterministic in (connection, sequence, type), and the envelopes are
 * stored with the change before they are appended, so a retry appends the same bytes under
 * the same ids, never another payload.
 */
export function changeEvents(doc: ConnectionDoc, sequence: number, event?: ConnectionEvent): OutboxEntry[] {
  const aggregateId = connectionId(doc.tenantId, doc.handle);
  const meta = (type: string) => ({ eventId: deterministicId('evt', aggregateId, 'change', sequence, type), tenantId: doc.tenantId, aggregateId, occurredAt: doc.updatedAt });
  const out: Envelope[] = [];
  if (event) out.push(envelope(meta(event.$case), event));
  out.push(envelope(meta('connectionChanged'), { $case: 'connectionChanged', value: snapshotOf(doc, sequence) }));
  return out.map((env) => ({ eventId: env.eventId, type: env.type, encoded: Buffer.from(EventEnvelope.encode(env).finish()).toString('base64') }));
}

/** The envelopes of outbox entries, in order. */
export function outboxEnvelopes(entries: readonly OutboxEntry[]): Envelope[] {
  const out: Envelope[] = [];
  for (const entry of entries) {
    const env = fromRecord(Buffer.from(entry.encoded, 'base64'));
    if (env) out.push(env);
  }
  return out;
}
