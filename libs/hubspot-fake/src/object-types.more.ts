/**
 * The object types beyond the four core ones: line items and products, the activities HubSpot
 * keeps as CRM objects (calls, emails, notes, tasks, meetings, communications), and the spec a
 * custom object's schema turns into. Ids, default properties and scopes follow HubSpot's object
 * type table and the api-client's generated models.
 */
import type { ObjectTypeSpec } from './object-types.ts';

interface Simple {
  name: string;
  objectTypeId: string;
  singular: string;
  defaults: string[];
  known: string[];
  scope: string;
  query: string[];
}

function spec(s: Simple): ObjectTypeSpec {
  const always = ['createdate', 'hs_lastmodifieddate', 'hs_object_id'];
  return {
    name: s.name,
    objectTypeId: s.objectTypeId,
    singular: s.singular,
    lastModifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [...new Set([...always, ...s.defaults])].sort(),
    knownProperties: [...new Set([...always, 'hubspot_owner_id', ...s.defaults, ...s.known])].sort(),
    readScopes: [`${s.scope}.read`],
    writeScopes: [`${s.scope}.write`],
    queryProperties: s.query,
  };
}

const ACTIVITY_COMMON = ['hs_timestamp', 'hubspot_owner_id', 'hs_activity_type', 'hs_attachment_ids'];

export const MORE_OBJECT_TYPES: readonly ObjectTypeSpec[] = [
  spec({
    name: 'line_items',
    objectTypeId: '0-8',
    singular: 'line_item',
    defaults: ['amount', 'name', 'price', 'quantity'],
    known: ['description', 'discount', 'hs_discount_percentage', 'hs_product_id', 'hs_sku', 'hs_recurring_billing_period', 'recurringbillingfrequency', 'hs_line_item_currency_code', 'tax'],
    scope: 'crm.objects.line_items',
    query: ['name', 'description', 'hs_sku'],
  }),
  spec({
    name: 'products',
    objectTypeId: '0-7',
    singular: 'product',
    defaults: ['description', 'name', 'price'],
    known: ['hs_sku', 'hs_cost_of_goods_sold', 'recurringbillingfrequency', 'hs_recurring_billing_period'],
    scope: 'e-commerce',
    query: ['name', 'description', 'hs_sku'],
  }),
  spec({
    name: 'calls',
    objectTypeId: '0-48',
    singular: 'call',
    defaults: ['hs_call_body', 'hs_call_title'],
    known: [...ACTIVITY_COMMON, 'hs_call_direction', 'hs_call_disposition', 'hs_call_duration', 'hs_call_from_number', 'hs_call_to_number', 'hs_call_recording_url', 'hs_call_status'],
    scope: 'crm.objects.contacts',
    query: ['hs_call_title', 'hs_call_body'],
  }),
  spec({
    name: 'emails',
    objectTypeId: '0-49',
    singular: 'email',
    defaults: ['hs_email_subject', 'hs_email_text'],
    known: [...ACTIVITY_COMMON, 'hs_email_direction', 'hs_email_html', 'hs_email_status', 'hs_email_headers', 'hs_email_sender_email', 'hs_email_to_email'],
    scope: 'crm.objects.contacts',
    query: ['hs_email_subject', 'hs_email_text'],
  }),
  spec({
    name: 'notes',
    objectTypeId: '0-46',
    singular: 'note',
    defaults: ['hs_note_body'],
    known: ACTIVITY_COMMON,
    scope: 'crm.objects.contacts',
    query: ['hs_note_body'],
  }),
  spec({
    name: 'tasks',
    objectTypeId: '0-27',
    singular: 'task',
    defaults: ['hs_task_body', 'hs_task_priority', 'hs_task_status', 'hs_task_subject'],
    known: [...ACTIVITY_COMMON, 'hs_task_type', 'hs_task_completion_date', 'hs_task_reminders', 'hs_queue_membership_ids'],
    scope: 'crm.objects.contacts',
    query: ['hs_task_subject', 'hs_task_body'],
  }),
  spec({
    name: 'meetings',
    objectTypeId: '0-47',
    singular: 'meeting',
    defaults: ['hs_meeting_body', 'hs_meeting_end_time', 'hs_meeting_start_time', 'hs_meeting_title'],
    known: [...ACTIVITY_COMMON, 'hs_meeting_location', 'hs_meeting_outcome', 'hs_meeting_external_url', 'hs_internal_meeting_notes'],
    scope: 'crm.objects.contacts',
    query: ['hs_meeting_title', 'hs_meeting_body'],
  }),
  spec({
    name: 'communications',
    objectTypeId: '0-18',
    singular: 'communication',
    defaults: ['hs_communication_body', 'hs_communication_channel_type', 'hs_communication_logged_from'],
    known: ACTIVITY_COMMON,
    scope: 'crm.objects.contacts',
    query: ['hs_communication_body'],
  }),
];

/** A custom object's schema as the fake keeps it. */
export interface CustomObjectSchema {
  id: string;
  objectTypeId: string;
  name: string;
  fullyQualifiedName: string;
  portalId: number;
  labels: { singular: string; plural: string };
  primaryDisplayProperty: string;
  secondaryDisplayProperties: string[];
  requiredProperties: string[];
  searchableProperties: string[];
  properties: Array<{ name: string; label: string; type: string; fieldType: string }>;
  associatedObjects: string[];
  createdAt: number;
  updatedAt: number;
  spec: ObjectTypeSpec;
}

/** The spec of a custom object: scopes `crm.objects.custom.*`, its own properties as the known set. */
export function customObjectSpec(name: string, objectTypeId: string, properties: readonly string[], primaryDisplayProperty: string): ObjectTypeSpec {
  const always = ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id', 'createdate'];
  return {
    name,
    objectTypeId,
    singular: name,
    lastModifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [...new Set(['createdate', 'hs_lastmodifieddate', 'hs_object_id', primaryDisplayProperty])].sort(),
    knownProperties: [...new Set([...always, ...properties])].sort(),
    readScopes: ['crm.objects.custom.read'],
    writeScopes: ['crm.objects.custom.write'],
    queryProperties: [primaryDisplayProperty],
  };
}
