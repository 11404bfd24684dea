import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consolePart } from './console.part.ts';
import { corePart } from './core.part.ts';
import { inspectPart } from './inspect.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { memoryPart } from './memory.part.ts';
import { fakeHost, plain, runParts } from './part-test-kit.ts';
import { processPart, type ProcessPart } from './process.part.ts';

function contextProcess(host = fakeHost()): ProcessPart {
  return runParts((bridge) => {
    const core = corePart(bridge, intrinsicsPart());
    return processPart(core, consolePart(core, inspectPart(core)), memoryPart(core));
  }, host.bridge).result;
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code;

describe('the process part', () => {
  it('starts with an empty env and nothing of the worker', () => {
    const part = contextProcess();
    assert.deepEqual(plain(part.env), {});
    assert.equal(part.process.env, part.env);
    assert.deepEqual(plain(part.process.argv), ['/usr/local/bin/node', '/action/index.js']);
    assert.equal(part.process.version, 'v24.0.0');
    assert.equal(part.process.pid, 1);
  });

  it('refuses exit, abort, kill and chdir with ERR_NOT_AVAILABLE', () => {
    const proc = contextProcess().process as Record<string, () => unknown>;
    for (const name of ['exit', 'abort', 'kill', 'chdir'])
      assert.throws(
        () => proc[name]!(),
        (error) => codeOf(error) === 'ERR_NOT_AVAILABLE',
        name,
      );
  });

  it('writes stdout and stderr to the logs', () => {
    const host = fakeHost();
    const proc = contextProcess(host).process as { stdout: { write: (s: string) => boolean }; stderr: { write: (s: string) => boolean } };
    assert.equal(proc.stdout.write('out'), true);
    proc.stderr.write('err');
    assert.deepEqual(host.callsOf('log'), [
      ['log', 'out'],
      ['error', 'err'],
    ]);
  });
});
