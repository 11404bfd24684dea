/**
 * An appender with a consumer of its own records in one process, run by `sqlite.event-log.test.ts`
 * so a test can kill it with SIGKILL between an append's commit and the consumer's handling of
 * what it was handed. Not part of the library.
 *
 * argv[2]: JSON `{ path, topic, group, count, handled }`: appends `count` records one turn at a
 * time (keys `k0`, `k1`, …) while a member of `group` consumes them, writing each offset it
 * handles to the file `handled` before its handler returns (so before its position is
 * committed), with the handler of the last records kept waiting; the process kills itself as
 * soon as the last append is committed.
 */
import { appendFileSync } from 'node:fs';
import { SqliteEventLog } from './sqlite.event-log.ts';

interface FixtureArgs {
  path: string;
  topic: string;
  group: string;
  count: number;
  handled: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as FixtureArgs;
const log = new SqliteEventLog({ path: args.path, positionCommitMs: 10 });
await log.ensureTopics([args.topic]);
let last = false;
await log.consume({
  group: args.group,
  topics: [args.topic],
  batchSize: 5,
  handle: async (batch) => {
    // Once the last append is under way, the handler never gets to write: those records were
    // handed (or are to be read) but are not handled when the process dies.
    if (last) await new Promise(() => {});
    for (const r of batch) appendFileSync(args.handled, `${r.offset}\n`);
    return [];
  },
});
for (let i = 0; i < args.count; i++) {
  if (i === args.count - 3) last = true;
  await log.append([{ topic: args.topic, key: `k${i}`, value: new TextEncoder().encode(String(i)), headers: { 'event-type': 'Crash' } }]);
  // A turn of the event loop between appends, so the consumer is handed them as they come.
  await new Promise((r) => setImmediate(r));
}
process.kill(process.pid, 'SIGKILL');
