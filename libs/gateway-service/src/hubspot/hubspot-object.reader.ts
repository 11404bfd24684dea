/**
 * Reads one CRM record's properties from HubSpot through the tenant's HubSpot connection, for a
 * test of an action against a real record (HubSpot's "Test action" with a record picked). The
 * token comes from the broker (`GetConnectionToken`, audited with the purpose); the properties
 * asked for are those the action reads. HubSpot's 429 (its secondly limit) and 5XX answers are
 * retried a bounded number of times, waiting as `Retry-After` says (else a short backoff); a
 * wait longer than the cap (a daily limit) is not waited for: the read fails with HubSpot's answer.
 */
import type { credentialsV1 } from '@codestep/contracts';
import { CodestepError, NotFoundError, ValidationError } from '@codestep/core';
import type { PromiseClient } from '@codestep/rpc';
import { crmObjectPath } from '@codestep/workflows';

export interface HubSpotObjectReaderDeps {
  credentials: PromiseClient<credentialsV1.CredentialsClient>;
  /** HubSpot's API (`HUBSPOT_API_BASE_URL`). @default https://api.hubapi.com */
  apiBaseUrl?: string;
  /** Per request, ms. @default 10000 */
  timeoutMs?: number;
  /** Retries of a read HubSpot answered 429 or 5XX. */
  retry?: ReadRetryOptions;
}

export interface ReadRetryOptions {
  /** Requests in all, the first included. @default 4 */
  attempts?: number;
  /** The longest wait between two, ms; HubSpot asking for longer ends the tries at once. @default 2000 */
  maxWaitMs?: number;
  /** Waits `ms` (tests pass one that records and returns at once). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** `Retry-After` as ms from `now` (delta-seconds or an HTTP date); undefined when absent or unparsable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  const text = value?.trim() ?? '';
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = text ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * `fetch`, again while HubSpot answers 429 or 5XX and tries are left: after the wait its
 * `Retry-After` asks for, else 250 ms doubling. With a `deadline` (UNIX ms: a caller that must
 * answer HubSpot in time), no request runs past it and no wait ends after it. Answers the last
 * response, and why the tries ended when it is still a 429 or 5XX.
 */
async function fetchRetried(
  url: URL | string,
  init: (timeoutMs: number) => RequestInit,
  timeoutMs: number,
  options: ReadRetryOptions = {},
  deadline?: number,
): Promise<{ res: Response; gaveUp: string }> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const maxWaitMs = options.maxWaitMs ?? 2_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const left = () => (deadline === undefined ? Infinity : deadline - Date.now());
  for (let attempt = 1; ; attempt++) {
    if (left() <= 0) throw new BudgetSpent(attempt);
    const res = await fetch(url, init(Math.min(timeoutMs, left())));
    if (res.status !== 429 && res.status < 500) return { res, gaveUp: '' };
    if (attempt >= attempts) return { res, gaveUp: `after ${attempt} attempts` };
    const asked = retryAfterMs(res.headers.get('retry-after'), Date.now());
    if (asked !== undefined && asked > maxWaitMs) return { res, gaveUp: `HubSpot asks to wait ${Math.ceil(asked / 1000)} s (Retry-After), longer than codestep waits` };
    const wait = asked ?? 250 * 2 ** (attempt - 1);
    if (wait >= left()) return { res, gaveUp: `after ${attempt} attempt(s): no time left to try again before answering HubSpot` };
    await res.body?.cancel();
    await sleep(wait);
  }
}

/** The caller's deadline passed before a request could be sent. */
class BudgetSpent extends Error {
  readonly attempt: number;
  constructor(attempt: number) {
    super(attempt === 1 ? 'not read: no time left before answering HubSpot' : `after ${attempt - 1} attempt(s): no time left to try again before answering HubSpot`);
    this.attempt = attempt;
  }
}

/** A request that timed out or was refused by the network, or the deadline that passed, as the read's error. */
function unreachable(what: string, error: unknown): CodestepError {
  if (error instanceof BudgetSpent) return new CodestepError('UNAVAILABLE', `HubSpot not asked ${what} (${error.message})`);
  return new CodestepError('UNAVAILABLE', `HubSpot did not answer ${what}: ${error instanceof Error ? error.message : String(error)}; try again`);
}

