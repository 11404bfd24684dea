import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventLogContract, namespacedEventLog } from '@codestep/event-log';
import { SqliteEventLog } from './sqlite.event-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'codestep-log-'));
let n = 0;
eventLogContract('SQLite', {
  open: async () => new SqliteEventLog({ path: join(dir, `log-${n++}.db`), pollIntervalMs: 50 }),
  dedupesOnAppend: true,
});

eventLogContract('SQLite behind a namespace', {
  open: async () => namespacedEventLog(new SqliteEventLog({ path: join(dir, `log-${n++}.db`), pollIntervalMs: 50 }), 'tenant-a'),
  dedupesOnAppend: true,
});
