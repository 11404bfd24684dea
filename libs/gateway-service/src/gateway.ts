/**
 * The gateway's HTTP server: public API routes, health and the OpenAPI document.
 *
 * Stopping drains: a request the gateway has started may already have committed (an enrollment),
 * so dropping its connection would tell the client it failed when it did not, and a client that
 * retries without an Idempotency-Key would enroll twice. So `close` stops accepting, answers every
 * request in flight (bounded by the drain timeout), and only then closes the connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@codestep/core';
import { SpanKind, SpanStatusCode, withSpan, type Attributes } from '@codestep/telemetry';
import { consoleHandler } from './console.static.ts';
import { openApiDocument } from './openapi.ts';
import { createRouter, type Route } from './router.ts';
import type { Tenants } from './tenants.ts';

export interface GatewayOptions {
  host: string;
  port: number;
  routes: Route[];
  tenants: Tenants;
  logger: Logger;
  publicUrl?: string;
  /** The web console's built files (apps/console/dist), served at `/` and every path outside the API; none: no console. */
  consoleDir?: string;
  /** On close, how long requests in flight may take to be answered before their connections are cut, ms. @default 10000 */
  drainTimeoutMs?: number;
}

export interface Gateway {
  server: Server;
  url: string;
  /** Stops accepting, answers what is in flight (within the drain timeout), closes every connection; idempotent. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  let url = options.publicUrl ?? '';
  const routes: Route[] = [
    { method: 'GET', path: '/healthz', auth: 'none', handle: async () => ({ status: 200, body: { status: 'ok' } }) },
    { method: 'GET', path: '/openapi.json', auth: 'none', handle: async () => ({ status: 200, body: openApiDocument(url) }) },
    ...options.routes,
  ];
  const shutdown = new AbortController();
  const router = createRouter(routes, {
    authenticate: (key) => options.tenants.authenticate(key),
    // The path only: query strings can carry OAuth codes and state.
    onError: (error, req) => options.logger.error({ error, method: req.method, path: (req.url ?? '/').split('?')[0] }, 'request failed'),
    shutdown: shutdown.signal,
  });
  const inFlight = new InFlight();
  const serveConsole = options.consoleDir ? consoleHandler(options.consoleDir) : undefined;
  const server = createServer((req, res) => {
    inFlight.add(res);
    // HTTP semantic conventions: named by the method until the router names the matched route
    // (`POST /v1/workflows/:id/enrollments`); the path only, never the query (OAuth codes).
    const method = req.method ?? 'GET';
    void withSpan(
      method,
      { kind: SpanKind.SERVER, parent: { traceparent: header(req.headers.traceparent), tracestate: header(req.headers.tracestate) }, attributes: serverAttributes(req, method) },
      async (span) => {
        try {
          if (serveConsole && (await serveConsole(req, res).catch(() => false))) return;
          await router(req, res);
        } finally {
          // The status is written by the time the router returns (the span ends right after).
          if (res.headersSent) span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        }
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  url ||= `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    shutdown.abort();
    inFlight.closeAfterAnswer();
    server.closeIdleConnections();
    const drained = await inFlight.drained(options.drainTimeoutMs ?? 10_000);
    if (!drained) options.logger.warn({ inFlight: inFlight.size, drainTimeoutMs: options.drainTimeoutMs ?? 10_000 }, 'requests still in flight at the drain timeout; closing their connections');
    server.closeAllConnections();
    await closed;
  };
  return { server, url, close: () => (closing ??= close()) };
}

/**
 * The responses not yet finished. Once draining, each is sent with `Connection: close` (so a
 * keep-alive client sends nothing more on that connection), and `drained` resolves when the last
 * one is done, in the same turn: no new request can start between that and the close after it.
 */
class InFlight {
  readonly #open = new Set<ServerResponse>();
  #draining = false;
  #onEmpty: (() => void) | undefined;

  get size(): number {
    return this.#open.size;
  }

  add(res: ServerResponse): void {
    this.#open.add(res);
    if (this.#draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      this.#open.delete(res);
      if (this.#open.size === 0) this.#onEmpty?.();
    });
  }

  closeAfterAnswer(): void {
    this.#draining = true;
    for (const res of this.#open) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  /** True once nothing is in flight, false if something still is after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.#open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#onEmpty = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}

/** The path as a span shows it: a webhook's or a resume URL's token is a credential, never recorded. */
function tracedPath(path: string): string {
  return path.replace(/^\/(hooks|resume)\/[^/]+/, '/$1/:token');
}

function serverAttributes(req: IncomingMessage, method: string): Attributes {
  const attributes: Attributes = {
    'http.request.method': method,
    'url.path': tracedPath((req.url ?? '/').split('?')[0] ?? '/'),
    'url.scheme': 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
    'network.protocol.version': req.httpVersion,
  };
  if (req.socket.localPort !== undefined) attributes['server.port'] = req.socket.localPort;
  if (req.socket.remoteAddress) attributes['client.address'] = req.socket.remoteAddress;
  const agent = header(req.headers['user-agent']);
  if (agent) attributes['user_agent.original'] = agent.slice(0, 256);
  return attributes;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
