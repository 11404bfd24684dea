/**
 * Helpers for the sandbox's own tests and benchmark: request builders and a local HTTP server
 * that actions reach through `egress.mapHosts`.
 */
import http from 'node:http';
import type { ExecutionRequest, HubSpotEvent } from '../sandbox.types.ts';

let counter = 0;

export function sampleEvent(overrides: Partial<HubSpotEvent> = {}): HubSpotEvent {
  return {
    origin: { portalId: 62515, actionDefinitionId: 1001 },
    object: { objectType: 'CONTACT', objectId: 4 },
    inputFields: { firstname: 'Ada', amount: 12 },
    callbackId: `ap-62515-${++counter}`,
    ...overrides,
  };
}

/** A HubSpot-form request for `code`, with small limits unless overridden. */
export function hubspotRequest(code: string, overrides: Partial<ExecutionRequest> = {}): ExecutionRequest {
  counter++;
  return {
    executionId: `exe_${counter}`,
    tenantId: 'tenant_test',
    code,
    input: { runtime: 'hubspot', event: sampleEvent() },
    secrets: {},
    limits: { timeoutMs: 5000, memoryMb: 128 },
    ...overrides,
  };
}

export function workflowRequest(code: string, data: unknown, overrides: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return hubspotRequest(code, { input: { runtime: 'jsworkflows', data, headers: { 'content-type': 'application/json' } }, ...overrides });
}

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Requests seen, in order. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

export type Route = (request: { method: string; url: string; body: string }) => { status?: number; headers?: Record<string, string>; body?: unknown };

/** Starts an HTTP server on loopback answering with `route` (JSON bodies unless a string is given). */
export async function startLocalServer(route: Route): Promise<LocalServer> {
  const requests: LocalServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
      requests.push(seen);
      const answer = route(seen);
      res.statusCode = answer.status ?? 200;
      for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
      if (typeof answer.body === 'string') res.end(answer.body);
      else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer.body ?? {}));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
