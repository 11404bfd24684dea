/**
 * The CRM object types a workflow (and an enrollment) can be about, as HubSpot names them. A
 * standard type is accepted in each of HubSpot's spellings (`CONTACT`, `contact`, `contacts`,
 * its id `0-1`) and saved as its singular upper-case name (`CONTACT`, as HubSpot's workflow
 * events and earlier codestep versions write it); a custom object by its id (`2-123456`) or its
 * fully qualified name (`p_cars`, `p12345_cars`), kept as given.
 */
import { ValidationError } from '@codestep/core';

/** Standard types: canonical name → HubSpot's object type id and CRM API path segment. */
export const CRM_OBJECT_TYPES = {
  CONTACT: { id: '0-1', path: 'contacts' },
  COMPANY: { id: '0-2', path: 'companies' },
  DEAL: { id: '0-3', path: 'deals' },
  TICKET: { id: '0-5', path: 'tickets' },
  PRODUCT: { id: '0-7', path: 'products' },
  LINE_ITEM: { id: '0-8', path: 'line_items' },
  QUOTE: { id: '0-14', path: 'quotes' },
  COMMUNICATION: { id: '0-18', path: 'communications' },
  TASK: { id: '0-27', path: 'tasks' },
  NOTE: { id: '0-46', path: 'notes' },
  MEETING: { id: '0-47', path: 'meetings' },
  CALL: { id: '0-48', path: 'calls' },
  EMAIL: { id: '0-49', path: 'emails' },
  FEEDBACK_SUBMISSION: { id: '0-19', path: 'feedback_submissions' },
  LEAD: { id: '0-136', path: 'leads' },
} as const;

type StandardType = keyof typeof CRM_OBJECT_TYPES;

/**
 * A JsWorkflows workflow started by its webhook, and the object a webhook trigger enrolls: not a
 * CRM record, so it matches a workflow of any type (and a WEBHOOK workflow takes any object).
 */
export const WEBHOOK_OBJECT_TYPE = 'WEBHOOK';
/** A workflow only its schedule trigger starts (a tick's object is not a CRM record either). */
export const SCHEDULE_OBJECT_TYPE = 'SCHEDULE';
/** The object types that are not CRM records: they match a workflow of any type. */
const NOT_CRM = new Set([WEBHOOK_OBJECT_TYPE, SCHEDULE_OBJECT_TYPE]);

const CUSTOM_ID = /^2-\d{1,12}$/;
const CUSTOM_NAME = /^p\d*_[a-z][a-z0-9_]{0,99}$/i;

const ALIASES = new Map<string, StandardType>();
for (const [name, { id, path }] of Object.entries(CRM_OBJECT_TYPES) as Array<[StandardType, { id: string; path: string }]>) {
  ALIASES.set(name, name);
  ALIASES.set(id, name);
  ALIASES.set(path.toUpperCase(), name);
}

/** The canonical form of an object type, or undefined when it is none of the accepted ones. */
function canonical(value: string): string | undefined {
  const v = value.trim();
  const standard = ALIASES.get(v.toUpperCase());
  if (standard) return standard;
  if (NOT_CRM.has(v.toUpperCase())) return v.toUpperCase();
  if (CUSTOM_ID.test(v)) return v;
  if (CUSTOM_NAME.test(v)) return v.toLowerCase();
  return undefined;
}

/** Why `value` is not an object type (undefined: it is one). */
export function objectTypeProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || canonical(value) === undefined)
    return `${JSON.stringify(value)} is not a CRM object type: use one of ${Object.values(CRM_OBJECT_TYPES)
      .map((t) => t.path)
      .join(
        ', ',
      )} (or CONTACT, COMPANY, … or their ids 0-1, 0-2, …), a custom object's id ("2-123456") or fully qualified name ("p_cars"), WEBHOOK for a workflow its webhook starts, or SCHEDULE for one only its schedule starts`;
  return undefined;
}

/**
 * A workflow's object type as saved (CONTACT, COMPANY, …, or a custom object's id).
 * @throws ValidationError naming `field` and the accepted types.
 */
export function parseObjectType(value: unknown, field: string): string {
  const problem = objectTypeProblem(value);
  if (problem) throw new ValidationError(`${field}: ${problem}`, { field });
  return canonical(value as string)!;
}

/**
 * Whether an enrollment's object type fits a workflow's: the same type in any spelling, a webhook
 * payload or a schedule tick (any workflow), or a workflow saved before types were checked whose type is not one of
 * them (compared as text, case aside).
 */
export function sameObjectType(workflowType: string, objectType: string): boolean {
  if (!objectType || !workflowType || NOT_CRM.has(objectType.toUpperCase()) || NOT_CRM.has(workflowType.toUpperCase())) return true;
  const a = canonical(workflowType);
  const b = canonical(objectType);
  if (a === undefined) return workflowType.toUpperCase() === objectType.toUpperCase();
  return a === b;
}

/** The CRM API's path segment of a type (`contacts`, `2-123456`, `p_cars`), or undefined when it is none. */
export function crmObjectPath(objectType: string): string | undefined {
  const c = canonical(objectType);
  if (c === undefined || NOT_CRM.has(c)) return undefined;
  return c in CRM_OBJECT_TYPES ? CRM_OBJECT_TYPES[c as StandardType].path : c;
}
