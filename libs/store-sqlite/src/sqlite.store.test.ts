import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from '@codestep/store';
import { SqliteStore } from './sqlite.store.ts';

const dir = mkdtempSync(join(tmpdir(), 'codestep-store-'));
let n = 0;
storeContract('SQLite', { open: async () => new SqliteStore({ path: join(dir, `store-${n++}.db`) }) });
