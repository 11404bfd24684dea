/** The gateway's HTTP server: public API routes, health and the OpenAPI document. */
import { createServer, type Server } from 'node:http';
import type { Logger } from '@codestep/core';
import { SpanKind, withSpan } from '@codestep/telemetry';
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
}

export interface Gateway {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  let url = options.publicUrl ?? '';
  const routes: Route[] = [
    { method: 'GET', path: '/healthz', auth: 'none', handle: async () => ({ status: 200, body: { status: 'ok' } }) },
    { method: 'GET', path: '/openapi.json', auth: 'none', handle: async () => ({ status: 200, body: openApiDocument(url) }) },
    ...options.routes,
  ];
  const router = createRouter(routes, {
    authenticate: (key) => options.tenants.authenticate(key),
    // The path only: query strings can carry OAuth codes and state.
    onError: (error, req) => options.logger.error({ error, method: req.method, path: (req.url ?? '/').split('?')[0] }, 'request failed'),
  });
  const server = createServer((req, res) => {
    void withSpan(
      `${req.method} ${(req.url ?? '/').split('?')[0]}`,
      { kind: SpanKind.SERVER, parent: { traceparent: header(req.headers.traceparent) }, attributes: { 'http.method': req.method ?? '' } },
      () => router(req, res),
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
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
