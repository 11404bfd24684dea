import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSandbox } from '../sandbox.ts';
import { hubspotRequest } from '../testing/sandbox-test-kit.ts';
import { hostArgs } from './host-connection.ts';

describe('the sandbox host command line', () => {
  it('keeps the permission model and no file system grant, whatever the GC headroom', () => {
    for (const headroom of [0, 64, 300]) {
      const args = hostArgs(headroom);
      assert.equal(args[0], '--permission');
      assert.ok(args.includes('--allow-worker'));
      assert.equal(args.at(-1), '-', 'the code comes on stdin');
      assert.ok(!args.some((arg) => arg.startsWith('--allow-fs') || arg.startsWith('--allow-child-process') || arg.startsWith('--allow-addons')), args.join(' '));
    }
  });

  it('gives V8 the GC headroom as its initial old space, and leaves V8 its default for 0', () => {
    assert.ok(hostArgs(64).includes('--initial-old-space-size=64'));
    assert.ok(hostArgs(100.7).includes('--initial-old-space-size=100'));
    assert.ok(!hostArgs(0).some((arg) => arg.startsWith('--initial-old-space-size')));
  });

  it('starts a host with V8 defaults (0) that runs actions, and refuses a negative headroom with a clear error', async () => {
    const sandbox = await createSandbox({ poolSize: 1, gcHeadroomMb: 0 });
    try {
      const result = await sandbox.execute(hubspotRequest(`exports.main = async () => ({ outputFields: { ok: true } });`));
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
      assert.deepEqual(result.outputFields, { ok: true });
    } finally {
      await sandbox.close();
    }
    await assert.rejects(createSandbox({ poolSize: 1, gcHeadroomMb: -1 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SANDBOX_START_FAILED');
      assert.match(error.message, /gcHeadroomMb must be a number of MB, 0 or more \(got -1\)/);
      return true;
    });
  });
});
