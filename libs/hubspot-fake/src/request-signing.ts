/**
 * How HubSpot signs the requests it sends to an app (workflow action executions, option
 * fetches, webhook batches), written from HubSpot's "Validating requests" page:
 *
 * - v1 (`X-HubSpot-Signature`, `X-HubSpot-Signature-Version: v1`, webhooks): hex SHA-256 of
 *   client secret + body.
 * - v2 (same headers, version `v2`, workflow actions): hex SHA-256 of client secret + method +
 *   URI + body.
 * - v3 (`X-HubSpot-Signature-v3` with `X-HubSpot-Request-Timestamp`, UNIX ms): base64
 *   HMAC-SHA256 keyed by the client secret of method + URI + body + timestamp, where the URI
 *   has a few percent-encoded characters decoded; receivers reject timestamps over 5 minutes old.
 *
 * The tests cross-check these against `Signature` of `@hubspot/api-client`, which we did not write.
 */
import { createHash, createHmac } from 'node:crypto';

export type SignatureVersion = 'v1' | 'v2' | 'v3';

export interface SignInput {
  clientSecret: string;
  method: string;
  /** The full URL the request is sent to, as the app registered it (protocol, host, path, query). */
  url: string;
  body: string;
  /** UNIX ms, for v3. */
  timestamp: number;
}

/** The characters HubSpot decodes in the URI before signing v3 (its documented list). */
const V3_DECODED: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function v3Uri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => V3_DECODED[m.toUpperCase()] ?? m);
}

/** The signature of one version, as HubSpot computes it. */
export function hubspotSignature(version: SignatureVersion, input: SignInput): string {
  const { clientSecret, method, url, body, timestamp } = input;
  if (version === 'v1')
    return createHash('sha256')
      .update(clientSecret + body, 'utf8')
      .digest('hex');
  if (version === 'v2')
    return createHash('sha256')
      .update(clientSecret + method + url + body, 'utf8')
      .digest('hex');
  return createHmac('sha256', clientSecret)
    .update(method + v3Uri(url) + body + String(timestamp), 'utf8')
    .digest('base64');
}

/**
 * The signature headers HubSpot sends: v3 always, plus the older one it names in
 * `X-HubSpot-Signature-Version` (v1 for webhooks, v2 for workflow actions).
 */
export function signatureHeaders(input: SignInput, legacy: 'v1' | 'v2'): Record<string, string> {
  return {
    'X-HubSpot-Signature': hubspotSignature(legacy, input),
    'X-HubSpot-Signature-Version': legacy,
    'X-HubSpot-Signature-v3': hubspotSignature('v3', input),
    'X-HubSpot-Request-Timestamp': String(input.timestamp),
  };
}
