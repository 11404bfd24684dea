/**
 * Distributed mode end to end: every app its own OS process over the real Kafka broker and
 * FerretDB started by infra/local. N enrollments of a one-action workflow complete exactly once;
 * then, with N more in flight, one executor and the enrollment service are killed with SIGKILL
 * and restarted, and every enrollment still completes exactly once; with
 * `CODESTEP_FERRETDB_RESTART_TEST=1` (npm test sets it) N/4 more go through while infra/local's
 * FerretDB is stopped and started again. Finally the history projections are rebuilt from the
 * topics and compared with the live ones.
 * Needs KAFKA_BROKERS and MONGODB_URI (npm test sets them); N from CODESTEP_DIST_N (default 1000).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { api, differing, dropNamespaceDatabases, replayVerified, startDistributedPlatform, waitFor, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
const N = Number(process.env.CODESTEP_DIST_N ?? 1000);

describe('distributed mode over real Kafka and FerretDB', { skip: !brokers || !mongoUri ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)' : false }, () => {
  let platform: DistributedPlatform;
  let call: ReturnType<typeof api>;
  let workflowId: string;
  const database = `codestep_dist_${randomBytes(4).toString('hex')}`;

  before(async () => {
    platform = await startDistributedPlatform({
      brokers: brokers!,
      mongoUri: mongoUri!,
      namespace: database,
      executors: 2,
      env: { CODESTEP_RETRY_INITIAL_MS: '500', CODESTEP_EXECUTOR_CONCURRENCY: '8' },
    });
    call = api(platform.url, platform.apiKey);
    const wf = await call('POST', '/v1/workflows', {
      name: 'double',
      actions: [
        {
          id: 'double',
          code: 'exports.main = async (event) => ({ outputFields: { doubled: Number(event.inputFields.n) * 2 } })',
          inputFields: [{ name: 'n', property: 'n' }],
          outputFields: [{ name: 'doubled', type: 'number' }],
        },
      ],
    });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    workflowId = wf.body.id;
  });

  after(async () => {
    await platform?.stop();
    await dropNamespaceDatabases(mongoUri!, database);
  });

  /** Enrolls objects from..to-1, retrying each (same Idempotency-Key) while a service is down. */
  async function enrollRange(from: number, to: number, onAccepted?: (n: number) => void): Promise<void> {
    let next = from;
    let accepted = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < to) {
          const i = next++;
          for (let attempt = 0; ; attempt++) {
            const r = await call('POST', `/v1/workflows/${workflowId}/enrollments`, { object: { objectId: String(i), properties: { n: i } } }, { 'idempotency-key': `obj-${i}` }).catch(() => ({
              status: 0,
              body: null,
            }));
            if (r.status === 202) break;
            if (attempt > 600) throw new Error(`enrollment ${i} never accepted: ${r.status} ${JSON.stringify(r.body)}`);
            await new Promise((res) => setTimeout(res, 200));
          }
          onAccepted?.(++accepted);
        }
      }),
    );
  }

  /** Reads the projections straight from MongoDB: every enrollment, every execution. */
  async function history(): Promise<{
    enrollments: Array<{ enrollmentId: string; status: string; object: { objectId: string } }>;
    executions: Array<{ enrollmentId: string; status: string; attempt: number; error: { code: string } | null; outputFields: Record<string, number> }>;
  }> {
    const client = new MongoClient(mongoUri!);
    try {
      const db = client.db(`${database}_log`);
      const enrollments = (await db.collection('enrollments').find({}).toArray()).map((d) => d.d);
      const executions = (await db.collection('executions').find({}).toArray()).map((d) => d.d);
      return { enrollments, executions } as never;
    } finally {
      await client.close();
    }
  }

  async function waitAllCompleted(count: number): Promise<void> {
    await waitFor(
      `${count} completed enrollments`,
      async () => {
        const r = await call('GET', `/v1/enrollments?workflowId=${workflowId}&status=completed&limit=5000`).catch(() => undefined);
        return r && r.body.enrollments?.length >= count ? true : undefined;
      },
      Number(process.env.CODESTEP_DIST_WAIT_MS ?? 1_200_000),
    ).catch(async (error: unknown) => {
      const r = await call('GET', `/v1/enrollments?workflowId=${workflowId}&limit=5000`).catch(() => undefined);
      const statuses: Record<string, number> = {};
      for (const e of r?.body.enrollments ?? []) statuses[e.status] = (statuses[e.status] ?? 0) + 1;
      const tails = [...platform.apps.values()].map((a) => `--- ${a.name}\n${a.out().split('\n').slice(-8).join('\n')}`).join('\n');
      throw new Error(`${error instanceof Error ? error.message : String(error)}; enrollments by status ${JSON.stringify(statuses)}\n${tails}`);
    });
  }

  /** The projections are eventually consistent across topics: wait until no execution is still in flight. */
  async function settledHistory(): Promise<Awaited<ReturnType<typeof history>>> {
    return waitFor(
      'the execution projections to settle',
      async () => {
        const h = await history();
        return h.executions.every((x) => x.status === 'succeeded' || x.status === 'failed' || x.status === 'retry_scheduled') ? h : undefined;
      },
      300_000,
    );
  }

  function assertExactlyOnce(h: Awaited<ReturnType<typeof history>>, count: number, allowLost: boolean): number {
    const byObject = new Map<string, number>();
    for (const e of h.enrollments) byObject.set(e.object.objectId, (byObject.get(e.object.objectId) ?? 0) + 1);
    assert.equal(byObject.size, count, 'one enrollment per object');
    assert.ok(
      [...byObject.values()].every((n) => n === 1),
      'no object enrolled twice',
    );
    assert.ok(
      h.enrollments.every((e) => e.status === 'completed'),
      'every enrollment completed',
    );
    const succeeded = new Map<string, number>();
    let lost = 0;
    for (const x of h.executions) {
      if (x.status === 'succeeded') succeeded.set(x.enrollmentId, (succeeded.get(x.enrollmentId) ?? 0) + 1);
      else if (allowLost && x.error?.code === 'EXECUTOR_LOST') lost++;
      else assert.fail(`unexpected execution ${JSON.stringify(x)}`);
    }
    for (const e of h.enrollments) assert.equal(succeeded.get(e.enrollmentId), 1, `enrollment ${e.enrollmentId} has exactly one successful execution`);
    return lost;
  }

  it(`completes ${N} enrollments, each exactly once in history`, async () => {
    const t0 = Date.now();
    await enrollRange(0, N);
    await waitAllCompleted(N);
    const h = await settledHistory();
    assertExactlyOnce(h, N, false);
    const x = h.executions.find((e) => e.attempt === 1);
    assert.ok(x && typeof x.outputFields.doubled === 'number');
    console.log(`# distributed: ${N} enrollments completed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it(`completes ${N} more exactly once while an executor and the enrollment service are killed with SIGKILL and restarted`, async () => {
    let killed: Promise<void> | undefined;
    const enrolling = enrollRange(N, 2 * N, (accepted) => {
      if (accepted === Math.floor(N / 4) && !killed) {
        killed = (async () => {
          await Promise.all([platform.kill9('executor-0'), platform.kill9('enrollment')]);
          await new Promise((r) => setTimeout(r, 1500));
          await platform.startApp('enrollment', 'enrollment');
          await platform.startApp('executor-0', 'executor', { CODESTEP_EXECUTOR_ID: 'executor-0' });
        })();
      }
    });
    await enrolling;
    assert.ok(killed, 'the kill happened while enrollments were in flight');
    await killed;
    await waitAllCompleted(2 * N);
    const lost = assertExactlyOnce(await settledHistory(), 2 * N, true);
    console.log(`# distributed: after the kill, ${lost} executions were reported lost and retried`);
  });

  const M = Math.max(50, Math.floor(N / 4));
  it(
    `completes ${M} more exactly once while FerretDB is stopped and started again under the apps`,
    { skip: process.env.CODESTEP_FERRETDB_RESTART_TEST === '1' ? false : 'set CODESTEP_FERRETDB_RESTART_TEST=1 (restarts the infra/local FerretDB)' },
    async () => {
      const script = fileURLToPath(new URL('../../../../infra/local/ferretdb.sh', import.meta.url));
      let restarted: Promise<void> | undefined;
      const enrolling = enrollRange(2 * N, 2 * N + M, (accepted) => {
        if (accepted === Math.floor(M / 3) && !restarted) {
          restarted = (async () => {
            execFileSync(script, ['stop'], { stdio: 'inherit' });
            await new Promise((r) => setTimeout(r, 3000));
            // In a session of its own: the server must outlive this test process.
            execFileSync('setsid', ['-w', script, 'start'], { stdio: 'inherit' });
          })();
        }
      });
      await enrolling;
      assert.ok(restarted, 'the restart happened while enrollments were in flight');
      await restarted;
      await waitAllCompleted(2 * N + M);
      const lost = assertExactlyOnce(await settledHistory(), 2 * N + M, true);
      console.log(`# distributed: through the FerretDB restart, ${lost} executions were reported lost and retried`);
    },
  );

  it('rebuilds every history projection from the topics and finds it equal to the live one', async () => {
    const report = await replayVerified(platform.env);
    assert.equal(report.equal, true, differing(report));
    assert.equal(report.collections['log/enrollments']!.live, process.env.CODESTEP_FERRETDB_RESTART_TEST === '1' ? 2 * N + M : 2 * N);
  });
});
