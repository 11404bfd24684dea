/**
 * Building, encoding and decoding event envelopes, and the topic each event type goes to.
 * Pure: ids and time are passed in.
 */
import { BinaryWriter, EventEnvelope } from '@codestep/contracts';
import { Topics, type Topic } from './topics.ts';

export type EventBody = NonNullable<EventEnvelope['event']>;
export type EventCase = EventBody['$case'];
export type EventOf<C extends EventCase> = Extract<EventBody, { $case: C }>['value'];

/** An envelope with its event present. */
export type Envelope = EventEnvelope & { event: EventBody };

export const SCHEMA_VERSION = 1;

/**
 * What each record value decodes to (null: an event this version does not know), by the value
 * itself: the consumer groups of one process that are handed one committed record (the SQLite
 * log hands every caught-up consumer the appended record as it is) decode it once and share it,
 * and a record made here by {@link toRecord} is not decoded at all.
 */
const decoded = new WeakMap<Uint8Array, Envelope | null>();

const TYPE_NAMES: Record<EventCase, string> = {
  workflowPublished: 'WorkflowPublished',
  workflowStatusChanged: 'WorkflowStatusChanged',
  scheduleTicked: 'ScheduleTicked',
  enrollmentStarted: 'EnrollmentStarted',
  enrollmentCompleted: 'EnrollmentCompleted',
  enrollmentFailed: 'EnrollmentFailed',
  enrollmentRetried: 'EnrollmentRetried',
  retryJobStarted: 'RetryJobStarted',
  actionRequested: 'ActionRequested',
  actionStarted: 'ActionStarted',
  actionLogged: 'ActionLogged',
  actionSucceeded: 'ActionSucceeded',
  actionFailed: 'ActionFailed',
  actionRetryScheduled: 'ActionRetryScheduled',
  stepScheduled: 'StepScheduled',
  waitStarted: 'WaitStarted',
  waitResumed: 'WaitResumed',
  waitTimedOut: 'WaitTimedOut',
  connectionAuthorized: 'ConnectionAuthorized',
  connectionRefreshed: 'ConnectionRefreshed',
  connectionNeedsReauth: 'ConnectionNeedsReauth',
  connectionRevoked: 'ConnectionRevoked',
  connectionChanged: 'ConnectionChanged',
  tenantCreated: 'TenantCreated',
  apiKeyCreated: 'ApiKeyCreated',
  tenantLimitsSet: 'TenantLimitsSet',
  apiKeyRevoked: 'ApiKeyRevoked',
  hubspotCallbackCompleted: 'HubSpotCallbackCompleted',
  hubspotTriggerSet: 'HubSpotTriggerSet',
  hubspotCallbackAttempted: 'HubSpotCallbackAttempted',
};

const TENANT_EVENTS: ReadonlySet<EventCase> = new Set(['tenantCreated', 'apiKeyCreated', 'tenantLimitsSet', 'apiKeyRevoked']);

export function topicOf(c: EventCase): Topic {
  if (c === 'workflowPublished' || c === 'workflowStatusChanged' || c === 'scheduleTicked') return Topics.workflows;
  // A callback's attempts go with its enrollment (its history shows them); its outcome has a topic of its own.
  if (c.startsWith('enrollment') || c === 'retryJobStarted' || c === 'hubspotCallbackAttempted') return Topics.enrollments;
  if (c === 'actionLogged') return Topics.consoleLines;
  if (c.startsWith('action') || c === 'stepScheduled' || c.startsWith('wait')) return Topics.actions;
  if (TENANT_EVENTS.has(c)) return Topics.tenants;
  if (c === 'hubspotCallbackCompleted' || c === 'hubspotTriggerSet') return Topics.hubspot;
  return Topics.connections;
}

export interface EnvelopeMeta {
  eventId: string;
  tenantId: string;
  aggregateId: string;
  occurredAt: number;
  causationId?: string;
  correlationId?: string;
}

