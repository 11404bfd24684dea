/**
 * Replay: rebuilds the history projections from the beginning of the topics. With `verify`,
 * it rebuilds into a scratch store and compares every document with the live projection.
 */
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { Logger } from '@codestep/core';
import { Topics } from '@codestep/events';
import { PROJECTIONS, createLogService, ensureProjectionCollections } from '@codestep/log-service';
import type { DocumentStore } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { openEventLog, openStore } from './adapters.ts';
import type { PlatformConfig } from './platform.config.ts';

export interface ReplayReport {
  records: number;
  collections: Record<string, { live: number; rebuilt: number; differing: number; equal: boolean }>;
  equal: boolean;
}

async function all(store: DocumentStore, collection: string): Promise<Map<string, unknown>> {
  const docs = await store.find<unknown>(collection, { limit: 10_000_000 });
  return new Map(docs.map((d) => [d.id, d.doc]));
}

export async function replayProjections(config: PlatformConfig, logger: Logger, options: { verify: boolean }): Promise<ReplayReport> {
  const eventLog = await openEventLog(config, 'codestep-replay');
  const live = await openStore(config, 'log');
  let target: DocumentStore;
  let scratchPath: string | undefined;
  if (!options.verify) target = live;
  else if (config.mongodbUri) target = await openStore({ ...config, mongodbDatabase: `${config.mongodbDatabase}_replay_${Date.now()}` }, 'log');
  else target = new SqliteStore({ path: (scratchPath = join(config.dataDir, `replay-${Date.now()}.db`)) });
  try {
    await ensureProjectionCollections(target);
    for (const c of Object.values(PROJECTIONS)) await target.clear(c);
    const service = createLogService({ store: target, eventLog, logger });
    const records = await eventLog.readAll([Topics.enrollments, Topics.actions, Topics.logs], (batch) => service.applyBatch(batch));
    const report: ReplayReport = { records, collections: {}, equal: true };
    for (const c of Object.values(PROJECTIONS)) {
      const rebuilt = await all(target, c);
      if (!options.verify) {
        report.collections[c] = { live: rebuilt.size, rebuilt: rebuilt.size, differing: 0, equal: true };
        continue;
      }
      const current = await all(live, c);
      let differing = 0;
      for (const id of new Set([...current.keys(), ...rebuilt.keys()])) if (!isDeepStrictEqual(current.get(id), rebuilt.get(id))) differing++;
      report.collections[c] = { live: current.size, rebuilt: rebuilt.size, differing, equal: differing === 0 };
      report.equal &&= differing === 0;
    }
    return report;
  } finally {
    if (target !== live) await target.close();
    await live.close();
    await eventLog.close();
    if (scratchPath) rmSync(scratchPath, { force: true });
  }
}
