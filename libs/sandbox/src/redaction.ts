/**
 * Removes secret values (and OAuth tokens handed to the code) from text that leaves the
 * sandbox: log lines and error messages. Longest values first, so a secret that contains
 * another is replaced whole.
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
