/**
 * Bearer authentication, the secondly rate limit and scope checks for the routes beyond the CRM
 * objects ones (owners, pipelines, associations, HubDB, legacy v1, communication preferences),
 * with the same answers as the objects API gives.
 */
import { rateGroupName, rateKey, readJson } from './crm.routes.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { expiredAuthentication, invalidAuthentication, missingScopes, rateLimitHeaders, secondlyRateLimit, validationError, type FakeResponse } from './hubspot-errors.ts';
import type { AccessTokenRecord } from './token.registry.ts';

/**
 * Runs `handler` for an authenticated request within the rate limit; `scopes` (any one
 * suffices) are checked for tokens that carry a scope list.
 */
export function withAuth(ctx: FakeContext, req: FakeRequest, scopes: readonly string[], handler: (token: AccessTokenRecord) => FakeResponse): FakeResponse {
  const auth = ctx.tokens.authenticate(req.headers.authorization);
  if (!auth.ok) {
    return auth.reason === 'expired' ? expiredAuthentication(req.correlationId, auth.expiredAt, ctx.options.clock()) : invalidAuthentication(req.correlationId);
  }
  const token = auth.record;
  req.portalId = token.portalId;
  const decision = ctx.limiter.take(rateKey(token));
  if (!decision.allowed) return secondlyRateLimit(req.correlationId, rateGroupName(token), decision.limit);
  if (scopes.length > 0 && token.scopes !== undefined && !scopes.some((s) => token.scopes?.includes(s))) {
    return missingScopes(req.correlationId, [scopes[0] as string]);
  }
  const response = handler(token);
  if (ctx.limiter.enabled) response.headers = { ...rateLimitHeaders(decision.limit, decision.remaining), ...response.headers };
  return response;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; response: FakeResponse };

/** The JSON body when it is an object; otherwise HubSpot's 400 (or 415) saying what was wrong. */
export function readObject(req: FakeRequest): Parsed<Record<string, unknown>> {
  const json = readJson(req);
  if (!json.ok) return json;
  if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return { ok: false, response: validationError(req.correlationId, 'Invalid input JSON: expected a JSON object') };
  }
  return { ok: true, value: json.value as Record<string, unknown> };
}

/** `inputs` of a batch body: an array of at most `limit` objects, or a 400. */
export function batchInputs(req: FakeRequest, limit = 100): Parsed<Array<Record<string, unknown>>> {
  const body = readObject(req);
  if (!body.ok) return body;
  const inputs = body.value['inputs'];
  if (!Array.isArray(inputs) || inputs.some((i) => typeof i !== 'object' || i === null)) {
    return { ok: false, response: validationError(req.correlationId, 'Invalid input JSON: inputs must be an array of objects') };
  }
  if (inputs.length > limit) return { ok: false, response: validationError(req.correlationId, `Batch input size ${inputs.length} exceeds the limit of ${limit}`) };
  return { ok: true, value: inputs as Array<Record<string, unknown>> };
}
