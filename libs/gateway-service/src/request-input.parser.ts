/**
 * Parsing of what a client sends, before any handler sees it: the request target, path
 * segments, JSON bodies and query parameters. Each refuses bad input with a code of the
 * catalogue and a message naming what was wrong, so nothing a client sends reaches a handler (or
 * a gRPC encoder, or a recursive serialiser) in a shape that would make it throw a 500.
 */
import { CodestepError, ValidationError } from '@codestep/core';

/** Nesting depth of a JSON body past which it is refused (serde_json's default; no API body needs more than a few levels). */
export const MAX_JSON_DEPTH = 128;

/** An input error at the HTTP edge, with a code of the catalogue. */
export class HttpInputError extends CodestepError {
  constructor(code: 'INVALID_JSON' | 'PAYLOAD_TOO_LARGE' | 'INVALID_ARGUMENT', message: string) {
    super(code, message);
    this.name = 'HttpInputError';
  }
}

/**
 * Splits a request target into its raw path and its query. Origin-form (`/path?q`) is taken as
 * sent, never resolved against a base: `//host/x` is a path, not another host.
 * @throws HttpInputError when the target is neither origin-form nor an absolute http(s) URL.
 */
export function parseTarget(target: string): { path: string; query: URLSearchParams } {
  if (target.startsWith('/')) {
    const q = target.indexOf('?');
    const raw = q < 0 ? target : target.slice(0, q);
    return { path: raw.split('#')[0]!, query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1).split('#')[0]) };
  }
  if (URL.canParse(target) && /^https?:\/\//i.test(target)) {
    const url = new URL(target);
    return { path: url.pathname, query: url.searchParams };
  }
  throw new HttpInputError('INVALID_ARGUMENT', `the request target ${JSON.stringify(target.slice(0, 100))} is not a path: send a path starting with "/", like /v1/workflows`);
}

/**
 * Decodes one path segment.
 * @throws HttpInputError naming the segment when its percent-encoding is not valid UTF-8.
 */
export function decodeSegment(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpInputError('INVALID_ARGUMENT', `path parameter "${name}" is not valid percent-encoding (${JSON.stringify(raw.slice(0, 100))}): encode it with encodeURIComponent`);
  }
}

/**
 * The deepest nesting of arrays and objects in a JSON text, counted without parsing it (so a
 * body nested deeper than any parser or serialiser copes with never becomes a value).
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/**
 * Parses a JSON body.
 * @throws HttpInputError INVALID_JSON when it is not JSON or is nested deeper than `maxDepth`.
 */
export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const depth = jsonDepth(text);
  if (depth > maxDepth) throw new HttpInputError('INVALID_JSON', `request body is nested ${depth} levels deep; at most ${maxDepth} levels of arrays and objects are accepted`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpInputError('INVALID_JSON', `request body is not valid JSON (${e instanceof Error ? e.message : String(e)}); send Content-Type: application/json`);
  }
}

/**
 * An integer query parameter within bounds (the gRPC fields behind them are uint32), or its
 * default when absent.
 * @throws ValidationError naming the parameter and the accepted range.
 */
export function queryInteger(query: URLSearchParams, name: string, bounds: { min: number; max: number; default: number }): number {
  const raw = query.get(name);
  if (raw === null) return bounds.default;
  const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new ValidationError(`query parameter "${name}" must be an integer from ${bounds.min} to ${bounds.max}, not ${JSON.stringify(raw.slice(0, 100))}`, { field: name });
  }
  return value;
}

/**
 * One of the allowed values of a query parameter, or '' when absent or empty.
 * @throws ValidationError naming the parameter and the values accepted.
 */
export function queryEnum<T extends string>(query: URLSearchParams, name: string, values: readonly T[]): T | '' {
  const raw = query.get(name);
  if (raw === null || raw === '') return '';
  if (!(values as readonly string[]).includes(raw))
    throw new ValidationError(`query parameter "${name}" must be one of ${values.join(', ')}, not ${JSON.stringify(raw.slice(0, 100))}`, { field: name });
  return raw as T;
}

/** An ISO 8601 time with a date, a time and a zone: `2026-01-31T12:00:00Z`, `2026-01-31T13:00:00.5+01:00`. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A point in time of a query parameter as UNIX ms, or 0 when absent or empty.
 * @throws ValidationError naming the parameter and the format when it is not an ISO 8601 time with a zone.
 */
export function queryTime(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return 0;
  const ms = ISO_TIME.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms) || ms <= 0)
    throw new ValidationError(`query parameter "${name}" must be an ISO 8601 time with its zone, like "2026-01-31T12:00:00Z", not ${JSON.stringify(raw.slice(0, 100))}`, {
      field: name,
    });
  return ms;
}
