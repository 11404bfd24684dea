/**
 * Removes secret values (and OAuth tokens handed to the code) from text that leaves the sandbox:
 * log lines and error messages. The selected secrets' values (not tokens: a JsWorkflows action
 * may hand its token on deliberately) are also removed from a result's strings (output values, a
 * JsWorkflows return value), so the executor, the event log and the projections never hold them.
 * Longest values first, so a secret that contains another is replaced whole.
 */
import { MIN_REDACTED_SECRET_CHARS } from './limits.ts';

export const REDACTED = '[REDACTED]';

export interface Redactor {
  (text: string): string;
  /** Adds a value to redact from now on (an OAuth token obtained during the execution). */
  add(value: string): void;
}

export function createRedactor(values: Iterable<string>): Redactor {
  let secrets: string[] = [];
  const add = (value: string) => {
    if (typeof value !== 'string' || value.length < MIN_REDACTED_SECRET_CHARS || secrets.includes(value)) return;
    secrets = [...secrets, value].sort((a, b) => b.length - a.length);
  };
  for (const value of values) add(value);
  const redact = ((text: string) => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
    return out;
  }) as Redactor;
  redact.add = add;
  return redact;
}

/**
 * A number whose decimal text holds a secret (a numeric PIN or account number returned as a
 * number) becomes the redacted text: the value must not be stored, so its type gives way (a
 * declared `number` output then fails validation naming the field rather than keeping it).
 */
function redactNumber(value: number, redact: Redactor): number | string {
  const text = String(value);
  const clean = redact(text);
  return clean === text ? value : clean;
}

/**
 * Redacts every string (and number whose text holds a secret) in `value` (JSON data the worker parsed, so plain, acyclic and its own):
 * string values and object keys (not array indices), at any depth, in place. Iterative, so a
 * deeply nested result cannot overflow the stack; properties are defined, not assigned, so a
 * `__proto__` key is redacted like any other. Returns the value (a string is returned redacted).
 */
export function redactValue(value: unknown, redact: Redactor): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'number') return redactNumber(value, redact);
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null) continue;
    const record = node as Record<string, unknown>;
    const isArray = Array.isArray(node);
    for (const key of Object.keys(record)) {
      const item = record[key];
      if (typeof item === 'object' && item !== null) pending.push(item);
      const cleanKey = isArray ? key : redact(key);
      const cleanItem = typeof item === 'string' ? redact(item) : typeof item === 'number' ? redactNumber(item, redact) : item;
      if (cleanKey === key && cleanItem === item) continue;
      if (cleanKey !== key) delete record[key];
      Object.defineProperty(record, cleanKey, { value: cleanItem, writable: true, enumerable: true, configurable: true });
    }
  }
  return value;
}

/**
 * Redacts a parsed result's `outputFields` and `returnValue` in place, before they are validated
 * or leave the worker, so neither the stored result nor a validation message shows a secret.
 */
export function redactResultData(parsed: { outputFields?: unknown; returnValue?: unknown }, redact: Redactor): void {
  if (parsed.outputFields !== undefined) parsed.outputFields = redactValue(parsed.outputFields, redact);
  if (parsed.returnValue !== undefined) parsed.returnValue = redactValue(parsed.returnValue, redact);
}
