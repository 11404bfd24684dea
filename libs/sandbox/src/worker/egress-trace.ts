/**
 * An execution's outbound requests join the caller's trace (W3C Trace Context), unless the code
 * set its own `traceparent`. In a sampled trace each request gets a span id of its own in the
 * header it sends, and is described (method, URL without query, times, outcome) so that the
 * executor records it as the request's client span: the called server's spans then hang under it.
 */
import { randomBytes } from 'node:crypto';
import type { Redactor } from '../redaction.ts';
import type { EgressCall } from '../sandbox.types.ts';

/**
 * The request to send and, for a sampled trace while `record` allows, the call to complete with
 * its outcome. A request that does not parse goes as it is (the egress layer refuses it).
 */
export function traceRequest(requestJson: string, traceparent: string | undefined, record: boolean, redact: Redactor): { requestJson: string; call?: EgressCall } {
  if (!traceparent) return { requestJson };
  try {
    const request = JSON.parse(requestJson) as { url?: unknown; method?: unknown; headers?: Array<[string, string]> };
    const headers = Array.isArray(request.headers) ? request.headers : [];
    if (headers.some((pair) => Array.isArray(pair) && String(pair[0]).toLowerCase() === 'traceparent')) return { requestJson };
    const [version, traceId, , flags] = traceparent.split('-');
    const sampled = (Number.parseInt(flags ?? '0', 16) & 1) === 1;
    if (!sampled || !record) return { requestJson: JSON.stringify({ ...request, headers: [...headers, ['traceparent', traceparent]] }) };
    const spanId = randomBytes(8).toString('hex');
    const call: EgressCall = {
      spanId,
      method: String(request.method ?? 'GET')
        .toUpperCase()
        .slice(0, 20),
      url: traceableUrl(String(request.url), redact),
      startedAt: Date.now(),
      durationMs: 0,
    };
    return { requestJson: JSON.stringify({ ...request, headers: [...headers, ['traceparent', `${version}-${traceId}-${spanId}-${flags}`]] }), call };
  } catch {
    return { requestJson };
  }
}

/** A URL as a span may show it: no credentials, query or fragment, secret values redacted. */
function traceableUrl(raw: string, redact: Redactor): string {
  try {
    const url = new URL(raw);
    return redact(`${url.protocol}//${url.host}${url.pathname}`).slice(0, 500);
  } catch {
    return 'invalid URL';
  }
}
