/**
 * The checks on what the sandbox asks for, before anything is resolved or sent: the request's
 * shape, its method, and its headers (the ones the host sets itself are dropped, as fetch
 * forbids them).
 */
import { EgressError } from './egress.error.ts';
import type { EgressRequest } from './egress.types.ts';

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Hop-by-hop or connection-level headers the host sets itself (as fetch forbids them). */
const DROPPED_REQUEST_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'proxy-connection']);

/** The method to send: a valid token, never CONNECT/TRACE/TRACK, the standard ones upper-cased. */
export function normaliseMethod(method: string | undefined): string {
  const m = method ?? 'GET';
  if (!TOKEN.test(m)) throw new EgressError('EGRESS_INVALID_REQUEST', `"${m}" is not a valid HTTP method`);
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new EgressError('EGRESS_INVALID_REQUEST', `HTTP method ${upper} is not allowed`);
  return NORMALISED_METHODS.has(upper) ? upper : m;
}

/** The request as an object, from itself or its JSON text (as it arrives from the bridge). */
export function parseRequest(input: EgressRequest | string): EgressRequest {
  if (typeof input !== 'string') return input;
  try {
    const parsed: unknown = JSON.parse(input);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { url?: unknown }).url === 'string') return parsed as EgressRequest;
  } catch {
    // fall through
  }
  throw new EgressError('EGRESS_INVALID_REQUEST', 'the fetch request is not valid JSON with a url');
}

/** The request's headers, validated and lower-cased, without the ones the host sets itself. */
export function cleanHeaders(headers: EgressRequest['headers']): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const pair of headers ?? []) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new EgressError('EGRESS_INVALID_REQUEST', 'headers must be [name, value] string pairs');
    }
    const name = pair[0].toLowerCase();
    const value = pair[1];
    if (!TOKEN.test(name)) throw new EgressError('EGRESS_INVALID_REQUEST', `"${pair[0]}" is not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new EgressError('EGRESS_INVALID_REQUEST', `header "${name}" has an invalid value`);
    if (DROPPED_REQUEST_HEADERS.has(name) || name.startsWith('proxy-')) continue;
    out.push([name, value]);
  }
  return out;
}
