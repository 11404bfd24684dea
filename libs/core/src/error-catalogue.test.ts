import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CATALOGUE, ERROR_CODES, GrpcCode, errorSpecOf, isErrorCode } from './error-catalogue.ts';

describe('error catalogue', () => {
  it('gives every code an error HTTP status, a gRPC status and a message saying what happened', () => {
    const grpcCodes = new Set<number>(Object.values(GrpcCode));
    for (const code of ERROR_CODES) {
      const spec = ERROR_CATALOGUE[code];
      assert.ok(spec.http >= 400 && spec.http <= 599, `${code}: http ${spec.http}`);
      assert.ok(grpcCodes.has(spec.grpc) && spec.grpc !== GrpcCode.OK, `${code}: grpc ${spec.grpc}`);
      assert.match(spec.userMessage, /^[A-Z].{10,}[.)]$/, `${code}: message`);
    }
  });

  it('maps bad input to 400, missing keys to 401 and unknown ids to 404, as the API documents', () => {
    assert.equal(ERROR_CATALOGUE.INVALID_ARGUMENT.http, 400);
    assert.equal(ERROR_CATALOGUE.UNAUTHENTICATED.http, 401);
    assert.equal(ERROR_CATALOGUE.NOT_FOUND.http, 404);
    assert.equal(ERROR_CATALOGUE.INVALID_ARGUMENT.grpc, GrpcCode.INVALID_ARGUMENT);
  });

  it("marks the failures a retry can cure as retryable and the user's mistakes as not", () => {
    for (const code of ['RATE_LIMITED', 'EXECUTOR_LOST', 'UNAVAILABLE', 'EGRESS_TIMEOUT'] as const) assert.equal(ERROR_CATALOGUE[code].retryable, true, code);
    for (const code of ['USER_CODE_ERROR', 'TIMEOUT', 'MEMORY_LIMIT', 'INVALID_OUTPUT', 'INVALID_ARGUMENT', 'EGRESS_BLOCKED'] as const) assert.equal(ERROR_CATALOGUE[code].retryable, false, code);
  });

  it('treats a code it does not know as internal', () => {
    assert.equal(isErrorCode('NO_SUCH_CODE'), false);
    assert.equal(isErrorCode('toString'), false);
    assert.equal(errorSpecOf('NO_SUCH_CODE'), ERROR_CATALOGUE.INTERNAL);
    assert.equal(errorSpecOf('TIMEOUT'), ERROR_CATALOGUE.TIMEOUT);
  });
});
