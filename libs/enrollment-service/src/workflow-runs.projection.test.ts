import { describe } from 'node:test';
import { SqliteStore } from '@codestep/store-sqlite';
import { runEndsScenarios } from './workflow-runs.projection.scenario.ts';

describe('workflow runs projection, run ends (SQLite)', () => {
  runEndsScenarios(async () => {
    const store = new SqliteStore({ path: ':memory:' });
    return { store, close: () => store.close() };
  });
});
