import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadPlatformConfig, sandboxOptionsOf } from './platform.config.ts';

describe('sandboxOptionsOf', () => {
  it('pre-warms the sandbox pool for the configured default memory, not always 128 MB', () => {
    const options = sandboxOptionsOf(loadPlatformConfig({ CODESTEP_ACTION_MEMORY_MB: '256' }));
    assert.equal(options.defaultMemoryMb, 256);
  });

  it('pre-warms for 128 MB when the operator sets no default memory', () => {
    assert.equal(sandboxOptionsOf(loadPlatformConfig({})).defaultMemoryMb, 128);
  });
});
