/**
 * A tenant's API keys over the API, authenticated by one of them: `POST /v1/api-keys` (a new
 * named key, its value in that answer only), `GET /v1/api-keys` (name, prefix, dates; never a
 * value), `DELETE /v1/api-keys/{id}` (revoked: refused at once by every gateway).
 */
import { ValidationError } from '@codestep/core';
import { pageOf } from './paging.ts';
import type { Route } from './router.ts';
import type { ApiKeyInfo, Tenants } from './tenants.ts';

/** The most characters of a key's name. */
export const MAX_KEY_NAME = 100;

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

/** A key as the API shows it. */
export function apiKeyView(k: ApiKeyInfo): Record<string, unknown> {
  return { id: k.id, name: k.name, prefix: k.prefix, createdAt: iso(k.createdAt), revokedAt: iso(k.revokedAt), lastUsedAt: iso(k.lastUsedAt), status: k.revokedAt ? 'revoked' : 'active' };
}

/**
 * The name of a new key, from `{"name": "…"}`.
 * @throws ValidationError naming what is wrong.
 */
export function parseKeyName(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body must be a JSON object like {"name": "ci deploys"}');
  const unknown = Object.keys(body).find((k) => k !== 'name');
  if (unknown) throw new ValidationError(`body.${unknown} is not a field of an API key; send only {"name": "…"}`, { field: unknown });
  const name = (body as { name?: unknown }).name;
  if (typeof name !== 'string' || !name.trim()) throw new ValidationError('name is required: a string telling what the key is for, like "ci deploys"', { field: 'name' });
  const trimmed = name.trim();
  if (trimmed.length > MAX_KEY_NAME) throw new ValidationError(`name is ${trimmed.length} characters long; at most ${MAX_KEY_NAME} are accepted`, { field: 'name' });
  if (/\p{Cc}/u.test(trimmed) || !trimmed.isWellFormed()) throw new ValidationError('name must be readable text: no control characters or unpaired surrogates', { field: 'name' });
  return trimmed;
}

export function apiKeyRoutes(tenants: Tenants): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/api-keys',
      auth: 'tenant',
      handle: async (req) => {
        const { key, apiKey } = await tenants.createKey(req.tenantId, parseKeyName(req.body));
        return { status: 201, body: { ...apiKeyView(key), key: apiKey } };
      },
    },
    {
      method: 'GET',
      path: '/v1/api-keys',
      auth: 'tenant',
      handle: async (req) => {
        const page = pageOf(await tenants.listKeys(req.tenantId), (k) => [k.createdAt, k.id], req.query);
        return { status: 200, body: { apiKeys: page.items.map(apiKeyView), nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/api-keys/:id',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: apiKeyView(await tenants.revokeKey(req.tenantId, req.params.id!)) }),
    },
  ];
}
