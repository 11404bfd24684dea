/** The OpenAPI paths and schemas of a tenant's API keys (`./api-keys.routes.ts`). */
import { MAX_KEY_NAME } from './api-keys.routes.ts';
import { errors, json, nextCursor, pageParams, ref } from './openapi.parts.ts';
import { PAGE_LIMIT } from './paging.ts';

export function apiKeysPaths(): Record<string, unknown> {
  return {
    '/v1/api-keys': {
      post: {
        operationId: 'createApiKey',
        summary: 'Create another API key of this tenant; its value is in this answer only (only its hash is stored)',
        requestBody: json({ type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: MAX_KEY_NAME } } }),
        responses: {
          '201': {
            description: 'Created: keep `key`, it is never shown again',
            ...json({ allOf: [ref('ApiKey'), { type: 'object', required: ['key'], properties: { key: { type: 'string', example: 'csk_…' } } }] }),
          },
          ...errors,
          '409': { description: 'A working key has that name already (ALREADY_EXISTS)', ...json(ref('Error')) },
        },
      },
      get: {
        operationId: 'listApiKeys',
        summary: "This tenant's API keys, working and revoked, oldest first (never their values)",
        parameters: pageParams(PAGE_LIMIT),
        responses: {
          '200': { description: 'OK', ...json({ type: 'object', required: ['apiKeys', 'nextCursor'], properties: { apiKeys: { type: 'array', items: ref('ApiKey') }, nextCursor } }) },
          ...errors,
        },
      },
    },
    '/v1/api-keys/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      delete: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key: every gateway refuses it from the answer on (revoking a revoked key answers it as it is)',
        responses: {
          '200': { description: 'Revoked', ...json(ref('ApiKey')) },
          ...errors,
          '409': { description: "The tenant's last working key (FAILED_PRECONDITION): create another first", ...json(ref('Error')) },
        },
      },
    },
  };
}

export function apiKeySchemas(): Record<string, unknown> {
  return {
    ApiKey: {
      type: 'object',
      required: ['id', 'name', 'prefix', 'createdAt', 'revokedAt', 'status'],
      properties: {
        id: { type: 'string', example: 'key_…' },
        name: { type: 'string' },
        prefix: { type: 'string', description: "The key's first characters, to tell keys apart (empty for a key created before prefixes)" },
        createdAt: { type: 'string', format: 'date-time' },
        revokedAt: { type: ['string', 'null'], format: 'date-time' },
        status: { type: 'string', enum: ['active', 'revoked'] },
      },
    },
  };
}
