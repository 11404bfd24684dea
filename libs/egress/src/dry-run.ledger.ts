/**
 * Dry runs: an execution's requests that read (GET, HEAD, OPTIONS) go out as usual; requests
 * that write (POST, PUT, PATCH, DELETE and any other method) are not sent. Each is answered with
 * {@link dryRunResponse} and recorded in the execution's ledger: method, URL, headers and body,
 * with credentials redacted. It is done here, at the one place every HTTP request of the sandbox
 * passes (its `fetch`, the `http`/`https` shims and every client built on them, the HubSpot
 * client included), so no client can write around it.
 */
import type { EgressResponse } from './egress.types.ts';
import type { DryRunWrite } from '@codestep/core';

/** Methods that only read: sent in a dry run. Everything else is held back and recorded. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * HubSpot API calls that read over POST (search and batch reads): sent in a dry run, since
 * nothing is written and actions depend on their answers. Only on `api.hubapi.com`, as the code
 * addressed it.
 */
const HUBSPOT_READS_OVER_POST = [
  /^\/crm\/v3\/objects\/[^/]+\/search$/,
  /^\/crm\/v3\/objects\/[^/]+\/batch\/read$/,
  /^\/crm\/v[34]\/associations\/[^/]+\/[^/]+\/batch\/read$/,
  /^\/crm\/v3\/properties\/[^/]+\/batch\/read$/,
];

/** Headers whose value is a credential whatever it looks like (matched on the lower-cased name). */
const SECRET_HEADER = /auth|token|secret|key|cookie|passw|signature|session|credential/;
/** Query parameters holding credentials (`hapikey`, `access_token`, `api_key`, `sig`, …). */
const SECRET_PARAM = /auth|token|secret|key|passw|signature|^sig$|session|credential|^code$/i;

export const DRY_RUN_REDACTED = '[REDACTED]';
/** Body characters kept per entry (`bodyBytes` gives the full size). @default 4096 */
export const DRY_RUN_BODY_CHARS = 4096;
/** Entries kept per execution; later writes are still held back and counted in `dropped`. @default 100 */
export const DRY_RUN_MAX_ENTRIES = 100;

/** One write that was not sent (the type is shared with history, in `@codestep/core`). */
export type { DryRunWrite };

/**
 * One execution's ledger. `redact` removes other known secret values (the action's selected
 * secrets, tokens it obtained) from every recorded string; the sandbox supplies it.
 */
export class DryRunLedger {
  readonly entries: DryRunWrite[] = [];
  dropped = 0;
  readonly #redact: (text: string) => string;

  constructor(redact: (text: string) => string = (t) => t) {
    this.#redact = redact;
  }

  /** Whether a request is held back: any method but GET, HEAD, OPTIONS, except HubSpot's reads over POST. */
  static holdsBack(method: string, url: URL): boolean {
    const m = method.toUpperCase();
    if (READ_METHODS.has(m)) return false;
    return !(m === 'POST' && url.hostname === 'api.hubapi.com' && HUBSPOT_READS_OVER_POST.some((p) => p.test(url.pathname)));
  }

  /** Records a held-back write and returns its synthetic answer. */
  record(method: string, url: URL, headers: Array<[string, string]>, body: Buffer | null): EgressResponse {
    const index = this.entries.length + this.dropped + 1;
    if (this.entries.length < DRY_RUN_MAX_ENTRIES) {
      this.entries.push({
        method,
        url: this.#redact(redactUrl(url)),
        headers: headers.map(([name, value]) => [name, SECRET_HEADER.test(name) ? DRY_RUN_REDACTED : this.#redact(value)]),
        body: body === null ? '' : this.#redact(bodyText(body)),
        bodyBytes: body?.length ?? 0,
        status: dryRunStatus(method),
      });
    } else this.dropped++;
    return dryRunResponse(method, url, index);
  }
}

/** The status of a synthetic answer: 201 to a POST, 204 to a DELETE, 200 otherwise (what HubSpot's API answers). */
export function dryRunStatus(method: string): number {
  return method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200;
}

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content' };

/**
 * The documented synthetic answer to a write in a dry run: status {@link dryRunStatus}, header
 * `x-codestep-dry-run: true`, and (except for 204) `content-type: application/json` with the body
 * `{"dryRun": true, "id": "dry-run-<n>", "method": "<METHOD>", "url": "<url>"}` (`n` counts the
 * execution's writes from 1), so code reading an `id` from a create goes on.
 */
export function dryRunResponse(method: string, url: URL, index: number): EgressResponse {
  const status = dryRunStatus(method);
  const body = status === 204 ? '' : JSON.stringify({ dryRun: true, id: `dry-run-${index}`, method, url: redactUrl(url) });
  const headers: Array<[string, string]> = [['x-codestep-dry-run', 'true']];
  if (body) headers.unshift(['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(body))]);
  return { ok: true, status, statusText: STATUS_TEXT[status] ?? 'OK', url: url.href, redirected: false, headers, bodyBase64: Buffer.from(body).toString('base64') };
}

function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.username) copy.username = DRY_RUN_REDACTED;
  if (copy.password) copy.password = DRY_RUN_REDACTED;
  for (const name of [...new Set(copy.searchParams.keys())]) if (SECRET_PARAM.test(name)) copy.searchParams.set(name, DRY_RUN_REDACTED);
  return copy.href;
}

function bodyText(body: Buffer): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  const out = text.includes('\uFFFD') ? `base64:${body.toString('base64')}` : text;
  return out.length > DRY_RUN_BODY_CHARS ? out.slice(0, DRY_RUN_BODY_CHARS) : out;
}
