import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from '../sandbox.ts';
import type { SandboxHandle } from '../sandbox.types.ts';
import { hubspotRequest } from '../testing/sandbox-test-kit.ts';
import { chooseVictim, MemoryBackstop, type Holding } from './memory-backstop.ts';

const MB = 1024 * 1024;

describe('choosing the worker to end', () => {
  it('picks the worker holding the most, by what the workers reported', () => {
    const holdings: Array<Holding<string>> = [
      { worker: 'a', bytes: 40 * MB, blind: false },
      { worker: 'b', bytes: 700 * MB, blind: false },
    ];
    assert.deepEqual(chooseVictim(holdings, 900 * MB, 100 * MB, 64 * MB), { worker: 'b', bytes: 700 * MB });
  });

  it('charges a worker that could not answer with the memory nobody accounts for', () => {
    const holdings: Array<Holding<string>> = [
      { worker: 'answered', bytes: 90 * MB, blind: false },
      { worker: 'spinning', bytes: 10 * MB, blind: true },
    ];
    // 1,000 MB resident, 100 MB of it the host's own, 100 MB reported: 800 MB unexplained.
    assert.deepEqual(chooseVictim(holdings, 1000 * MB, 100 * MB, 64 * MB), { worker: 'spinning', bytes: 810 * MB });
  });

  it('ends nobody when even the largest holder holds less than the minimum', () => {
    assert.equal(chooseVictim([{ worker: 'a', bytes: 30 * MB, blind: false }], 900 * MB, 100 * MB, 64 * MB), undefined);
  });
});

describe('the backstop loop', () => {
  it('samples only while executions run, and ends the largest holder once the host passes its ceiling', async () => {
    let rss = 100 * MB;
    let active = true;
    const ended: string[] = [];
    const backstop = new MemoryBackstop<string>({
      ceilingBytes: () => 500 * MB,
      sampleMs: 5,
      minVictimBytes: 64 * MB,
      rss: () => rss,
      active: () => active,
      workers: () => ['small', 'big'],
      measure: async (worker) => ({ bytes: worker === 'big' ? 600 * MB : 10 * MB, blind: false }),
      end: async (worker) => {
        ended.push(worker);
        rss = 100 * MB;
      },
      warn: () => {},
    });
    backstop.wake();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(ended, [], 'under the ceiling nothing is ended');
    rss = 800 * MB;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(ended, ['big']);
    active = false;
    rss = 800 * MB;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(ended, ['big'], 'with no execution running, sampling has stopped');
    backstop.stop();
  });
});

// The real host, with a low ceiling and a memory class large enough that the in-context
// accounting allows each action what it holds: only the backstop can end them.
describe('the sandbox host over its memory ceiling', () => {
  let sandbox: SandboxHandle;
  const limits = { timeoutMs: 10_000, memoryMb: 1024 };
  const patient = `exports.main = async () => { await new Promise((r) => setTimeout(r, 1500)); return { outputFields: { ok: true } }; }`;

  before(async () => {
    sandbox = await createSandbox({ poolSize: 2, defaultMemoryMb: 1024, hostMemoryCeilingMb: 320 });
  });

  after(async () => {
    await sandbox.close();
  });

  for (const [how, code] of [
    [
      'holds array buffers and waits (it answers the probe)',
      `exports.main = async () => { const keep = []; for (let i = 0; i < 40; i++) keep.push(new Uint8Array(16 << 20).fill(1)); await new Promise((r) => setTimeout(r, 9000)); return { outputFields: { held: keep.length } }; }`,
    ],
    [
      'holds shared array buffers and spins (measured from outside)',
      `exports.main = async () => { const keep = []; const s = new SharedArrayBuffer(16 << 20); for (let i = 0; i < 25; i++) keep.push(s.slice(0)); for (;;) {} }`,
    ],
  ] as const) {
    it(`ends with MEMORY_LIMIT the execution that ${how}, while the other execution completes`, async () => {
      const startsBefore = (await sandbox.stats()).hostStarts;
      const [hog, other] = await Promise.all([sandbox.execute(hubspotRequest(code, { limits })), sandbox.execute(hubspotRequest(patient, { limits }))]);
      assert.equal(hog.error?.code, 'MEMORY_LIMIT', JSON.stringify(hog.error ?? hog.outputFields));
      assert.match(hog.error?.message ?? '', /memory ceiling of 320 MB/);
      assert.equal(other.status, 'succeeded', JSON.stringify(other.error));
      const next = await sandbox.execute(hubspotRequest(`exports.main = async () => ({ outputFields: { ok: true } })`, { limits }));
      assert.equal(next.status, 'succeeded', JSON.stringify(next.error));
      assert.equal((await sandbox.stats()).hostStarts, startsBefore, 'the host process kept serving');
    });
  }
});
