/**
 * The host side of sandbox `fetch`: runs in the sandbox-host process, which has real network
 * access, and applies the operator's egress policy to every request a tenant's code makes.
 *
 * Why it is built the way it is:
 * - DNS is resolved here, every address is checked, and the connection goes to the address
 *   that was checked (a pinned `lookup`), so a DNS answer that changes between check and
 *   connect (rebinding) cannot smuggle a private address through.
 * - Redirects are followed by hand so that each hop is checked like a first request.
 * - No connection is reused (`agent: false`): a pooled socket could belong to another
 *   execution, and per-request connections keep the pinning obvious.
 * - Bodies are decompressed here (the context has no zlib) and the byte cap counts the
 *   decompressed bytes, so a small compressed bomb still hits the cap.
 */
import dns from 'node:dns';
import { silentLogger, type Logger } from '@codestep/core';
import { DryRunLedger } from './dry-run.ledger.ts';
import { blockRequest, type EgressContext } from './egress.context.ts';
import { EgressError } from './egress.error.ts';
import { cleanHeaders, normaliseMethod, parseRequest } from './egress-request.validation.ts';
import { resolveTarget } from './egress-target.policy.ts';
import { DEFAULT_EGRESS_LIMITS, type EgressFetch, type EgressLimits, type EgressLookup, type EgressPolicy, type EgressRequest, type EgressResponse, type RedirectMode } from './egress.types.ts';
import { applyMap, compileHostRules, mapFor, unmap } from './host-rules.policy.ts';
import { sendPinned } from './pinned.transport.ts';
import { readBody } from './response-body.reader.ts';

