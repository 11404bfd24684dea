/**
 * `GET /v1/config`: what the operator configured that a client shows its users, today the tracing
 * UI's URL template (`{traceId}` replaced by an execution's trace id) the console links each
 * execution to. Public like every other route: a script reads the same.
 */
import { errors, json } from './openapi.parts.ts';
import type { Route } from './router.ts';

export interface ClientConfig {
  /** A URL of the operator's tracing UI with `{traceId}` (e.g. `http://localhost:16686/trace/{traceId}`); none: no links. */
  traceUrlTemplate?: string | undefined;
}

/** The problem with a trace URL template, or undefined when it makes an http(s) URL from a trace id. */
export function traceTemplateProblem(template: string): string | undefined {
  if (!template.includes('{traceId}')) return 'must contain {traceId}, where the trace id goes';
  const url = template.split('{traceId}').join('4bf92f3577b34da6a3ce929d0e0e4736');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return 'must be an http(s) URL, like http://localhost:16686/trace/{traceId}';
  return undefined;
}

export function clientConfigRoutes(config: ClientConfig): Route[] {
  const body = { traceUrlTemplate: config.traceUrlTemplate || null };
  return [{ method: 'GET', path: '/v1/config', auth: 'tenant', handle: async () => ({ status: 200, body }) }];
}

/** The OpenAPI section of GET /v1/config. */
export function clientConfigPaths(): Record<string, unknown> {
  return {
    '/v1/config': {
      get: {
        operationId: 'getClientConfig',
        summary: "What the operator configured for clients: the tracing UI's URL template (CODESTEP_TRACE_URL_TEMPLATE), `{traceId}` replaced by an execution's traceId; null when none",
        responses: { '200': { description: 'OK', ...json({ type: 'object', properties: { traceUrlTemplate: { type: ['string', 'null'] } } }) }, ...errors },
      },
    },
  };
}
