/**
 * A small router over `node:http`: routes declare method, path pattern (`/v1/workflows/:id`)
 * and whether a tenant API key is required; handlers get parsed input and return a status and
 * a JSON body. Errors with a code map to HTTP statuses here, at the edge.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CATALOGUE, UnauthenticatedError, isCodestepError, isErrorCode } from '@codestep/core';
import { annotateActiveSpan, idAttributes } from '@codestep/telemetry';
import { HttpInputError, decodeSegment, parseJsonBody, parseTarget } from './request-input.parser.ts';

export interface RouteRequest {
  tenantId: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string | undefined>;
  /** Aborted when the server starts stopping: a handler that waits (a webhook) answers with what it has. */
  signal?: AbortSignal;
  /** The body's bytes, unparsed (`body` is then undefined): routes with `rawBody`, which check a signature over them. */
  rawBody?: Buffer;
  /** The request target as received (path and query), for signatures over the URL. */
  target?: string;
}

export interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Streams the response itself (server-sent events); `status`/`body` are then ignored. */
  stream?: (res: ServerResponse, signal: AbortSignal) => Promise<void>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `/v1/workflows/:id`; a `:name` right after a `/` is a parameter (`…/enrollments:batch` is literal). */
  path: string;
  auth: 'tenant' | 'none';
  /**
   * `true`: the body is handed over unparsed as `rawBody` (the route checks a signature over its exact
   * bytes before reading it); `{ maxBytes }`: the body is text (up to `maxBytes`), not parsed as JSON:
   * NDJSON and other line formats.
   */
  rawBody?: boolean | { maxBytes: number };
  handle(req: RouteRequest): Promise<RouteResponse>;
}

/** The HTTP status of a code, from the catalogue; a code it does not know is a 500. */
export function statusFor(code: string): number {
  return isErrorCode(code) ? ERROR_CATALOGUE[code].http : 500;
}

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

export interface RouterOptions {
  /** Resolves an API key to a tenant id, or undefined. */
  authenticate(key: string): Promise<string | undefined>;
  /** Request bodies above this are refused, bytes. @default 1048576 */
  maxBodyBytes?: number;
  onError?(error: unknown, req: IncomingMessage): void;
  /** Aborted when the server starts stopping: ends streams and tells waiting handlers to answer. */
  shutdown?: AbortSignal;
}

export function createRouter(routes: Route[], options: RouterOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const compiled: Compiled[] = routes.map((route) => {
    const names: string[] = [];
    const pattern = route.path.replace(/\/:([A-Za-z]+)/g, (_m, n: string) => (names.push(n), '/([^/]+)'));
    return { route, regex: new RegExp(`^${pattern}/?$`), names };
  });
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  return async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      const text = body === undefined ? '' : JSON.stringify(body, null, 2);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(text);
    };
    const error = (status: number, code: string, message: string) => send(status, { error: { code, message } });
    try {
      const { path, query } = parseTarget(req.url ?? '/');
      const matches = compiled.filter((c) => c.regex.test(path));
      if (matches.length === 0) return error(404, 'NOT_FOUND', `no route for ${path.slice(0, 200)}; see GET /openapi.json`);
      const match = matches.find((c) => c.route.method === req.method);
      if (!match) return error(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path.slice(0, 200)}; use ${matches.map((m) => m.route.method).join(', ')}`);
      annotateActiveSpan({ 'http.route': match.route.path }, `${req.method} ${match.route.path}`);
      const tenantId = await authenticate(match.route, req, options);
      const values = match.regex.exec(path)!.slice(1);
      const params = Object.fromEntries(match.names.map((n, i) => [n, decodeSegment(n, values[i] ?? '')]));
      annotateActiveSpan(idAttributes({ tenantId, ...routeIds(match.route.path, params) }));
      const rawOption = match.route.rawBody;
      const raw = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readBody(req, typeof rawOption === 'object' ? rawOption.maxBytes : maxBody);
      const text = raw?.length ? raw.toString('utf8') : undefined;
      const body = typeof rawOption === 'object' ? text : rawOption || text === undefined ? undefined : parseJsonBody(text);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
      const out = await match.route.handle({
        tenantId,
        params,
        query,
        body,
        headers,
        ...(options.shutdown ? { signal: options.shutdown } : {}),
        ...(rawOption === true ? { rawBody: raw ?? Buffer.alloc(0), target: req.url ?? '/' } : {}),
      });
      if (out.stream) {
        const ac = new AbortController();
        res.on('close', () => ac.abort());
        await out.stream(res, options.shutdown ? AbortSignal.any([ac.signal, options.shutdown]) : ac.signal);
        return;
      }
      if (out.headers?.['content-type'] && typeof out.body === 'string') {
        res.writeHead(out.status, out.headers);
        res.end(out.body);
        return;
      }
      send(out.status, out.body, out.headers);
    } catch (e) {
      if (isCodestepError(e)) return error(statusFor(e.code), e.code, e.message);
      options.onError?.(e, req);
      error(500, 'INTERNAL', 'internal error; the server log has the details');
    }
  };
}

/** The workflow or enrollment a route's `:id` names, for its span. */
function routeIds(path: string, params: Record<string, string>): { workflowId?: string; enrollmentId?: string } {
  const id = params.id;
  if (!id) return {};
  if (path.startsWith('/v1/workflows/:id')) return { workflowId: id };
  if (path.startsWith('/v1/enrollments/:id')) return { enrollmentId: id };
  return {};
}

/** The tenant of a route that needs one, from its API key; '' for a public route. */
async function authenticate(route: Route, req: IncomingMessage, options: RouterOptions): Promise<string> {
  if (route.auth !== 'tenant') return '';
  const header = req.headers.authorization ?? '';
  const key = header.startsWith('Bearer ') ? header.slice(7).trim() : String(req.headers['x-api-key'] ?? '');
  if (!key) throw new UnauthenticatedError('missing API key: send "Authorization: Bearer <key>" (embedded mode prints a key on first start)');
  const tenantId = await options.authenticate(key);
  if (!tenantId) throw new UnauthenticatedError('unknown API key (or revoked): send a working key of the tenant; GET /v1/api-keys lists them');
  return tenantId;
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpInputError('PAYLOAD_TOO_LARGE', `request body is over ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
