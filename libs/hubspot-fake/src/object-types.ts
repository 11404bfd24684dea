import { MORE_OBJECT_TYPES } from './object-types.more.ts';

/**
 * The CRM object types the fake serves, with what HubSpot ties to each: the path names and
 * `0-N` ids that address it, the properties a read returns by default, the property that holds
 * the last-modified time (contacts differ from the rest), and the scopes a token needs.
 */

/** `contacts`, `companies`, …, the activity types, or a custom object's name (its schema's). */
export type CrmObjectType = string;

export interface ObjectTypeSpec {
  readonly name: CrmObjectType;
  /** HubSpot's object type id, accepted in the path instead of the name. */
  readonly objectTypeId: string;
  /** `contact`, `line_item`, …: the word HubSpot's association type names use. */
  readonly singular: string;
  /** Contacts keep `lastmodifieddate`; companies, deals and tickets `hs_lastmodifieddate`. */
  readonly lastModifiedProperty: 'lastmodifieddate' | 'hs_lastmodifieddate';
  /** Returned by a read or search that names no properties. */
  readonly defaultProperties: readonly string[];
  /** Properties a standard portal defines; only consulted when `strictProperties` is on. */
  readonly knownProperties: readonly string[];
  /** Any one of these lets a token read the type. */
  readonly readScopes: readonly string[];
  /** Any one of these lets a token create, update or archive the type. */
  readonly writeScopes: readonly string[];
  /** Properties the search `query` string is matched against. */
  readonly queryProperties: readonly string[];
}

const CONTACTS: ObjectTypeSpec = {
  name: 'contacts',
  objectTypeId: '0-1',
  singular: 'contact',
  lastModifiedProperty: 'lastmodifieddate',
  defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  knownProperties: [
    'address',
    'annualrevenue',
    'associatedcompanyid',
    'city',
    'company',
    'country',
    'createdate',
    'date_of_birth',
    'email',
    'fax',
    'firstname',
    'hs_additional_emails',
    'hs_email_domain',
    'hs_language',
    'hs_lead_status',
    'hs_object_id',
    'hs_persona',
    'hs_timezone',
    'hubspot_owner_id',
    'industry',
    'jobtitle',
    'lastmodifieddate',
    'lastname',
    'lifecyclestage',
    'message',
    'mobilephone',
    'notes_last_updated',
    'numemployees',
    'phone',
    'salutation',
    'state',
    'website',
    'zip',
  ],
  readScopes: ['crm.objects.contacts.read'],
  writeScopes: ['crm.objects.contacts.write'],
  queryProperties: ['firstname', 'lastname', 'email', 'phone', 'hs_additional_emails', 'fax', 'mobilephone', 'company'],
};

const COMPANIES: ObjectTypeSpec = {
  name: 'companies',
  objectTypeId: '0-2',
  singular: 'company',
  lastModifiedProperty: 'hs_lastmodifieddate',
  defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  knownProperties: [
    'address',
    'address2',
    'annualrevenue',
    'city',
    'country',
    'createdate',
    'description',
    'domain',
    'founded_year',
    'hs_lastmodifieddate',
    'hs_lead_status',
    'hs_object_id',
    'hubspot_owner_id',
    'industry',
    'is_public',
    'lifecyclestage',
    'linkedin_company_page',
    'name',
    'numberofemployees',
    'phone',
    'state',
    'timezone',
    'type',
    'website',
    'zip',
  ],
  readScopes: ['crm.objects.companies.read'],
  writeScopes: ['crm.objects.companies.write'],
  queryProperties: ['name', 'domain', 'website', 'phone'],
};

const DEALS: ObjectTypeSpec = {
  name: 'deals',
  objectTypeId: '0-3',
  singular: 'deal',
  lastModifiedProperty: 'hs_lastmodifieddate',
  defaultProperties: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
  knownProperties: [
    'amount',
    'closed_lost_reason',
    'closed_won_reason',
    'closedate',
    'createdate',
    'deal_currency_code',
    'dealname',
    'dealstage',
    'dealtype',
    'description',
    'hs_deal_stage_probability',
    'hs_forecast_amount',
    'hs_forecast_probability',
    'hs_lastmodifieddate',
    'hs_next_step',
    'hs_object_id',
    'hs_priority',
    'hubspot_owner_id',
    'num_associated_contacts',
    'pipeline',
  ],
  readScopes: ['crm.objects.deals.read'],
  writeScopes: ['crm.objects.deals.write'],
  queryProperties: ['dealname'],
};

const TICKETS: ObjectTypeSpec = {
  name: 'tickets',
  objectTypeId: '0-5',
  singular: 'ticket',
  lastModifiedProperty: 'hs_lastmodifieddate',
  defaultProperties: ['content', 'createdate', 'hs_lastmodifieddate', 'hs_object_id', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_category', 'hs_ticket_priority', 'subject'],
  knownProperties: [
    'closed_date',
    'content',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
    'hs_pipeline',
    'hs_pipeline_stage',
    'hs_resolution',
    'hs_ticket_category',
    'hs_ticket_priority',
    'hubspot_owner_id',
    'source_type',
    'subject',
    'time_to_close',
  ],
  // Tickets were guarded by the single legacy `tickets` scope before granular scopes existed;
  // apps in the wild hold either.
  readScopes: ['tickets', 'crm.objects.tickets.read'],
  writeScopes: ['tickets', 'crm.objects.tickets.write'],
  queryProperties: ['subject', 'content'],
};

export const OBJECT_TYPES: readonly ObjectTypeSpec[] = [CONTACTS, COMPANIES, DEALS, TICKETS, ...MORE_OBJECT_TYPES];

/** Every scope the fake checks; what a token configured without scopes reports holding. */
export const ALL_SCOPES: readonly string[] = [...new Set(OBJECT_TYPES.flatMap((t) => [...t.readScopes, ...t.writeScopes]))].sort();

const BY_SEGMENT = new Map<string, ObjectTypeSpec>();
for (const spec of OBJECT_TYPES) {
  BY_SEGMENT.set(spec.name, spec);
  BY_SEGMENT.set(spec.singular, spec); // contact, company, line_item, …
  BY_SEGMENT.set(spec.objectTypeId, spec);
}

/** The spec for a path segment (`contacts`, `contact`, `0-1`, case-insensitive), if the fake serves it. */
export function resolveObjectType(segment: string): ObjectTypeSpec | undefined {
  return BY_SEGMENT.get(segment.toLowerCase());
}

/** Properties nobody can write: HubSpot computes them. */
export function isReadOnlyProperty(spec: ObjectTypeSpec, name: string): boolean {
  return name === 'hs_object_id' || name === spec.lastModifiedProperty;
}

/** Properties HubSpot stores as datetimes; writes accept epoch milliseconds or ISO 8601. */
export const DATETIME_PROPERTIES: ReadonlySet<string> = new Set([
  'createdate',
  'closedate',
  'closed_date',
  'notes_last_updated',
  'lastmodifieddate',
  'hs_lastmodifieddate',
  'hs_timestamp',
  'hs_meeting_start_time',
  'hs_meeting_end_time',
  'hs_task_completion_date',
]);
