/**
 * Checks an action's `outputFields` against the declared output types, the way HubSpot's
 * workflow editor types them, and converts the lenient spellings HubSpot users write:
 *
 * | type | accepted | stored as |
 * |---|---|---|
 * | string | string; a number or boolean is converted; an object or array is stored as its JSON text (HubSpot passes such a value to the next action as text, and real actions parse it there) | string |
 * | number | finite number; a numeric string | number |
 * | boolean | boolean; `"true"` / `"false"` (any case) | boolean |
 * | datetime | integer UNIX ms; a digits-only string; an ISO 8601 string with a time zone (`2024-05-01T10:00:00Z`) or a date alone (midnight UTC) | UNIX ms |
 * | date | UNIX ms at midnight UTC; `YYYY-MM-DD`; an ISO string at midnight UTC | UNIX ms |
 * | enum | one of the declared options (a number or boolean is compared as text) | string |
 * | phone_number | digits with optional `+`, spaces, dots, dashes, parentheses and an extension | string |
 *
 * Without a declaration (the CLI), a string, number or boolean is kept as it is and an object
 * or array becomes its JSON text, as for a string output. `null` (or a missing value) leaves the output unset. Outputs that were not declared are
 * dropped with one warning line in the logs naming the first ten (not an error: actions often
 * return extra fields while they evolve); a declared name is at most 100 characters, so a longer
 * one is always undeclared. Without a declaration (the CLI), more than 250 outputs or a name
 * over 100 characters fails with `INVALID_OUTPUT` (`OUTPUT_FIELDS_POLICY`). Strings longer than 65,000 characters fail with
 * `OUTPUT_VALUES_TOO_LARGE`; any other mismatch fails with `INVALID_OUTPUT`, naming the field.
 * `hs_execution_state` is not an output: it becomes the result's `executionState`.
 */
import { OUTPUT_FIELDS_POLICY } from '@codestep/core';
import { MAX_NAMED_UNDECLARED_OUTPUTS, MAX_OUTPUT_STRING_CHARS } from './limits.ts';
import type { ExecutionError, OutputFieldSpec } from './sandbox.types.ts';

export type OutputValue = string | number | boolean;

export type OutputValidation =
  { ok: true; outputFields: Record<string, OutputValue>; executionState?: 'SUCCESS' | 'FAIL_CONTINUE'; warnings: string[] } | { ok: false; error: ExecutionError; warnings: string[] };

const DAY_MS = 86_400_000;
const MAX_TIME_MS = 8.64e15;
const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const PHONE = /^\+?[\d\s().-]{3,40}(\s*(x|ext\.?|#)\s*\d{1,10})?$/i;
const EXECUTION_STATE = 'hs_execution_state';
/** Problems listed in one error message; the rest are counted. */
const MAX_LISTED_PROBLEMS = 10;

type Check = { value: OutputValue } | { invalid: string } | { tooLarge: number };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function dateOnlyToMs(text: string): number | undefined {
  const match = DATE_ONLY.exec(text);
  if (!match) return undefined;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  const back = new Date(ms).toISOString().slice(0, 10);
  return back === text ? ms : undefined;
}

function toDatetime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) <= MAX_TIME_MS ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d+$/.test(text)) return toDatetime(Number(text));
  const dateOnly = dateOnlyToMs(text);
  if (dateOnly !== undefined) return dateOnly;
  if (!ISO_WITH_ZONE.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function checkString(value: unknown): Check {
  if (typeof value === 'number' && !Number.isFinite(value)) return { invalid: `${describe(value)} is not a finite number` };
  if (typeof value === 'number' || typeof value === 'boolean') return { value: String(value) };
  // Plain data (parsed from the action's JSON result): an object or array is kept as its JSON text.
  if (typeof value === 'object' && value !== null) return checkString(JSON.stringify(value));
  if (typeof value !== 'string') return { invalid: `expected a string, got ${describe(value)}` };
  return value.length > MAX_OUTPUT_STRING_CHARS ? { tooLarge: value.length } : { value };
}

function checkValue(spec: OutputFieldSpec | undefined, value: unknown): Check {
  if (spec === undefined) {
    if (typeof value === 'string') return checkString(value);
    if (typeof value === 'boolean') return { value };
    if (typeof value === 'number') return Number.isFinite(value) ? { value } : { invalid: `${describe(value)} is not a finite number` };
    if (typeof value === 'object' && value !== null) return checkString(value);
    return { invalid: `expected a string, number or boolean, got ${describe(value)}` };
  }
  switch (spec.type) {
    case 'string':
      return checkString(value);
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? { value } : { invalid: `${describe(value)} is not a finite number` };
      if (typeof value === 'string' && NUMERIC.test(value)) return { value: Number(value) };
      return { invalid: `expected a number, got ${describe(value)}` };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return { value: value.trim().toLowerCase() === 'true' };
      return { invalid: `expected a boolean, got ${describe(value)}` };
    }
    case 'datetime': {
      const ms = toDatetime(value);
      return ms === undefined ? { invalid: `expected a datetime as UNIX milliseconds or an ISO 8601 string with a time zone, got ${describe(value)}` } : { value: ms };
    }
    case 'date': {
      const ms = typeof value === 'string' ? (dateOnlyToMs(value.trim()) ?? toDatetime(value)) : toDatetime(value);
      if (ms === undefined || ms % DAY_MS !== 0) {
        return { invalid: `expected a date as UNIX milliseconds at midnight UTC or YYYY-MM-DD, got ${describe(value)}` };
      }
      return { value: ms };
    }
    case 'enum': {
      const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
      if (typeof text !== 'string') return { invalid: `expected one of the enum options, got ${describe(value)}` };
      if (spec.options && spec.options.length > 0 && !spec.options.includes(text)) {
        const shown = spec.options
          .slice(0, 10)
          .map((o) => JSON.stringify(o))
          .join(', ');
        return { invalid: `${describe(value)} is not one of the options (${shown}${spec.options.length > 10 ? ', …' : ''})` };
      }
      return checkString(text);
    }
    case 'phone_number': {
      const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
      if (typeof text !== 'string') return { invalid: `expected a phone number string, got ${describe(value)}` };
      const digits = text.replace(/\D/g, '').length;
      if (!PHONE.test(text.trim()) || digits < 3) return { invalid: `${describe(value)} is not a phone number` };
      return checkString(text.trim());
    }
    default:
      return { invalid: `the declared output type ${JSON.stringify((spec as { type: unknown }).type)} is unknown` };
  }
}

