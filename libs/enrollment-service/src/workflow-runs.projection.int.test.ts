/** The run-ends scenarios on MongoDB (`MONGODB_URI`, e.g. FerretDB from `eval "$(infra/local/up.sh)"`); skipped when it is unset. */
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { MongoStore } from '@codestep/store-mongodb';
import { runEndsScenarios } from './workflow-runs.projection.scenario.ts';

const uri = process.env.MONGODB_URI;

describe('workflow runs projection, run ends (MongoDB)', () => {
  if (!uri) {
    void it('needs MONGODB_URI', { skip: 'MONGODB_URI is not set; run eval "$(infra/local/up.sh)" first' }, () => {});
    return;
  }
  runEndsScenarios(async () => {
    const database = `codestep_test_runs_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const store = new MongoStore({ uri, database });
    return {
      store,
      close: async () => {
        await store.close();
        const client = new MongoClient(uri);
        await client.db(database).dropDatabase();
        await client.close();
      },
    };
  });
});
