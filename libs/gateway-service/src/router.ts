/**
 * A small router over `node:http`: routes declare method, path pattern (`/v1/workflows/:id`)
 * and whether a tenant API key is required; handlers get parsed input and return a status and
 * a JSON body. Errors with a code map to HTTP statuses here, at the edge.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CATALOGUE, isCodestepError, isErrorCode } from '@codestep/core';

export interface RouteRequest {
  tenantId: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string | undefined>;
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
  path: string;
  auth: 'tenant' | 'none';
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
}

export function createRouter(routes: Route[], options: RouterOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const compiled: Compiled[] = routes.map((route) => {
    const names: string[] = [];
    const pattern = route.path.replace(/:([A-Za-z]+)/g, (_m, n: string) => (names.push(n), '([^/]+)'));
    return { route, regex: new RegExp(`^${pattern}/?$`), names };
  });
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      const text = body === undefined ? '' : JSON.stringify(body, null, 2);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(text);
    };
    const error = (status: number, code: string, message: string) => send(status, { error: { code, message } });
    try {
      const matches = compiled.filter((c) => c.regex.test(url.pathname));
      if (matches.length === 0) return error(404, 'NOT_FOUND', `no route for ${url.pathname}; see GET /openapi.json`);
      const match = matches.find((c) => c.route.method === req.method);
      if (!match) return error(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}; use ${matches.map((m) => m.route.method).join(', ')}`);
      let tenantId = '';
      if (match.route.auth === 'tenant') {
        const header = req.headers.authorization ?? '';
        const key = header.startsWith('Bearer ') ? header.slice(7).trim() : String(req.headers['x-api-key'] ?? '');
        if (!key) return error(401, 'UNAUTHENTICATED', 'missing API key: send "Authorization: Bearer <key>" (embedded mode prints a key on first start)');
        const t = await options.authenticate(key);
        if (!t) return error(401, 'UNAUTHENTICATED', 'unknown API key');
        tenantId = t;
      }
      const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readJson(req, maxBody);
      const values = match.regex.exec(url.pathname)!.slice(1);
      const params = Object.fromEntries(match.names.map((n, i) => [n, decodeURIComponent(values[i] ?? '')]));
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
      const out = await match.route.handle({ tenantId, params, query: url.searchParams, body, headers });
      if (out.stream) {
        const ac = new AbortController();
        res.on('close', () => ac.abort());
        await out.stream(res, ac.signal);
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

class HttpInputError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpInputError('PAYLOAD_TOO_LARGE', `request body is over ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpInputError('INVALID_JSON', `request body is not valid JSON (${e instanceof Error ? e.message : String(e)}); send Content-Type: application/json`);
  }
}
