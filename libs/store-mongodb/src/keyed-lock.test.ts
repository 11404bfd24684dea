import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedLock } from './keyed-lock.ts';

const tick = () => new Promise((r) => setImmediate(r));

void describe('KeyedLock', () => {
  void it('runs calls on the same key one after another, in the order they came', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([lock.run(['k'], job('a')), lock.run(['k'], job('b')), lock.run(['k'], job('c'))]);
    assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    assert.equal(lock.size, 0);
  });

  void it('lets calls on different keys overlap', async () => {
    const lock = new KeyedLock();
    let inside = 0;
    let most = 0;
    const job = async () => {
      most = Math.max(most, ++inside);
      await tick();
      inside--;
    };
    await Promise.all([lock.run(['a'], job), lock.run(['b'], job)]);
    assert.equal(most, 2);
  });

  void it('orders calls on overlapping key sets without deadlock and frees a key after a failure', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const results = await Promise.allSettled([
      lock.run(['x', 'y'], async () => void log.push('xy')),
      lock.run(['y', 'x'], async () => {
        log.push('yx');
        throw new Error('boom');
      }),
      lock.run(['x'], async () => void log.push('x')),
    ]);
    assert.deepEqual(log, ['xy', 'yx', 'x']);
    assert.equal(results[1].status, 'rejected');
    assert.equal(lock.size, 0);
  });
});
