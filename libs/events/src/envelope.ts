/**
 * Building, encoding and decoding event envelopes, and the topic each event type goes to.
 * Pure: ids and time are passed in.
 */
import { EventEnvelope } from '@codestep/contracts';
import { Topics, type Topic } from './topics.ts';

export type EventBody = NonNullable<EventEnvelope['event']>;
export type EventCase = EventBody['$case'];
export type EventOf<C extends EventCase> = Extract<EventBody, { $case: C }>['value'];

/** An envelope with its event present. */
export type Envelope = EventEnvelope & { event: EventBody };

export const SCHEMA_VERSION = 1;

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

/** The log record for an envelope; `traceparent` goes into headers, never the payload. */
export function toRecord(env: Envelope, traceparent?: string): EncodedRecord {
  const headers: Record<string, string> = { 'event-type': env.type, 'schema-version': String(env.schemaVersion), 'tenant-id': env.tenantId };
  if (traceparent) headers.traceparent = traceparent;
  return { topic: topicOf(env.event.$case), key: env.aggregateId, value: EventEnvelope.encode(env).finish(), headers, id: env.eventId };
}

/** Decodes a record's value; undefined for an event this version does not know (skip it). */
export function fromRecord(value: Uint8Array): Envelope | undefined {
  const env = EventEnvelope.decode(value);
  return env.event ? (env as Envelope) : undefined;
}
