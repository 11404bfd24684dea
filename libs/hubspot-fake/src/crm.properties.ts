/**
 * Property values the way HubSpot treats them: always strings on the wire, numbers and booleans
 * written as their text, an empty string (or null) clearing a value, datetimes accepted as epoch
 * milliseconds or ISO 8601 and returned like Java's `Instant.toString()` (no fraction when the
 * milliseconds are zero). Reads return only the properties asked for, plus the few HubSpot
 * always adds, with `null` for those that are unset.
 */
import { DATETIME_PROPERTIES, isReadOnlyProperty, type ObjectTypeSpec } from './object-types.ts';
import type { PropertyProblem } from './hubspot-errors.ts';

/** `2024-05-01T10:00:00Z`, or `2024-05-01T10:00:00.123Z` when there are milliseconds. */
export function formatInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Epoch milliseconds (number or digits) or an ISO 8601 date/datetime; undefined when neither. */
export function parseDatetime(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  if (/^-?\d+$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface WriteRules {
  /** Reject properties the portal does not define (HubSpot does; off by default, see README). */
  strict: boolean;
  /** Extra property names the portal defines, per object type. */
  customProperties: ReadonlySet<string>;
}

export type NormalizedWrite = { ok: true; values: Map<string, string | null> } | { ok: false; problems: PropertyProblem[] } | { ok: false; invalidInput: string };

/**
 * Turns a request's `properties` object into stored strings (`null` = clear), or the list of
 * problems HubSpot would report for it, every bad property at once.
 */
export function normalizeWrite(spec: ObjectTypeSpec, input: unknown, rules: WriteRules): NormalizedWrite {
  if (input === undefined || input === null) return { ok: true, values: new Map() };
  if (typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, invalidInput: 'properties must be an object of property names to values' };
  }
  const values = new Map<string, string | null>();
  const problems: PropertyProblem[] = [];
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    if (rules.strict && !spec.knownProperties.includes(name) && !rules.customProperties.has(name)) {
      problems.push({ name, code: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (isReadOnlyProperty(spec, name)) {
      problems.push({ name, code: 'READ_ONLY_VALUE', message: `"${name}" is a calculated property; its value cannot be set.` });
      continue;
    }
    if (raw === null || raw === '') {
      values.set(name, null);
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      return { ok: false, invalidInput: `value of property ${name} must be a string, number or boolean` };
    }
    let text = String(raw);
    if (DATETIME_PROPERTIES.has(name)) {
      const ms = parseDatetime(typeof raw === 'number' ? raw : text);
      if (ms === undefined) {
        problems.push({ name, code: 'INVALID_LONG', message: `${text} was not a valid long.`, value: text });
        continue;
      }
      text = formatInstant(ms);
    }
    if (spec.name === 'contacts' && name === 'email' && !EMAIL.test(text)) {
      problems.push({ name, code: 'INVALID_EMAIL', message: `Email address ${text} is invalid`, value: text });
      continue;
    }
    values.set(name, text);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}

/** The properties HubSpot adds to any read that names properties. */
export function alwaysReturned(spec: ObjectTypeSpec): string[] {
  return ['createdate', 'hs_object_id', spec.lastModifiedProperty];
}

/**
 * The `properties` object of a read: the defaults when nothing was asked for, otherwise the
 * names asked for plus {@link alwaysReturned}; unset ones are `null`. With `isKnown`, names the
 * portal does not define are left out, as HubSpot does.
 */
export function propertiesView(
  spec: ObjectTypeSpec,
  stored: ReadonlyMap<string, string>,
  requested: readonly string[] | undefined,
  isKnown?: (name: string) => boolean,
): Record<string, string | null> {
  const names =
    requested === undefined || requested.length === 0 ? [...spec.defaultProperties] : [...new Set([...requested, ...alwaysReturned(spec)])].filter((n) => n !== '' && (!isKnown || isKnown(n)));
  names.sort();
  const view: Record<string, string | null> = {};
  for (const name of names) view[name] = stored.get(name) ?? null;
  return view;
}

/** Every stored property, sorted by name: what create and update return. */
export function allProperties(stored: ReadonlyMap<string, string>): Record<string, string> {
  const view: Record<string, string> = {};
  for (const name of [...stored.keys()].sort()) view[name] = stored.get(name) as string;
  return view;
}

/** `properties=a,b` and `properties=a&properties=b` both name properties. */
export function requestedProperties(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}
