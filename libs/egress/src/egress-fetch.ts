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
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { CodestepError, silentLogger, type Logger } from '@codestep/core';
import {
  DEFAULT_EGRESS_LIMITS,
  type EgressErrorCode,
  type EgressFetch,
  type EgressLimits,
  type EgressLookup,
  type EgressPolicy,
  type EgressRequest,
  type EgressResponse,
  type EgressStats,
  type RedirectMode,
  type ResolvedAddress,
} from './egress.types.ts';
import { classifyAddress, ipLiteralOf } from './ip-address.policy.ts';

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
}

class EgressError extends Error {
  readonly code: EgressErrorCode;
  constructor(code: EgressErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Hop-by-hop or connection-level headers the host sets itself (as fetch forbids them). */
const DROPPED_REQUEST_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'proxy-connection']);
const CROSS_ORIGIN_STRIPPED = new Set(['authorization', 'cookie', 'proxy-authorization']);
const ADVICE = 'Sandboxed code may only reach public internet addresses; if this host is an internal service you trust, an operator can add it to the egress allowHosts setting.';

export const defaultLookup: EgressLookup = async (hostname) => {
  const results = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

interface HostEntry {
  hostname: string;
  /** `undefined` matches any port. */
  port: string | undefined;
  wildcard: boolean;
}

function parseHostEntry(entry: string): HostEntry {
  const text = entry.trim().toLowerCase();
  const wildcard = text.startsWith('*.');
  const body = wildcard ? text.slice(2) : text;
  let url: URL;
  try {
    url = new URL(`http://${body}`);
  } catch {
    throw new CodestepError('INVALID_ARGUMENT', `egress allowHosts entry "${entry}" is not a host or host:port`);
  }
  const explicitPort = /:(\d+)$/.exec(body)?.[1];
  return { hostname: url.hostname, port: explicitPort, wildcard };
}

function defaultPort(url: URL): string {
  return url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
}

function entryMatches(entry: HostEntry, url: URL): boolean {
  if (entry.port !== undefined && entry.port !== defaultPort(url)) return false;
  if (entry.wildcard) return url.hostname.endsWith(`.${entry.hostname}`);
  return url.hostname === entry.hostname;
}

interface MapEntry {
  from: HostEntry;
  to: URL;
}

function parseMapHosts(mapHosts: Record<string, string>): MapEntry[] {
  return Object.entries(mapHosts).map(([from, to]) => {
    let target: URL;
    try {
      target = new URL(to);
    } catch {
      throw new CodestepError('INVALID_ARGUMENT', `egress mapHosts["${from}"] = "${to}" is not a URL`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new CodestepError('INVALID_ARGUMENT', `egress mapHosts["${from}"] must be an http or https URL`);
    }
    return { from: parseHostEntry(from), to: target };
  });
}

/** The URL actually dialled for a sandbox-visible URL: origin swapped, base path prepended. */
function applyMap(url: URL, map: MapEntry | undefined): URL {
  if (map === undefined) return url;
  const out = new URL(map.to.href);
  const base = out.pathname.endsWith('/') ? out.pathname.slice(0, -1) : out.pathname;
  out.pathname = base + url.pathname;
  out.search = url.search;
  return out;
}

function normaliseMethod(method: string | undefined): string {
  const m = method ?? 'GET';
  if (!TOKEN.test(m)) throw new EgressError('EGRESS_INVALID_REQUEST', `"${m}" is not a valid HTTP method`);
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new EgressError('EGRESS_INVALID_REQUEST', `HTTP method ${upper} is not allowed`);
  return NORMALISED_METHODS.has(upper) ? upper : m;
}

function parseRequest(input: EgressRequest | string): EgressRequest {
  if (typeof input !== 'string') return input;
  try {
    const parsed: unknown = JSON.parse(input);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { url?: unknown }).url === 'string') return parsed as EgressRequest;
  } catch {
    // fall through
  }
  throw new EgressError('EGRESS_INVALID_REQUEST', 'the fetch request is not valid JSON with a url');
}

