/** The OpenAPI paths and schemas of a tenant's own settings: its execution limits and its API keys (`./api-keys.routes.ts`). */
import { MAX_KEY_NAME } from './api-keys.routes.ts';
import { DEFAULT_OPERATOR_LIMITS as OPERATOR, LIMIT_MINIMUMS as MIN } from '@codestep/workflows';
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
      required: ['id', 'name', 'prefix', 'createdAt', 'revokedAt', 'lastUsedAt', 'status'],
      properties: {
        id: { type: 'string', example: 'key_…' },
        name: { type: 'string' },
        prefix: { type: 'string', description: "The key's first characters, to tell keys apart (empty for a key created before prefixes)" },
        createdAt: { type: 'string', format: 'date-time' },
        revokedAt: { type: ['string', 'null'], format: 'date-time' },
        lastUsedAt: {
          type: ['string', 'null'],
          format: 'date-time',
          description: 'When a request last used the key, recorded at most once a minute per gateway (so up to a minute stale); null if never used since uses were recorded',
        },
        status: { type: 'string', enum: ['active', 'revoked'] },
      },
    },
  };
}

/** The tenant's own settings: its execution limits. */
export function tenantPaths(): Record<string, unknown> {
  return {
    '/v1/tenant/limits': {
      get: {
        operationId: 'getTenantLimits',
        summary: "This tenant's execution limits: its settings (null = the operator's value), the effective values, and the operator's bounds",
        responses: { '200': { description: 'OK', ...json(ref('TenantLimits')) }, ...errors },
      },
      put: {
        operationId: 'setTenantLimits',
        summary: "Set this tenant's execution limits (replaces all four; null or absent = the operator's value)",
        description:
          "An action's own timeoutMs/memoryMb win if set, else the tenant's default, else the operator's default; never above the tenant's ceiling or the operator's bound. A workflow whose action asks for more than the ceiling is refused when saved; lowering the ceiling later clamps existing workflows' actions. Each enrollment keeps the limits in force when it started. A value outside the operator's bounds is refused with 400 naming the field and the bound.",
        requestBody: json(ref('TenantLimitSettings')),
        responses: { '200': { description: 'OK', ...json(ref('TenantLimits')) }, ...errors },
      },
    },
  };
}

/** A tenant's execution limits: its settings, and what applies. */
export function tenantLimitsSchemas(): Record<string, unknown> {
  return {
    TenantLimitSettings: {
      type: 'object',
      properties: {
        defaultTimeoutMs: { type: ['integer', 'null'], minimum: MIN.timeoutMs, description: "Wall time of the tenant's actions that set none, ms" },
        defaultMemoryMb: { type: ['integer', 'null'], minimum: MIN.memoryMb, description: "Memory of the tenant's actions that set none, MB" },
        maxTimeoutMs: { type: ['integer', 'null'], minimum: MIN.timeoutMs, description: 'The most any action of the tenant may ask for, ms; at most the operator bound' },
        maxMemoryMb: { type: ['integer', 'null'], minimum: MIN.memoryMb, description: 'The most any action of the tenant may ask for, MB; at most the operator bound' },
      },
    },
    TenantLimits: {
      allOf: [
        ref('TenantLimitSettings'),
        {
          type: 'object',
          properties: {
            effective: {
              type: 'object',
              description: 'What applies: the settings, the operator values where unset',
              properties: { defaultTimeoutMs: { type: 'integer' }, defaultMemoryMb: { type: 'integer' }, maxTimeoutMs: { type: 'integer' }, maxMemoryMb: { type: 'integer' } },
            },
            operator: {
              type: 'object',
              description: "The operator's defaults and bounds (platform configuration)",
              properties: {
                defaultTimeoutMs: { type: 'integer' },
                defaultMemoryMb: { type: 'integer' },
                maxTimeoutMs: { type: 'integer' },
                maxMemoryMb: { type: 'integer' },
                minTimeoutMs: { type: 'integer' },
                minMemoryMb: { type: 'integer' },
              },
            },
          },
        },
      ],
    },
  };
}
