/**
 * The child processes the end-to-end helpers run (`codestep replay --verify` by `replayVerified`)
 * have a time limit of their own: one that hangs is killed, with an error saying which and what it printed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runNode } from './platform-process.ts';

describe('child processes of the end-to-end helpers', () => {
  it('gives the exit code and output of a child that ends', async () => {
    const out = await runNode(['-e', "process.stdout.write('{}'); process.stderr.write('a log line'); process.exitCode = 3"], { X: '1' }, 30_000, 'the child');
    assert.deepEqual(out, { code: 3, stdout: '{}', stderr: 'a log line' });
  });

  it('kills a child that does not end within its limit, and says so with its output so far', async () => {
    let pid: number | undefined;
    await assert.rejects(runNode(['-e', "console.log(process.pid); console.error('waiting for a broker'); setInterval(() => {}, 1000)"], {}, 1_500, 'codestep replay --verify'), (error: Error) => {
      assert.match(error.message, /^codestep replay --verify did not end within 1500 ms and was killed; its output so far:\n\d+\n\nwaiting for a broker/);
      pid = Number(error.message.split('\n')[1]);
      return true;
    });
    assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' }, 'the child is gone');
  });
});