export interface EgressOptions {
  /** DNS resolution; tests inject one. @default dns.lookup with `all: true` */
  lookup?: EgressLookup;
  /** Aborts every request in flight and refuses new ones (the execution ended). */
  signal?: AbortSignal;
  /** Blocked and failed requests are logged here (never bodies or header values). */
  logger?: Logger;
  /**
   * Called just before each connection with the address that was checked and will be dialled
   * (for tracing: peer address of the outbound span). Throwing refuses the connection with
   * EGRESS_BLOCKED; tests use this to guarantee nothing but loopback is ever dialled.
   */
  beforeConnect?: (target: { url: string; host: string; address: string; family: 4 | 6 }) => void;
  /**
   * A dry run: writes (every method but GET, HEAD, OPTIONS) are checked by the policy like any
   * request, then not sent: recorded here and answered with the documented synthetic response.
   */
  dryRun?: DryRunLedger;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CROSS_ORIGIN_STRIPPED = new Set(['authorization', 'cookie', 'proxy-authorization']);

export const defaultLookup: EgressLookup = async (hostname) => {
  const results = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

/**
 * One request from the sandbox to its final response: each hop checked and counted like a
 * first request, redirects followed by hand (or refused, or returned, by `redirect` mode).
 */
async function followRedirects(ctx: EgressContext, options: EgressOptions, request: EgressRequest, signal: AbortSignal): Promise<EgressResponse> {
  const { caps, stats } = ctx;
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new EgressError('EGRESS_INVALID_REQUEST', `"${String(request.url).slice(0, 200)}" is not a valid URL`);
  }
  let method = normaliseMethod(request.method);
  let headers = cleanHeaders(request.headers);
  let body: Buffer | null = request.bodyBase64 == null ? null : Buffer.from(request.bodyBase64, 'base64');
  if (body !== null && body.length > caps.maxRequestBodyBytes) {
    throw new EgressError('EGRESS_LIMIT', `Request body to ${url.host} is ${body.length} bytes (limit ${caps.maxRequestBodyBytes}). Send less data per request.`);
  }
  if (body !== null && (method === 'GET' || method === 'HEAD')) {
    throw new EgressError('EGRESS_INVALID_REQUEST', `A ${method} request cannot have a body`);
  }
  const mode: RedirectMode = request.redirect ?? 'follow';
  for (let hop = 0; ; hop++) {
    if (stats.requests >= caps.maxRequests) {
      throw new EgressError(
        'EGRESS_LIMIT',
        `Too many requests: this execution already made ${stats.requests} HTTP requests (limit ${caps.maxRequests}); refused the request to ${url.host}. Make fewer calls (use batch APIs) or ask the operator to raise the egress request limit.`,
      );
    }
    stats.requests++;
    const { target, pinned } = await resolveTarget(ctx, url);
    if (options.dryRun && DryRunLedger.holdsBack(method, url)) return options.dryRun.record(method, url, headers, body);
    try {
      options.beforeConnect?.({ url: target.href, host: target.host, address: pinned.address, family: pinned.family });
    } catch (error) {
      blockRequest(ctx, url, `the connection to ${pinned.address} was refused by the host (${(error as Error).message})`);
    }
    const res = await sendPinned(target, pinned, method, headers, body, signal);
    const location = res.headers.find(([k]) => k === 'location')?.[1];
    if (REDIRECT_STATUSES.has(res.status) && location !== undefined && mode !== 'manual') {
      res.stream.resume();
      if (mode === 'error') throw new EgressError('EGRESS_REDIRECT', `${url.host} answered with a redirect (${res.status}) and the request was made with redirect: 'error'`);
      if (hop >= caps.maxRedirects) {
        throw new EgressError('EGRESS_LIMIT', `Too many redirects: ${url.host} redirected more than ${caps.maxRedirects} times. Check the URL.`);
      }
      let next: URL;
      try {
        next = unmap(ctx.rules, new URL(location, applyMap(url, mapFor(ctx.rules, url))), url);
      } catch {
        throw new EgressError('EGRESS_NETWORK', `${url.host} sent an invalid redirect location`);
      }
      if (res.status === 303 ? method !== 'GET' && method !== 'HEAD' : (res.status === 301 || res.status === 302) && method === 'POST') {
        method = 'GET';
        body = null;
        headers = headers.filter(([k]) => !k.startsWith('content-'));
      }
      if (next.origin !== url.origin) headers = headers.filter(([k]) => !CROSS_ORIGIN_STRIPPED.has(k));
      url = next;
      continue;
    }
    const read = await readBody(ctx, res, url, method, signal);
    return {
      ok: true,
      status: res.status,
      statusText: res.statusText,
      url: url.href,
      redirected: hop > 0,
      headers: read.headers,
      bodyBase64: read.body.toString('base64'),
    };
  }
}

/**
 * The edge of the egress fetch: the concurrency cap, the per-request timeout and the
 * execution's abort around {@link followRedirects}, and every failure turned into
 * `{ ok: false, error }` (never a rejection).
 */
async function fetchWithinLimits(ctx: EgressContext, options: EgressOptions, input: EgressRequest | string): Promise<EgressResponse> {
  const { caps, stats, logger } = ctx;
  let host = '(unknown)';
  try {
    const request = parseRequest(input);
    host = request.url;
    if (options.signal?.aborted) throw new EgressError('EGRESS_ABORTED', 'the execution has ended');
    if (stats.inFlight >= caps.maxConcurrent) {
      throw new EgressError(
        'EGRESS_LIMIT',
        `Too many concurrent requests: ${stats.inFlight} are already in flight (limit ${caps.maxConcurrent}). Await some requests before starting more, or ask the operator to raise the egress concurrency limit.`,
      );
    }
    stats.inFlight++;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new EgressError('EGRESS_TIMEOUT', `Request to ${safeHost(request.url)} timed out after ${caps.timeoutMs} ms. Retry later, or ask the operator to raise the egress timeout.`));
    }, caps.timeoutMs);
    const onOuterAbort = () => controller.abort(new EgressError('EGRESS_ABORTED', 'the execution has ended'));
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await followRedirects(ctx, options, request, controller.signal);
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason instanceof EgressError && !(error instanceof EgressError && error.code === 'EGRESS_BLOCKED')) {
        throw controller.signal.reason;
      }
      throw error;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onOuterAbort);
      stats.inFlight--;
    }
  } catch (error) {
    if (error instanceof EgressError) {
      if (error.code !== 'EGRESS_BLOCKED') logger.info({ host: safeHost(host), code: error.code }, 'egress request failed');
      return { ok: false, error: { code: error.code, message: error.message } };
    }
    logger.error({ host: safeHost(host), error }, 'egress internal error');
    return { ok: false, error: { code: 'EGRESS_NETWORK', message: `Request failed: ${(error as Error).message}` } };
  }
}

/**
 * Create the egress fetch for one execution. Limits are counted per returned function.
 *
 * @throws CodestepError `INVALID_ARGUMENT` when the policy is malformed (an operator error,
 *   reported at creation rather than on the first request).
 */
export function createEgressFetch(policy: EgressPolicy, limits: Partial<EgressLimits> = {}, options: EgressOptions = {}): EgressFetch {
  const ctx: EgressContext = {
    caps: { ...DEFAULT_EGRESS_LIMITS, ...limits },
    rules: compileHostRules(policy),
    lookup: options.lookup ?? defaultLookup,
    logger: options.logger ?? silentLogger,
    stats: { requests: 0, inFlight: 0, responseBytes: 0, blocked: 0 },
  };
  const egressFetch = async (input: EgressRequest | string): Promise<EgressResponse> => fetchWithinLimits(ctx, options, input);
  return Object.assign(egressFetch, { stats: () => ({ ...ctx.stats }) });
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}