export interface ObjectRead {
  properties: Record<string, string>;
  /** The connection whose token read it. */
  connection: string;
}

/** Reads `objectType` `objectId` (the `properties` named, HubSpot's defaults too) for `tenantId`. */
export type HubSpotObjectReader = (input: {
  tenantId: string;
  objectType: string;
  objectId: string;
  properties: string[];
  connection?: string | undefined;
  purpose: string;
  /** No request or wait past this (UNIX ms): the caller answers HubSpot by then. */
  deadline?: number | undefined;
}) => Promise<ObjectRead>;

/** The tenant's HubSpot connection to read with: the one named, or its only active one. */
async function connectionOf(deps: HubSpotObjectReaderDeps, tenantId: string, named: string | undefined): Promise<string> {
  const { connections } = await deps.credentials.listConnections({ tenantId });
  const hubspot = connections.filter((c) => c.provider === 'hubspot');
  if (named) {
    const found = hubspot.find((c) => c.handle === named);
    if (!found) throw new ValidationError(`object.connection: this account has no HubSpot connection "${named}"; its HubSpot connections are ${names(hubspot)}`, { field: 'object.connection' });
    return found.handle;
  }
  const active = hubspot.filter((c) => c.status === 'active');
  if (active.length === 1) return active[0]!.handle;
  if (active.length === 0)
    throw new ValidationError(
      'object.objectId: to read the record from HubSpot this account needs an active HubSpot connection (POST /v1/connections with provider "hubspot"); or send the record\'s properties in object.properties',
      { field: 'object.objectId' },
    );
  throw new ValidationError(`object.connection: this account has several HubSpot connections (${names(active)}); name the one to read the record with`, { field: 'object.connection' });
}

const names = (cs: Array<{ handle: string }>) => (cs.length ? cs.map((c) => `"${c.handle}"`).join(', ') : 'none');

