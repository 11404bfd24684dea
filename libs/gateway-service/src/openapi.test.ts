import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_OPERATOR_LIMITS, LIMIT_MINIMUMS } from '@codestep/workflows';
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

  it("states a tenant's limit settings with the platform's minimums", () => {
    const tenant = schemas.TenantLimitSettings?.properties ?? {};
    assert.deepEqual(
      [tenant.defaultTimeoutMs?.minimum, tenant.maxTimeoutMs?.minimum, tenant.defaultMemoryMb?.minimum, tenant.maxMemoryMb?.minimum],
      [LIMIT_MINIMUMS.timeoutMs, LIMIT_MINIMUMS.timeoutMs, LIMIT_MINIMUMS.memoryMb, LIMIT_MINIMUMS.memoryMb],
    );
  });
});
