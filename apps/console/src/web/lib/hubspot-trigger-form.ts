/**
 * A workflow's HubSpot CRM trigger as the editor edits it, and its mapping to and from
 * PUT/GET /v1/workflows/{id}/hubspot-trigger (`subscription` "<object>.<event>", `propertyName`
 * for a property change, `reenroll`). The re-enrollment choices are a table: a new policy of the
 * API is one more row, with the extra field it takes (if any) named there; the form, the body and
 * the refusal shown on its field follow from the row.
 */
import type { KeyValueStore } from './drafts.ts';

/** The CRM objects a subscription can name (the API's list; it refuses any other with its own message). */
export const TRIGGER_OBJECTS = [
  ['contact', 'Contact', 'CONTACT'],
  ['company', 'Company', 'COMPANY'],
  ['deal', 'Deal', 'DEAL'],
  ['ticket', 'Ticket', 'TICKET'],
  ['product', 'Product', 'PRODUCT'],
  ['line_item', 'Line item', 'LINE_ITEM'],
] as const;

export const TRIGGER_EVENTS = [
  ['creation', 'is created'],
  ['propertyChange', 'has a property changed'],
  ['deletion', 'is deleted'],
  ['merge', 'is merged'],
  ['restore', 'is restored'],
  ['associationChange', 'has an association changed'],
] as const;

/** One re-enrollment policy: its `reenroll` value, how it reads, and the body field it takes, if any (typed as text, sent as a number when it is one). */
export interface ReenrollOption {
  value: string;
  label: string;
  param?: { field: string; label: string; hint: string };
}

export const REENROLL_OPTIONS: readonly ReenrollOption[] = [
  { value: 'always', label: 'on every event (an object is enrolled again each time)' },
  { value: 'never', label: 'once per object (later events of an enrolled object are ignored)' },
  {
    value: 'after',
    label: 'again after a pause (events within N minutes of an object’s enrollment are ignored)',
    param: { field: 'reenrollAfterMinutes', label: 'Minutes before an object can enroll again', hint: '1 to 525600 (a year)' },
  },
];

export interface HubSpotTriggerForm {
  /** Off: the workflow has no HubSpot trigger (a save removes it). */
  enabled: boolean;
  object: string;
  event: string;
  propertyName: string;
  reenroll: string;
  /** The extra fields of re-enrollment policies, by body field, as typed. */
  params: Record<string, string>;
}

/** The object of a workflow's object type (`CONTACT` → `contact`), contact when none fits. */
export function objectOfType(objectType: string): string {
  const t = objectType.trim().toUpperCase();
  return TRIGGER_OBJECTS.find(([, , type]) => type === t || type === t.replace(/S$/, ''))?.[0] ?? 'contact';
}

export function emptyHubSpotTrigger(objectType: string): HubSpotTriggerForm {
  return { enabled: false, object: objectOfType(objectType), event: 'creation', propertyName: '', reenroll: 'always', params: {} };
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** The form of GET …/hubspot-trigger's answer (`subscription: null`: none). */
export function hubspotTriggerForm(raw: unknown, objectType: string, options: readonly ReenrollOption[] = REENROLL_OPTIONS): HubSpotTriggerForm {
  const empty = emptyHubSpotTrigger(objectType);
  if (typeof raw !== 'object' || raw === null) return empty;
  const t = raw as Record<string, unknown>;
  if (typeof t.subscription !== 'string' || !t.subscription) return empty;
  const [object = '', event = ''] = t.subscription.split('.');
  const params: Record<string, string> = {};
  for (const o of options) if (o.param && t[o.param.field] !== undefined && t[o.param.field] !== null) params[o.param.field] = str(t[o.param.field]);
  return { enabled: true, object, event, propertyName: str(t.propertyName), reenroll: str(t.reenroll) || 'always', params };
}

/** A number typed as one; other text goes to the API as typed, which says what is wrong with it. */
function paramValue(text: string): unknown {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

/** The body of PUT …/hubspot-trigger. */
export function hubspotTriggerBody(f: HubSpotTriggerForm, options: readonly ReenrollOption[] = REENROLL_OPTIONS): Record<string, unknown> {
  const body: Record<string, unknown> = { subscription: `${f.object}.${f.event}`, reenroll: f.reenroll };
  if (f.event === 'propertyChange' && f.propertyName.trim()) body.propertyName = f.propertyName.trim();
  const param = options.find((o) => o.value === f.reenroll)?.param;
  if (param) body[param.field] = paramValue(f.params[param.field] ?? '');
  return body;
}

/** The form field a refusal of the API is about (its message starts with the body field's name), if any. */
export function hubspotTriggerFieldOf(message: string, options: readonly ReenrollOption[] = REENROLL_OPTIONS): string | undefined {
  const fields = ['subscription', 'propertyName', 'reenroll', ...options.flatMap((o) => (o.param ? [o.param.field] : []))];
  const named = fields.filter((f) => new RegExp(`^${f}(?![A-Za-z0-9_])`).test(message));
  return named.sort((a, b) => b.length - a.length)[0];
}

/** Where a workflow's unsaved HubSpot trigger is kept (localStorage), so a reload or a refused save loses nothing typed. */
const draftKey = (workflowId: string) => `codestep.hubspot-trigger-draft.${workflowId}`;

export function loadTriggerDraft(store: KeyValueStore, workflowId: string): HubSpotTriggerForm | undefined {
  try {
    const f = JSON.parse(store.getItem(draftKey(workflowId)) ?? 'null') as Partial<HubSpotTriggerForm> | null;
    if (!f || typeof f.object !== 'string' || typeof f.event !== 'string') return undefined;
    return {
      enabled: f.enabled === true,
      object: f.object,
      event: f.event,
      propertyName: str(f.propertyName),
      reenroll: str(f.reenroll) || 'always',
      params: typeof f.params === 'object' && f.params ? f.params : {},
    };
  } catch {
    return undefined;
  }
}

export function saveTriggerDraft(store: KeyValueStore, workflowId: string, form: HubSpotTriggerForm): void {
  try {
    store.setItem(draftKey(workflowId), JSON.stringify(form));
  } catch {
    // A full or disabled storage: the draft lives only in the page.
  }
}

export function clearTriggerDraft(store: KeyValueStore, workflowId: string): void {
  store.removeItem(draftKey(workflowId));
}