export function createHubSpotObjectReader(deps: HubSpotObjectReaderDeps): HubSpotObjectReader {
  const base = (deps.apiBaseUrl ?? 'https://api.hubapi.com').replace(/\/+$/, '');
  return async ({ tenantId, objectType, objectId, properties, connection, purpose, deadline }) => {
    const path = crmObjectPath(objectType);
    if (!path) throw new ValidationError(`object.objectType: ${JSON.stringify(objectType)} is not a CRM object type HubSpot can read a record of`, { field: 'object.objectType' });
    const handle = await connectionOf(deps, tenantId, connection);
    const token = await deps.credentials.getConnectionToken({ tenantId, handle, purpose });
    if (!token.token)
      throw new CodestepError(
        'NEEDS_REAUTH',
        `could not read the record with HubSpot connection "${handle}": ${token.error || 'no token'} (reconnect it with POST /v1/connections/${handle}/authorize)`,
      );
    const url = new URL(`${base}/crm/v3/objects/${encodeURIComponent(path)}/${encodeURIComponent(objectId)}`);
    if (properties.length) url.searchParams.set('properties', [...new Set(properties)].join(','));
    let res: Response;
    let gaveUp: string;
    try {
      ({ res, gaveUp } = await fetchRetried(
        url,
        (ms) => ({ headers: { authorization: `Bearer ${token.token}`, accept: 'application/json' }, signal: AbortSignal.timeout(ms) }),
        deps.timeoutMs ?? 10_000,
        deps.retry,
        deadline,
      ));
    } catch (error) {
      throw unreachable(`reading ${path} ${objectId}`, error);
    }
    const text = await res.text();
    if (res.status === 404) throw new NotFoundError(`HubSpot has no ${path} record ${objectId} (read with connection "${handle}"); pick a record that exists in that portal`);
    if (res.status === 401 || res.status === 403)
      throw new CodestepError('NEEDS_REAUTH', `HubSpot refused connection "${handle}" reading ${path} ${objectId} (${res.status}); reconnect it with the permissions to read ${path}`);
    if (!res.ok) throw new CodestepError('UNAVAILABLE', `HubSpot answered ${res.status} reading ${path} ${objectId}${gaveUp ? ` (${gaveUp})` : ''}: ${text.slice(0, 200)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CodestepError('UNAVAILABLE', `HubSpot answered reading ${path} ${objectId} with a body that is not JSON`);
    }
    const props = (body as { properties?: unknown }).properties;
    const out: Record<string, string> = {};
    if (typeof props === 'object' && props !== null) for (const [k, v] of Object.entries(props)) if (v !== null && v !== undefined) out[k] = String(v);
    return { properties: out, connection: handle };
  };
}

/** HubSpot's batch read takes at most this many records a request. */
export const MAX_BATCH_READ = 100;

/**
 * Reads the `properties` of up to {@link MAX_BATCH_READ} records of one type in one request
 * (`POST /crm/v3/objects/{type}/batch/read`) with connection `connection`'s token; records HubSpot
 * does not have are absent from the answer.
 */
export type HubSpotBatchReader = (input: {
  tenantId: string;
  objectType: string;
  objectIds: string[];
  properties: string[];
  connection: string;
  purpose: string;
  /** No request or wait past this (UNIX ms): the caller answers HubSpot by then. */
  deadline?: number | undefined;
}) => Promise<Map<string, Record<string, string>>>;

export function createHubSpotBatchReader(deps: HubSpotObjectReaderDeps): HubSpotBatchReader {
  const base = (deps.apiBaseUrl ?? 'https://api.hubapi.com').replace(/\/+$/, '');
  return async ({ tenantId, objectType, objectIds, properties, connection, purpose, deadline }) => {
    const path = crmObjectPath(objectType);
    if (!path) throw new ValidationError(`object.objectType: ${JSON.stringify(objectType)} is not a CRM object type HubSpot can read records of`, { field: 'object.objectType' });
    if (objectIds.length > MAX_BATCH_READ) throw new ValidationError(`a batch read takes at most ${MAX_BATCH_READ} records; this one has ${objectIds.length}`);
    const token = await deps.credentials.getConnectionToken({ tenantId, handle: connection, purpose });
    if (!token.token)
      throw new CodestepError(
        'NEEDS_REAUTH',
        `could not read ${path} with HubSpot connection "${connection}": ${token.error || 'no token'} (reconnect it with POST /v1/connections/${connection}/authorize)`,
      );
    let res: Response;
    let gaveUp: string;
    try {
      ({ res, gaveUp } = await fetchRetried(
        `${base}/crm/v3/objects/${encodeURIComponent(path)}/batch/read`,
        (ms) => ({
          method: 'POST',
          headers: { authorization: `Bearer ${token.token}`, accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify({ properties: [...new Set(properties)], inputs: objectIds.map((id) => ({ id })) }),
          signal: AbortSignal.timeout(ms),
        }),
        deps.timeoutMs ?? 10_000,
        deps.retry,
        deadline,
      ));
    } catch (error) {
      throw unreachable(`a batch read of ${path}`, error);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403)
      throw new CodestepError('NEEDS_REAUTH', `HubSpot refused connection "${connection}" reading ${path} (${res.status}); reconnect it with the permissions to read ${path}`);
    if (!res.ok) throw new CodestepError('UNAVAILABLE', `HubSpot answered ${res.status} to a batch read of ${path}${gaveUp ? ` (${gaveUp})` : ''}: ${text.slice(0, 200)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CodestepError('UNAVAILABLE', `HubSpot answered a batch read of ${path} with a body that is not JSON`);
    }
    const out = new Map<string, Record<string, string>>();
    const results = (body as { results?: unknown }).results;
    for (const r of Array.isArray(results) ? (results as Array<{ id?: unknown; properties?: unknown }>) : []) {
      if (r.id === undefined || typeof r.properties !== 'object' || r.properties === null) continue;
      const props: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.properties)) if (v !== null && v !== undefined) props[k] = String(v);
      out.set(String(r.id), props);
    }
    return out;
  };
}
