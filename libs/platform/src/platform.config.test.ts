import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LIMIT_BOUNDS } from '@codestep/sandbox';
import { DEFAULT_OPERATOR_LIMITS, LIMIT_MINIMUMS } from '@codestep/workflows';
import { isoDurationMs } from '@codestep/gateway-service';
import { hubspotAppSettingsOf, loadPlatformConfig, operatorLimitsOf, platformSchema, sandboxOptionsOf } from './platform.config.ts';

describe('sandboxOptionsOf', () => {
  it('pre-warms the sandbox pool for the configured default memory, not always 128 MB', () => {
    const options = sandboxOptionsOf(loadPlatformConfig({ CODESTEP_ACTION_MEMORY_MB: '256' }));
    assert.equal(options.defaultMemoryMb, 256);
  });

  it('pre-warms for 128 MB when the operator sets no default memory', () => {
    assert.equal(sandboxOptionsOf(loadPlatformConfig({})).defaultMemoryMb, 128);
  });

  it("passes the sandbox host's memory ceiling when set, and leaves the sandbox's default otherwise", () => {
    assert.equal(sandboxOptionsOf(loadPlatformConfig({ CODESTEP_SANDBOX_HOST_MEMORY_CEILING_MB: '2048' })).hostMemoryCeilingMb, 2048);
    assert.equal('hostMemoryCeilingMb' in sandboxOptionsOf(loadPlatformConfig({})), false);
    assert.throws(() => loadPlatformConfig({ CODESTEP_SANDBOX_HOST_MEMORY_CEILING_MB: '-1' }), /CODESTEP_SANDBOX_HOST_MEMORY_CEILING_MB/);
  });

  it('refuses a host memory ceiling the sandbox would refuse to start with, at start and naming the variable', () => {
    assert.throws(() => loadPlatformConfig({ CODESTEP_SANDBOX_HOST_MEMORY_CEILING_MB: '100' }), /CODESTEP_SANDBOX_HOST_MEMORY_CEILING_MB must be 0 \(off\) or at least 128 MB/);
    assert.equal(sandboxOptionsOf(loadPlatformConfig({ CODESTEP_SANDBOX_HOST_MEMORY_CEILING_MB: '0' })).hostMemoryCeilingMb, 0);
  });
});

describe('the operator limits in the configuration', () => {
  it('default to the platform defaults, with the platform minimums as the lowest accepted values', () => {
    assert.deepEqual(operatorLimitsOf(loadPlatformConfig({})), DEFAULT_OPERATOR_LIMITS);
    assert.throws(() => loadPlatformConfig({ CODESTEP_ACTION_TIMEOUT_MS: String(LIMIT_MINIMUMS.timeoutMs - 1) }), /CODESTEP_ACTION_TIMEOUT_MS/);
    assert.equal(loadPlatformConfig({ CODESTEP_ACTION_TIMEOUT_MS: String(LIMIT_MINIMUMS.timeoutMs) }).defaultTimeoutMs, LIMIT_MINIMUMS.timeoutMs);
  });

  it("never accept a value the sandbox's hard safety caps would refuse", () => {
    assert.ok(LIMIT_BOUNDS.timeoutMs.min <= LIMIT_MINIMUMS.timeoutMs && LIMIT_BOUNDS.memoryMb.min <= LIMIT_MINIMUMS.memoryMb);
    assert.throws(() => loadPlatformConfig({ CODESTEP_ACTION_MAX_TIMEOUT_MS: String(LIMIT_BOUNDS.timeoutMs.max + 1) }), /CODESTEP_ACTION_MAX_TIMEOUT_MS/);
    assert.throws(() => loadPlatformConfig({ CODESTEP_ACTION_MAX_MEMORY_MB: String(LIMIT_BOUNDS.memoryMb.max + 1) }), /CODESTEP_ACTION_MAX_MEMORY_MB/);
  });

  it('document their defaults from the same constants', () => {
    assert.match(platformSchema.defaultTimeoutMs.doc, new RegExp(`HubSpot: ${DEFAULT_OPERATOR_LIMITS.defaultTimeoutMs}\\)`));
    assert.match(platformSchema.defaultMemoryMb.doc, new RegExp(`HubSpot: ${DEFAULT_OPERATOR_LIMITS.defaultMemoryMb}\\)`));
  });
});

describe("the tracing UI's URL template", () => {
  it('is taken when it makes an http(s) link from a trace id, and refused at start naming the variable otherwise', () => {
    assert.equal(loadPlatformConfig({ CODESTEP_TRACE_URL_TEMPLATE: 'http://localhost:16686/trace/{traceId}' }).traceUrlTemplate, 'http://localhost:16686/trace/{traceId}');
    assert.equal(loadPlatformConfig({}).traceUrlTemplate, undefined);
    assert.throws(() => loadPlatformConfig({ CODESTEP_TRACE_URL_TEMPLATE: 'http://localhost:16686/trace/' }), /CODESTEP_TRACE_URL_TEMPLATE must contain \{traceId\}/);
    assert.throws(() => loadPlatformConfig({ CODESTEP_TRACE_URL_TEMPLATE: 'javascript:alert({traceId})' }), /CODESTEP_TRACE_URL_TEMPLATE must be an http\(s\) URL/);
  });
});

describe("the HubSpot app's block expiration", () => {
  const app = { HUBSPOT_APP_ID: '8200001', HUBSPOT_CLIENT_ID: 'app', HUBSPOT_CLIENT_SECRET: 'secret' };
  it('is an ISO 8601 duration the callback completer gives up at, refused at start naming the variable otherwise', () => {
    assert.equal(hubspotAppSettingsOf(loadPlatformConfig(app))?.blockExpiration, 'P1D');
    assert.equal(hubspotAppSettingsOf(loadPlatformConfig({ ...app, HUBSPOT_BLOCK_EXPIRATION: 'PT12H' }))?.blockExpiration, 'PT12H');
    assert.equal(isoDurationMs('P2DT30M'), 174_600_000);
    for (const bad of ['1 day', 'P1Y', 'P', 'PT'])
      assert.throws(() => hubspotAppSettingsOf(loadPlatformConfig({ ...app, HUBSPOT_BLOCK_EXPIRATION: bad })), /HUBSPOT_BLOCK_EXPIRATION must be an ISO 8601 duration/);
  });
});
