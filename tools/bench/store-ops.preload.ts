/**
 * Counts the document-store operations of an embedded process, for `store-ops.bench.ts`: loaded with
 * `node --import` into `codestep dev`, it wraps the methods of `SqliteStore` and writes the counts (by
 * store file, collection and operation; for batched calls also the documents; and the CPU microseconds spent in each) to
 * `$CODESTEP_BENCH_STORE_OPS_DIR/<pid>.json` every 200 ms. A tool for measuring only: no app loads it
 * otherwise.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SqliteStore } from '@codestep/store-sqlite';

const dir = process.env.CODESTEP_BENCH_STORE_OPS_DIR;
if (dir) {
  const counts: Record<string, number> = {};
  const storeName = new WeakMap<object, string>();
  const nameOf = (store: object): string => {
    let name = storeName.get(store);
    if (name === undefined) {
      const db = (store as unknown as { db: { location(): string | null } }).db;
      name = basename(db.location() ?? 'memory').replace(/\.db$/, '');
      storeName.set(store, name);
    }
    return name;
  };
  // An operation made of another (compareAndSet of version 0 is insertIfAbsent) counts once.
  let depth = 0;
  const proto = SqliteStore.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const op of ['get', 'getMany', 'find', 'writeVersioned', 'insertIfAbsent', 'compareAndSet', 'put', 'delete', 'clear']) {
    const original = proto[op]!;
    proto[op] = function (this: object, ...args: unknown[]) {
      if (depth > 0) return original.apply(this, args);
      const key = `${nameOf(this)} ${String(args[0])} ${op}`;
      counts[key] = (counts[key] ?? 0) + 1;
      if (op === 'writeVersioned' || op === 'getMany') counts[`${key} docs`] = (counts[`${key} docs`] ?? 0) + (args[1] as unknown[]).length;
      // The adapter does its work synchronously before its promise settles: this is its cost (CPU
      // time of this thread, so a loaded machine taking the core away in between does not count).
      const t = process.threadCpuUsage();
      depth++;
      let out: unknown;
      try {
        out = original.apply(this, args);
      } finally {
        depth--;
      }
      const spent = process.threadCpuUsage(t);
      counts[`${key} µs`] = (counts[`${key} µs`] ?? 0) + spent.user + spent.system;
      return out;
    };
  }
  const file = join(dir, `${process.pid}.json`);
  // Whole files only (written aside, then renamed): the bench reads them at any moment.
  const write = () => {
    writeFileSync(`${file}.tmp`, JSON.stringify(counts));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 200).unref();
  process.on('exit', write);
}