function cleanHeaders(headers: EgressRequest['headers']): Array<[string, string]> {
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

interface RawResponse {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  stream: Readable;
}

/**
 * Create the egress fetch for one execution. Limits are counted per returned function.
 *
 * @throws CodestepError `INVALID_ARGUMENT` when the policy is malformed (an operator error,
 *   reported at creation rather than on the first request).
 */
export function createEgressFetch(policy: EgressPolicy, limits: Partial<EgressLimits> = {}, options: EgressOptions = {}): EgressFetch {
  const caps: EgressLimits = { ...DEFAULT_EGRESS_LIMITS, ...limits };
  const allow = policy.allowHosts.map(parseHostEntry);
  const maps = parseMapHosts(policy.mapHosts);
  const lookup = options.lookup ?? defaultLookup;
  const logger = options.logger ?? silentLogger;
  const stats: EgressStats = { requests: 0, inFlight: 0, responseBytes: 0, blocked: 0 };

  const mapFor = (url: URL) => maps.find((m) => entryMatches(m.from, url));

  /** A redirect to the mapped backend itself is translated back to the name the sandbox used. */
  const unmap = (next: URL, current: URL): URL => {
    const map = mapFor(current);
    if (map === undefined || next.origin !== map.to.origin) return next;
    const base = map.to.pathname.endsWith('/') ? map.to.pathname.slice(0, -1) : map.to.pathname;
    if (base !== '' && next.pathname !== base && !next.pathname.startsWith(base + '/')) return next;
    const out = new URL(next.href);
    out.protocol = current.protocol;
    out.host = current.host;
    out.port = current.port;
    out.pathname = next.pathname.slice(base.length) || '/';
    return out;
  };

  const block = (url: URL, rule: string): never => {
    stats.blocked++;
    logger.warn({ host: url.host, rule }, 'egress blocked');
    throw new EgressError('EGRESS_BLOCKED', `Request to ${url.host} was blocked: ${rule}. ${ADVICE}`);
  };

  async function resolveTarget(url: URL): Promise<{ target: URL; pinned: ResolvedAddress }> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      block(url, `the ${url.protocol.replace(/:$/, '')} scheme is not allowed (only http and https)`);
    }
    const map = mapFor(url);
    const target = applyMap(url, map);
    const exempt = map !== undefined || allow.some((entry) => entryMatches(entry, url));
    const literal = ipLiteralOf(target.hostname);
    let addresses: ResolvedAddress[];
    if (literal !== null) {
      addresses = [literal];
    } else {
      try {
        addresses = await lookup(target.hostname);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new EgressError('EGRESS_NETWORK', `Could not resolve ${target.hostname}${typeof code === 'string' ? ` (${code})` : ''}`);
      }
      if (addresses.length === 0) throw new EgressError('EGRESS_NETWORK', `Could not resolve ${target.hostname} (no addresses)`);
    }
    if (!exempt) {
      for (const { address } of addresses) {
        const verdict = classifyAddress(address);
        if (!verdict.public) {
          block(url, literal !== null ? `${address} is a ${verdict.reason}` : `it resolves to ${address}, a ${verdict.reason}`);
        }
      }
    }
    const pinned = addresses[0];
    if (pinned === undefined) throw new EgressError('EGRESS_NETWORK', `Could not resolve ${target.hostname}`);
    return { target, pinned };
  }

  function send(target: URL, pinned: ResolvedAddress, method: string, headers: Array<[string, string]>, body: Buffer | null, signal: AbortSignal): Promise<RawResponse> {
    const outHeaders: Record<string, string | string[]> = { host: target.host };
    for (const [name, value] of headers) {
      const prior = outHeaders[name];
      outHeaders[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
    }
    if (outHeaders['accept-encoding'] === undefined) outHeaders['accept-encoding'] = 'gzip, deflate, br';
    if (body !== null) outHeaders['content-length'] = String(body.length);
    const hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = transport.request({
        protocol: target.protocol,
        hostname,
        port: target.port === '' ? undefined : Number(target.port),
        path: `${target.pathname}${target.search}`,
        method,
        headers: outHeaders,
        agent: false,
        signal,
        // Connect to the address that was checked, never to a second DNS answer.
        lookup: ((_host: string, opts: { all?: boolean }, cb: (err: null, address: unknown, family?: number) => void) => {
          if (opts.all) cb(null, [{ address: pinned.address, family: pinned.family }]);
          else cb(null, pinned.address, pinned.family);
        }) as unknown as LookupFunction,
      });
      req.on('response', (res) => {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          pairs.push([(res.rawHeaders[i] ?? '').toLowerCase(), res.rawHeaders[i + 1] ?? '']);
        }
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: pairs, stream: res });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) {
          reject(signal.reason instanceof EgressError ? signal.reason : new EgressError('EGRESS_ABORTED', 'the request was aborted'));
          return;
        }
        reject(new EgressError('EGRESS_NETWORK', `Request to ${target.host} failed: ${error.code ?? error.message}`));
      });
      req.end(body ?? undefined);
    });
  }

  async function readBody(res: RawResponse, url: URL, method: string, signal: AbortSignal): Promise<{ body: Buffer; headers: Array<[string, string]> }> {
    if (method === 'HEAD' || res.status === 204 || res.status === 304) {
      res.stream.resume();
      return { body: Buffer.alloc(0), headers: res.headers };
    }
    const encoding = res.headers
      .find(([k]) => k === 'content-encoding')?.[1]
      .trim()
      .toLowerCase();
    let stream: Readable = res.stream;
    let decoded = false;
    if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.stream.pipe(zlib.createGunzip());
    else if (encoding === 'deflate') stream = res.stream.pipe(zlib.createInflate());
    else if (encoding === 'br') stream = res.stream.pipe(zlib.createBrotliDecompress());
    if (stream !== res.stream) {
      decoded = true;
      // pipe() does not forward errors: a reset or timeout on the socket must end the decoder too.
      res.stream.once('error', (error) => stream.destroy(error));
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        stats.responseBytes += chunk.length;
        if (stats.responseBytes > caps.maxResponseBytes) {
          res.stream.destroy();
          throw new EgressError(
            'EGRESS_LIMIT',
            `Response from ${url.host} is too large: this execution has received more than ${caps.maxResponseBytes} bytes of response bodies (limit ${caps.maxResponseBytes}). Request less data (pagination, fewer properties) or ask the operator to raise the egress response byte limit.`,
          );
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof EgressError) throw error;
      if (signal.aborted && signal.reason instanceof EgressError) throw signal.reason;
      throw new EgressError('EGRESS_NETWORK', `Reading the response from ${url.host} failed: ${(error as Error).message}`);
    }
    const headers = decoded ? res.headers.filter(([k]) => k !== 'content-encoding' && k !== 'content-length') : res.headers;
    return { body: Buffer.concat(chunks), headers };
  }

  async function run(request: EgressRequest, signal: AbortSignal): Promise<EgressResponse> {
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
      const { target, pinned } = await resolveTarget(url);
      try {
        options.beforeConnect?.({ url: target.href, host: target.host, address: pinned.address, family: pinned.family });
      } catch (error) {
        block(url, `the connection to ${pinned.address} was refused by the host (${(error as Error).message})`);
      }
      const res = await send(target, pinned, method, headers, body, signal);
      const location = res.headers.find(([k]) => k === 'location')?.[1];
      if (REDIRECT_STATUSES.has(res.status) && location !== undefined && mode !== 'manual') {
        res.stream.resume();
        if (mode === 'error') throw new EgressError('EGRESS_REDIRECT', `${url.host} answered with a redirect (${res.status}) and the request was made with redirect: 'error'`);
        if (hop >= caps.maxRedirects) {
          throw new EgressError('EGRESS_LIMIT', `Too many redirects: ${url.host} redirected more than ${caps.maxRedirects} times. Check the URL.`);
        }
        let next: URL;
        try {
          next = unmap(new URL(location, applyMap(url, mapFor(url))), url);
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
      const read = await readBody(res, url, method, signal);
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

  const egressFetch = async (input: EgressRequest | string): Promise<EgressResponse> => {
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
        return await run(request, controller.signal);
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
  };
  return Object.assign(egressFetch, { stats: () => ({ ...stats }) });
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}
