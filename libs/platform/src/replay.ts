/**
 * Replay: rebuilds every projection (`./projections.ts`) from the beginning of its topics.
 * Without `verify` it rebuilds the live stores in place; with `verify`, it rebuilds into scratch
 * stores (a scratch database in MongoDB, scratch files in embedded mode), compares every
 * document with the live projection, and changes nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import type { DocumentStore, Projection } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { openEventLog, openStore } from './adapters.ts';
import type { PlatformConfig } from './platform.config.ts';
import { PROJECTIONS } from './projections.ts';

export interface CollectionReport {
  live: number;
  rebuilt: number;
  differing: number;
  equal: boolean;
}

export interface ReplayReport {
  /** Records read, over every projection's topics. */
  records: number;
  /** Keyed `service/collection`. */
  collections: Record<string, CollectionReport>;
  equal: boolean;
}

async function all(store: DocumentStore, collection: string): Promise<Map<string, unknown>> {
  const docs = await store.find<unknown>(collection, { limit: 10_000_000 });
  return new Map(docs.map((d) => [d.id, d.doc]));
}

async function compare(live: DocumentStore, rebuilt: DocumentStore, collection: string, verify: boolean): Promise<CollectionReport> {
  const after = await all(rebuilt, collection);
  if (!verify) return { live: after.size, rebuilt: after.size, differing: 0, equal: true };
  const before = await all(live, collection);
  let differing = 0;
  for (const id of new Set([...before.keys(), ...after.keys()])) if (!isDeepStrictEqual(before.get(id), after.get(id))) differing++;
  return { live: before.size, rebuilt: after.size, differing, equal: differing === 0 };
}

interface Target {
  store: DocumentStore;
  dispose(): Promise<void>;
}

async function scratchFor(config: PlatformConfig, service: string, live: DocumentStore, verify: boolean, stamp: number): Promise<Target> {
  if (!verify) return { store: live, dispose: async () => {} };
  if (config.mongodbUri) {
    const store = await openStore({ ...config, mongodbDatabase: `${config.mongodbDatabase}_replay_${stamp}` }, service);
    return { store, dispose: () => store.close() };
  }
  const path = join(config.dataDir, `replay-${service}-${stamp}.db`);
  const store = new SqliteStore({ path });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(path, { force: true });
    },
  };
}

async function replayOne(projection: Projection, eventLog: EventLog, live: DocumentStore, target: DocumentStore, verify: boolean, report: ReplayReport): Promise<void> {
  await projection.ensure(target);
  for (const c of projection.collections) await target.clear(c);
  report.records += await eventLog.readAll(projection.topics, (batch) => projection.apply(target, batch));
  for (const c of projection.collections) {
    const r = await compare(live, target, c, verify);
    report.collections[`${projection.service}/${c}`] = r;
    report.equal &&= r.equal;
  }
}

/** Rebuilds (or, with `verify`, rebuilds aside and compares) every projection. */
export async function replayProjections(config: PlatformConfig, _logger: Logger, options: { verify: boolean; projections?: readonly Projection[] }): Promise<ReplayReport> {
  const eventLog = await openEventLog(config, 'codestep-replay');
  const report: ReplayReport = { records: 0, collections: {}, equal: true };
  const stamp = Date.now();
  try {
    for (const projection of options.projections ?? PROJECTIONS) {
      const live = await openStore(config, projection.service);
      const target = await scratchFor(config, projection.service, live, options.verify, stamp);
      try {
        await replayOne(projection, eventLog, live, target.store, options.verify, report);
      } finally {
        if (target.store !== live) await target.dispose();
        await live.close();
      }
    }
    return report;
  } finally {
    await eventLog.close();
  }
}
