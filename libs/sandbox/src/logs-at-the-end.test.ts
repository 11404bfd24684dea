/**
 * What an action logged before the host had to stop it (time limit, memory limit) is in its
 * result, even when the action never yields again after logging: the worker hands each line to
 * the host as it is logged, and the host reads them all before it decides the result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;

const run = (code: string, overrides: Parameters<typeof hubspotRequest>[1] = {}): Promise<ExecutionResult> => sandbox.execute(hubspotRequest(code, overrides));
const messages = (result: ExecutionResult): string[] => result.logs.map((line) => line.message);

before(async () => {
  sandbox = await createSandbox({ poolSize: 2, egress: { allowHosts: [], mapHosts: {} } });
});

after(async () => {
  await sandbox.close();
});

describe('logs of an execution the host stops', () => {
  it('keeps a line logged just before an endless loop in the TIMEOUT result', async () => {
    const result = await run(`exports.main = async () => { console.log('before'); for (;;) {} }`, { limits: { timeoutMs: 300, memoryMb: 128 } });
    assert.equal(result.error?.code, 'TIMEOUT');
    assert.deepEqual(messages(result), ['before']);
    assert.equal(result.logsTruncated, false);
  });

  it('keeps a line logged just before the heap runs out in the MEMORY_LIMIT result', async () => {
    const result = await run(`exports.main = async () => { console.log('before'); const keep = []; for (;;) keep.push(new Array(100000).fill({ a: 1 })) }`, {
      limits: { timeoutMs: 10_000, memoryMb: 64 },
    });
    assert.equal(result.error?.code, 'MEMORY_LIMIT');
    assert.deepEqual(messages(result), ['before']);
  });

  it('keeps a line logged just before an off-heap allocation over the limit in the MEMORY_LIMIT result', async () => {
    const result = await run(`exports.main = async () => { console.log('before'); const big = new ArrayBuffer(512 * 1024 * 1024); for (;;) {} }`, {
      limits: { timeoutMs: 5000, memoryMb: 64 },
    });
    assert.equal(result.error?.code, 'MEMORY_LIMIT');
    // The refused allocation's stack follows, as for any failure: at the user's line, no worker frames.
    const [first, ...rest] = messages(result);
    assert.equal(first, 'before');
    assert.ok(
      rest.every((m) => m.startsWith('RangeError: Array buffer allocation failed') && m.includes('/action/index.js:1:') && !m.includes('[worker eval]')),
      JSON.stringify(rest),
    );
  });

  it('redacts secrets in the lines of a timed-out execution', async () => {
    const result = await run(`exports.main = async () => { console.log('using', process.env.API_KEY); for (;;) {} }`, {
      secrets: { API_KEY: 'sk-live-0123456789' },
      limits: { timeoutMs: 300, memoryMb: 128 },
    });
    assert.equal(result.error?.code, 'TIMEOUT');
    assert.deepEqual(messages(result), ['using [REDACTED]']);
  });

  it('holds the line cap for a timed-out execution and says how many lines were dropped', async () => {
    const result = await run(`exports.main = async () => { for (let i = 0; i < 2000; i++) console.log('line', i); for (;;) {} }`, {
      limits: { timeoutMs: 500, memoryMb: 128 },
    });
    assert.equal(result.error?.code, 'TIMEOUT');
    assert.equal(result.logsTruncated, true);
    assert.equal(result.logs.length, 501);
    assert.equal(result.logs[499]?.message, 'line 499');
    assert.match(result.logs[500]?.message ?? '', /logs truncated: 1500 more line\(s\) dropped/);
  });

  it('keeps the lines logged after callback when the time limit delivers the callback result', async () => {
    const result = await run(
      `exports.main = (event, callback) => { console.log('calling back'); callback({ outputFields: { early: true } }); setTimeout(() => { console.log('still busy'); for (;;) {} }, 20) }`,
      { limits: { timeoutMs: 400, memoryMb: 128 } },
    );
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.outputFields, { early: true });
    assert.deepEqual(messages(result).slice(0, 2), ['calling back', 'still busy']);
    assert.match(messages(result)[2] ?? '', /still pending at the time limit of 400 ms/);
  });
});
