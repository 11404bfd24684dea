/**
 * The wire shapes of sandbox egress. They are the JSON that crosses the sandbox bridge
 * (`bridge.fetch(requestJson, onDone)` in the context, `postMessage` to the host, then
 * {@link EgressFetch} here), so they hold strings, numbers and arrays only.
 */

/** Operator-level egress policy (same shape as `EgressPolicy` in `@codestep/sandbox`). */
export interface EgressPolicy {
  /**
   * Hosts exempt from the non-public-address check: `hostname` (any port) or `hostname:port`,
   * IPv6 in brackets (`[::1]:8080`), or `*.example.internal` for every subdomain.
   */
  allowHosts: string[];
  /**
   * Host → base URL rewrites: a request to `https://api.hubapi.com/crm/v3/x` with
   * `{ 'api.hubapi.com': 'http://127.0.0.1:4010' }` goes to `http://127.0.0.1:4010/crm/v3/x`.
   * Keys are `hostname` or `hostname:port`. Mapped targets skip the address check; the
   * sandbox still sees the original URL in `response.url`.
   */
  mapHosts: Record<string, string>;
  /**
   * `host:port` entries (`127.0.0.1:6379`, `db.internal:3306`, `[::1]:27017`) that sandbox
   * sockets (`net`/`tls`) may reach even when they resolve to non-public addresses. A port is
   * required: allowing a database does not allow the rest of its machine. @default []
   */
  allowSockets?: string[];
}

/** Caps for one execution; every {@link EgressFetch} counts against its own. */
export interface EgressLimits {
  /** Requests per execution, each redirect hop included. @default 200 */
  maxRequests: number;
  /** Requests in flight at once; one more fails at once with EGRESS_LIMIT. @default 10 */
  maxConcurrent: number;
  /** Response body bytes (after decompression) summed over the execution. @default 33554432 (32 MiB) */
  maxResponseBytes: number;
  /** One request, redirects and body included, ms. @default 15000 */
  timeoutMs: number;
  /** Request body bytes, per request. @default 8388608 (8 MiB) */
  maxRequestBodyBytes: number;
  /** Redirect hops followed per request. @default 5 */
  maxRedirects: number;
}

export const DEFAULT_EGRESS_LIMITS: EgressLimits = {
  maxRequests: 200,
  maxConcurrent: 10,
  maxResponseBytes: 32 * 1024 * 1024,
  timeoutMs: 15_000,
  maxRequestBodyBytes: 8 * 1024 * 1024,
  maxRedirects: 5,
};

export type RedirectMode = 'follow' | 'manual' | 'error';

/** What the sandbox's `fetch` asks for. */
export interface EgressRequest {
  url: string;
  /** @default 'GET' */
  method?: string;
  headers?: Array<[string, string]>;
  bodyBase64?: string | null;
  /** @default 'follow' */
  redirect?: RedirectMode;
}

/**
 * Stable failure codes:
 * - `EGRESS_BLOCKED` — the policy refused the destination (scheme, address, port).
 * - `EGRESS_LIMIT` — a per-execution cap (requests, concurrency, bytes, redirects) was hit.
 * - `EGRESS_TIMEOUT` — the request did not finish within `timeoutMs`.
 * - `EGRESS_NETWORK` — DNS failure, connection refused or reset, TLS error.
 * - `EGRESS_REDIRECT` — a redirect came back for a request made with `redirect: 'error'`.
 * - `EGRESS_INVALID_REQUEST` — the request itself is malformed (bad URL, forbidden method).
 * - `EGRESS_ABORTED` — the execution ended (the host aborted it) while the request ran.
 */
export type EgressErrorCode = 'EGRESS_BLOCKED' | 'EGRESS_LIMIT' | 'EGRESS_TIMEOUT' | 'EGRESS_NETWORK' | 'EGRESS_REDIRECT' | 'EGRESS_INVALID_REQUEST' | 'EGRESS_ABORTED';

export type EgressResponse =
  | {
      ok: true;
      status: number;
      statusText: string;
      /** Final URL after redirects, in the sandbox's view (before `mapHosts`). */
      url: string;
      redirected: boolean;
      headers: Array<[string, string]>;
      bodyBase64: string;
    }
  | { ok: false; error: { code: EgressErrorCode; message: string } };

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves every address of a DNS name. Injected by tests; defaults to `dns.lookup({ all: true })`. */
export type EgressLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface EgressStats {
  requests: number;
  inFlight: number;
  responseBytes: number;
  blocked: number;
}

/**
 * Fetch for one execution. Never rejects: failures come back as `{ ok: false, error }`.
 * Accepts the request as an object or as its JSON text (as it arrives from the bridge).
 */
export interface EgressFetch {
  (request: EgressRequest | string): Promise<EgressResponse>;
  /** Counters so far, for logs and metrics. */
  stats(): EgressStats;
}
