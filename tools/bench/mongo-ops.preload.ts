/**
 * Counts the MongoDB commands a process sends, for `mongo-ops.bench.ts`: loaded with
 * `node --import` into every app of a distributed run, it turns on the driver's command monitoring
 * on each client as it connects and writes the counts (by command, database and collection) to
 * `$CODESTEP_BENCH_MONGO_OPS_DIR/<pid>.json` every 200 ms. A tool for measuring only: no app loads
 * it otherwise.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient, type CommandStartedEvent } from 'mongodb';

const dir = process.env.CODESTEP_BENCH_MONGO_OPS_DIR;
if (dir) {
  const counts: Record<string, number> = {};
  const monitored = new WeakSet<MongoClient>();
  const count = (e: CommandStartedEvent) => {
    const target = e.command[e.commandName];
    const key = `${e.commandName} ${e.databaseName}.${typeof target === 'string' ? target : '-'}`;
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const connect = MongoClient.prototype.connect;
  MongoClient.prototype.connect = function (this: MongoClient) {
    if (!monitored.has(this)) {
      monitored.add(this);
      this.options.monitorCommands = true;
      this.on('commandStarted', count);
    }
    return connect.call(this);
  };
  const file = join(dir, `${process.pid}.json`);
  // Whole files only (written aside, then renamed): the bench reads them at any moment.
  const write = () => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ argv: process.argv.slice(1), counts }));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 200).unref();
  process.on('exit', write);
}
