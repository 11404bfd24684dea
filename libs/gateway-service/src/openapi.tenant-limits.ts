import { LIMIT_MINIMUMS as MIN } from '@codestep/workflows';
import { ref } from './openapi.parts.ts';

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
