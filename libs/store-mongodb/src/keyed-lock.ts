/**
 * Mutual exclusion per key within one process: `run(keys, fn)` starts `fn` once every earlier
 * holder of any of `keys` has finished. A call queues on all its keys at once (synchronously),
 * so two calls sharing keys are ordered the same way on every key and cannot deadlock.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const done = Promise.withResolvers<void>();
    const before: Array<Promise<void>> = [];
    const mine = new Map<string, Promise<void>>();
    for (const key of new Set(keys)) {
      const previous = this.tails.get(key);
      if (previous) before.push(previous);
      const tail = (previous ?? Promise.resolve()).then(() => done.promise);
      this.tails.set(key, tail);
      mine.set(key, tail);
    }
    try {
      await Promise.all(before);
      return await fn();
    } finally {
      done.resolve();
      // Forget keys nobody queued on after us, so the map holds only keys in use.
      for (const [key, tail] of mine) if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys currently held or waited for (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