export function envelope(meta: EnvelopeMeta, event: EventBody): Envelope {
  return {
    eventId: meta.eventId,
    type: TYPE_NAMES[event.$case],
    schemaVersion: SCHEMA_VERSION,
    tenantId: meta.tenantId,
    aggregateId: meta.aggregateId,
    occurredAt: meta.occurredAt,
    causationId: meta.causationId ?? '',
    correlationId: meta.correlationId ?? '',
    event,
  };
}

export interface EncodedRecord {
  topic: Topic;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  id: string;
}

/**
 * The log record for an envelope; `traceparent` goes into headers, never the payload. The
 * consumers in this process that are handed this very record get the envelope without decoding
 * it (see {@link fromRecord}).
 */
export function toRecord(env: Envelope, traceparent?: string): EncodedRecord {
  const headers: Record<string, string> = { 'event-type': env.type, 'schema-version': String(env.schemaVersion), 'tenant-id': env.tenantId };
  if (traceparent) headers.traceparent = traceparent;
  const value = encoded(env);
  const shared = decodedCopy(env);
  if (shared) decoded.set(value, shared);
  return { topic: topicOf(env.event.$case), key: env.aggregateId, value, headers, id: env.eventId };
}

/**
 * One writer for the envelopes this thread encodes: its buffer, once grown, serves every record
 * (`finish` copies the bytes out and resets it) instead of a new one grown from 128 bytes each time.
 */
let writer = new BinaryWriter();
const KEEP_WRITER_BYTES = 1 << 20;

function encoded(env: Envelope): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = EventEnvelope.encode(env, writer).finish();
  } catch (error) {
    writer = new BinaryWriter(); // left in the middle of a message
    throw error;
  }
  if (bytes.length > KEEP_WRITER_BYTES) writer = new BinaryWriter(); // a buffer this large is not kept
  return bytes;
}

/**
 * What decoding `env`'s encoding gives, without the round trip, frozen: a copy by the schema
 * (`fromPartial` fills the defaults decoding fills and leaves out what the schema does not have).
 * Undefined when a string is not well-formed UTF-16 (encoding replaces its lone surrogates, so
 * only decoding gives what consumers elsewhere and replays will see).
 */
function decodedCopy(env: Envelope): Envelope | undefined {
  const copy = EventEnvelope.fromPartial(env);
  return copy.event && undefinedAsCopied(env, copy) && frozenIfWellFormed(copy) ? (copy as Envelope) : undefined;
}

/**
 * False where `o` holds undefined that the copy does not hold as undefined: a map's value (the
 * copy leaves it out, encoding writes "undefined") or a scalar (the copy has its default).
 */
function undefinedAsCopied(o: unknown, copy: unknown): boolean {
  if (typeof o !== 'object' || o === null || ArrayBuffer.isView(o)) return true;
  if (typeof copy !== 'object' || copy === null) return false;
  const c = copy as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined ? !(k in c) || c[k] !== undefined : !undefinedAsCopied(v, k in c ? c[k] : v)) return false;
  }
  return true;
}

/** Freezes `o` through and through; false (and stops) at a string or a key that is not well-formed. */
function frozenIfWellFormed(o: unknown): boolean {
  if (typeof o === 'string') return o.isWellFormed();
  if (typeof o !== 'object' || o === null || ArrayBuffer.isView(o)) return true;
  for (const [k, v] of Object.entries(o)) if (!k.isWellFormed() || !frozenIfWellFormed(v)) return false;
  Object.freeze(o);
  return true;
}

/**
 * Decodes a record's value; undefined for an event this version does not know (skip it). The
 * envelope is shared by every caller given the same value, so it is frozen, deeply: copy what
 * you change (`{ ...env, ... }`).
 */
export function fromRecord(value: Uint8Array): Envelope | undefined {
  const known = decoded.get(value);
  if (known !== undefined) return known ?? undefined;
  const env = EventEnvelope.decode(value);
  const out = env.event ? deepFreeze(env as Envelope) : undefined;
  decoded.set(value, out ?? null);
  return out;
}

/** Freezes `o` and every object and array in it (byte arrays, which cannot be frozen, stay as they are). */
function deepFreeze<T>(o: T): T {
  if (typeof o !== 'object' || o === null || ArrayBuffer.isView(o) || Object.isFrozen(o)) return o;
  for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}
