import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CLAIMS } from '@codestep/executor-service';
import { staleTransitionsOf } from './adapters.ts';
import { loadPlatformConfig } from './platform.config.ts';

describe('staleTransitionsOf', () => {
  it("takes an executor claim's unfinished transition over only after three leases (a live writer slowed between its two writes is not overtaken), and leaves other services' stores at the store's bound", () => {
    const config = loadPlatformConfig({});
    assert.deepEqual(staleTransitionsOf(config, 'executor'), { staleTransitionMs: { [CLAIMS]: 3 * config.claimLeaseMs } });
    assert.deepEqual(staleTransitionsOf(config, 'enrollment'), {});
  });
});