/** A field name as shown in a message: cut to the name cap, quoted, with invisible and bidirectional characters escaped. */
function shownName(name: string): string {
  const cut = name.length > OUTPUT_FIELDS_POLICY.maxNameChars ? `${name.slice(0, OUTPUT_FIELDS_POLICY.maxNameChars)}…` : name;
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** At most {@link MAX_LISTED_PROBLEMS} items, then how many more. */
function listed(items: string[], separator: string): string {
  const shown = items.slice(0, MAX_LISTED_PROBLEMS).join(separator);
  return items.length > MAX_LISTED_PROBLEMS ? `${shown}${separator}and ${items.length - MAX_LISTED_PROBLEMS} more` : shown;
}

/** The one warning line for every undeclared output, naming the first few. */
function undeclaredWarning(names: string[]): string {
  if (names.length === 1) return `output ${shownName(names[0]!)} is not declared in the action's outputs and was dropped`;
  const named = names.slice(0, MAX_NAMED_UNDECLARED_OUTPUTS).map(shownName).join(', ');
  const more = names.length > MAX_NAMED_UNDECLARED_OUTPUTS ? ` and ${names.length - MAX_NAMED_UNDECLARED_OUTPUTS} more` : '';
  return `${names.length} outputs are not declared in the action's outputs and were dropped: ${named}${more}`;
}

/** Without a declaration (the CLI), what is kept must still fit the output-field caps. */
function undeclaredShapeProblem(names: string[]): string | undefined {
  const { maxNameChars, maxFields } = OUTPUT_FIELDS_POLICY;
  if (names.length > maxFields) return `the action returned ${names.length} outputs; at most ${maxFields} outputs are kept: return fewer`;
  const long = names.find((name) => name.length > maxNameChars);
  return long === undefined ? undefined : `output name ${shownName(long)} is ${long.length} characters; output names are at most ${maxNameChars} characters`;
}

/**
 * Validates `outputFields` as the action returned it (already parsed from JSON, so plain data).
 * `spec` undefined: no declaration (the CLI without one) — any string, number or boolean goes,
 * under the output-field caps of `OUTPUT_FIELDS_POLICY` (else `INVALID_OUTPUT`). Undeclared
 * outputs give one warning line in all, however many there are.
 */
export function validateOutputs(raw: unknown, spec: OutputFieldSpec[] | undefined): OutputValidation {
  const warnings: string[] = [];
  if (raw === undefined || raw === null) return { ok: true, outputFields: {}, warnings };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, error: { code: 'INVALID_OUTPUT', message: `outputFields must be an object, got ${describe(raw)}` }, warnings };
  }
  const declared = spec ? new Map(spec.map((field) => [field.name, field])) : undefined;
  const outputFields: Record<string, OutputValue> = {};
  const invalid: string[] = [];
  const tooLarge: string[] = [];
  const undeclared: string[] = [];
  let executionState: 'SUCCESS' | 'FAIL_CONTINUE' | undefined;
  const entries = Object.entries(raw as Record<string, unknown>).filter(([name, value]) => name === EXECUTION_STATE || (value !== null && value !== undefined));
  const shapeProblem = declared ? undefined : undeclaredShapeProblem(entries.map(([name]) => name).filter((name) => name !== EXECUTION_STATE));
  if (shapeProblem) return { ok: false, error: { code: 'INVALID_OUTPUT', message: `Invalid outputs: ${shapeProblem}` }, warnings };
  for (const [name, value] of entries) {
    if (name === EXECUTION_STATE) {
      if (value === 'SUCCESS' || value === 'FAIL_CONTINUE') executionState = value;
      else if (value !== null && value !== undefined) invalid.push(`${EXECUTION_STATE}: expected "SUCCESS" or "FAIL_CONTINUE", got ${describe(value)}`);
      continue;
    }
    const fieldSpec = declared?.get(name);
    if (declared && !fieldSpec) {
      undeclared.push(name);
      continue;
    }
    const check = checkValue(fieldSpec, value);
    if ('value' in check) outputFields[name] = check.value;
    else if ('tooLarge' in check) tooLarge.push(`${name} (${check.tooLarge} characters)`);
    else invalid.push(`${name}: ${check.invalid}`);
  }
  if (undeclared.length > 0) warnings.push(undeclaredWarning(undeclared));
  if (tooLarge.length > 0) {
    return {
      ok: false,
      error: {
        code: 'OUTPUT_VALUES_TOO_LARGE',
        message: `Output values are limited to ${MAX_OUTPUT_STRING_CHARS} characters; too large: ${listed(tooLarge, ', ')}`,
      },
      warnings,
    };
  }
  if (invalid.length > 0) {
    return { ok: false, error: { code: 'INVALID_OUTPUT', message: `Invalid output ${listed(invalid, '; ')}` }, warnings };
  }
  return executionState ? { ok: true, outputFields, executionState, warnings } : { ok: true, outputFields, warnings };
}
