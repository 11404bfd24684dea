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

  it('gives every operation a unique operationId and its 4XX answers', () => {
    const paths = openApiDocument('http://localhost').paths as Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>;
    const ids: string[] = [];
    for (const [path, item] of Object.entries(paths)) {
      for (const method of ['get', 'post', 'put', 'delete', 'patch'] as const) {
        const op = item[method];
        if (!op) continue;
        assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, `${method.toUpperCase()} ${path} has no operationId`);
        ids.push(op.operationId!);
        assert.ok(
          Object.keys(op.responses ?? {}).some((s) => /^4(\d\d|XX)$/.test(s)),
          `${method.toUpperCase()} ${path} documents no 4XX answer`,
        );
      }
    }
    assert.equal(new Set(ids).size, ids.length, `operationIds repeat: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`);
    assert.ok(ids.length >= 40);
  });

  it('documents cursor paging (limit, cursor → nextCursor) on the API keys list', () => {
    const paths = openApiDocument('http://localhost').paths as Record<string, { get?: { parameters?: Array<{ name: string }>; responses: Record<string, any> } }>;
    const list = paths['/v1/api-keys']?.get;
    assert.deepEqual(
      list?.parameters?.map((p) => p.name),
      ['limit', 'cursor'],
    );
    assert.ok(list?.responses['200'].content['application/json'].schema.properties.nextCursor);
  });

  it('documents cursor paging on the enrollments list beside its filters', () => {
    const paths = openApiDocument('http://localhost').paths as Record<string, { get?: { parameters?: Array<{ name: string }>; responses: Record<string, any> } }>;
    const list = paths['/v1/enrollments']?.get;
    assert.deepEqual(
      list?.parameters?.map((p) => p.name),
      ['workflowId', 'status', 'limit', 'cursor', 'objectId', 'startedAfter', 'startedBefore'],
    );
    assert.deepEqual(list?.responses['200'].content['application/json'].schema.required, ['enrollments', 'nextCursor']);
  });
});
