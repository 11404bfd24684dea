import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_OPERATOR_LIMITS, LIMIT_MINIMUMS } from '@codestep/workflows';
import { MAX_LOG_PAGE_LINES } from './api.routes.ts';
import { openApiDocument } from './openapi.ts';

type Schema = { minimum?: number; description?: string };

describe('the OpenAPI document', () => {
  const schemas = (openApiDocument('http://localhost').components as { schemas: Record<string, { properties: Record<string, Schema> }> }).schemas;

  it("states an action's limits with the platform's minimums and defaults", () => {
    const action = schemas.Action?.properties ?? {};
    assert.equal(action.timeoutMs?.minimum, LIMIT_MINIMUMS.timeoutMs);
    assert.equal(action.memoryMb?.minimum, LIMIT_MINIMUMS.memoryMb);
    assert.match(action.timeoutMs?.description ?? '', new RegExp(`the operator's, ${DEFAULT_OPERATOR_LIMITS.defaultTimeoutMs} unless configured`));
    assert.match(action.memoryMb?.description ?? '', new RegExp(`the operator's, ${DEFAULT_OPERATOR_LIMITS.defaultMemoryMb} unless configured`));
  });

  it("states an action's runtime version: the accepted values and the default", () => {
    const runtimeVersion = (schemas.Action?.properties ?? {}).runtimeVersion as Schema & { enum?: string[]; default?: string };
    assert.deepEqual(runtimeVersion.enum, ['node20', 'node24', 'latest']);
    assert.equal(runtimeVersion.default, 'node20');
    assert.match(runtimeVersion.description ?? '', /keeps the version it was saved with/);
  });

  it("states a tenant's limit settings with the platform's minimums", () => {
    const tenant = schemas.TenantLimitSettings?.properties ?? {};
    assert.deepEqual(
      [tenant.defaultTimeoutMs?.minimum, tenant.maxTimeoutMs?.minimum, tenant.defaultMemoryMb?.minimum, tenant.maxMemoryMb?.minimum],
      [LIMIT_MINIMUMS.timeoutMs, LIMIT_MINIMUMS.timeoutMs, LIMIT_MINIMUMS.memoryMb, LIMIT_MINIMUMS.memoryMb],
    );
  });

  it('documents the paging of an execution’s console lines: linesAfter and limit, and where a page sits', () => {
    const paths = openApiDocument('http://localhost').paths as Record<string, { get?: { parameters?: Array<{ name: string; schema: { minimum?: number; maximum?: number } }> } }>;
    const params = paths['/v1/executions/{id}']?.get?.parameters ?? [];
    assert.deepEqual(
      params.map((p) => [p.name, p.schema.minimum, p.schema.maximum]),
      [
        ['linesAfter', 0, undefined],
        ['limit', 1, MAX_LOG_PAGE_LINES],
      ],
    );
    assert.deepEqual(
      Object.keys(schemas.Execution?.properties ?? {}).filter((k) => k.startsWith('logs') || k.endsWith('Logs') || k === 'nextLinesAfter'),
      ['logs', 'logsTruncated', 'logsTotal', 'logsOffset', 'nextLinesAfter', 'moreLogs'],
    );
  });
});
