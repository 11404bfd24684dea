/**
 * HubSpot workflow action callbacks in distributed mode (every app its own OS process over the
 * real Kafka broker and FerretDB started by infra/local): two gateway replicas behind one public
 * URL (a round-robin balancer in this test) receive HubSpot's action executions, every one
 * answered BLOCK, and complete the callbacks from the enrollment topic (one consumer group, its
 * partitions shared by the replicas). One replica is killed with SIGKILL mid-way and started
 * again. The HubSpot fake records the completions: each callback is completed exactly once with
 * its enrollment's outputs, a second completion was tried only for a callback the killed replica
 * had already sent (HubSpot refuses it, which counts as done), and each callback has at most one
 * `HubSpotCallbackCompleted` event — none missing but for a completion the killed replica had
 * recorded and not yet committed.
 * Needs KAFKA_BROKERS and MONGODB_URI (npm test sets them); N from CODESTEP_HUBSPOT_DIST_N (default 60).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { namespacedEventLog } from '@codestep/event-log';
import { KafkaEventLog } from '@codestep/event-log-kafka';
import { Topics, fromRecord } from '@codestep/events';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { api, dropNamespaceDatabases, freeLoopbackPort, startDistributedPlatform, waitFor, type DistributedPlatform } from './platform-process.ts';

const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
const N = Number(process.env.CODESTEP_HUBSPOT_DIST_N ?? 60);
const APP = { clientId: 'codestep-app', clientSecret: `cs-${randomBytes(8).toString('hex')}`, appId: 8300001 };

// Slower than the answer budget: every execution is answered BLOCK and completed by callback.
const DOUBLE = `exports.main = async (event) => {
  await new Promise((r) => setTimeout(r, 1000));
  return { outputFields: { doubled: Number(event.object.objectId) * 2, callback: event.callbackId } };
};`;

/** The load balancer in front of the gateways: round robin over the ones that accept a connection. */
async function balancer(upstreams: () => string[]): Promise<{ url: string; server: Server }> {
  let turn = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const targets = upstreams();
      const start = turn++;
      const attempt = (i: number) => {
        if (i >= targets.length) return void res.writeHead(502).end('no gateway accepted the connection');
        const target = new URL(req.url ?? '/', targets[(start + i) % targets.length]);
        const up = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? attempt(i + 1) : res.headersSent ? res.destroy() : res.writeHead(502).end(error.message)));
        up.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe(
  'HubSpot callbacks across two gateway replicas over real Kafka and FerretDB',
  { skip: !brokers || !mongoUri ? 'KAFKA_BROKERS and MONGODB_URI are not set (npm test starts the servers)' : false },
  () => {
    const namespace = `codestep_hscb_${randomBytes(4).toString('hex')}`;
    let fake: HubSpotFake;
    let platform: DistributedPlatform;
    let lb: Awaited<ReturnType<typeof balancer>>;
    let call: ReturnType<typeof api>;
    const gateways: string[] = [];

    before(async () => {
      lb = await balancer(() => gateways);
      fake = await startHubSpotFake({ oauthClients: [{ ...APP, redirectUris: [`${lb.url}/oauth/callback`] }], developerApiKey: 'dev-key', rateLimitPerSecond: 0 });
      platform = await startDistributedPlatform({
        brokers: brokers!,
        mongoUri: mongoUri!,
        namespace,
        executors: 1,
        env: {
          CODESTEP_PUBLIC_URL: lb.url,
          CODESTEP_EXECUTOR_CONCURRENCY: '16',
          HUBSPOT_APP_ID: String(APP.appId),
          HUBSPOT_CLIENT_ID: APP.clientId,
          HUBSPOT_CLIENT_SECRET: APP.clientSecret,
          HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
          HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
          HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
          HUBSPOT_API_BASE_URL: fake.url,
          HUBSPOT_ACTION_ANSWER_MS: '100',
        },
      });
      const port2 = await freeLoopbackPort();
      await platform.startApp('gateway-2', 'gateway', { CODESTEP_HTTP_PORT: String(port2) });
      gateways.push(platform.url, `http://127.0.0.1:${port2}`);
      call = api(lb.url, platform.apiKey);
    });

    after(async () => {
      await platform?.stop();
      await fake?.close();
      lb?.server.closeAllConnections();
      await new Promise((r) => lb?.server.close(r));
      await dropNamespaceDatabases(mongoUri!, namespace);
    });

    /** Every `HubSpotCallbackCompleted` on the namespace's hubspot topic: callback id → outcomes. */
    async function outcomeEvents(): Promise<Map<string, string[]>> {
      const kafka = new KafkaEventLog({ brokers: brokers!.split(','), transactionalIdPrefix: namespace });
      const log = namespacedEventLog(kafka, namespace);
      const out = new Map<string, string[]>();
      // Read as a consumer does: one event per event id (a redelivered enrollment re-appends a settled callback's outcome).
      const seen = new Set<string>();
      try {
        await log.readAll([Topics.hubspot], async (batch) => {
          for (const r of batch) {
            const env = fromRecord(r.value);
            if (env?.event.$case !== 'hubspotCallbackCompleted' || seen.has(env.eventId)) continue;
            seen.add(env.eventId);
            out.set(env.event.value.callbackId, [...(out.get(env.event.value.callbackId) ?? []), env.event.value.outcome]);
          }
        });
      } finally {
        await log.close();
      }
      return out;
    }

    /** What a timed-out wait shows: the records of the callbacks not answered, the enrollments' statuses, the gateways' last lines. */
    async function diagnosis(open: string[], workflowId: string): Promise<string> {
      const client = new MongoClient(mongoUri!);
      const records: unknown[] = [];
      try {
        const { databases } = await client.db().admin().listDatabases();
        for (const d of databases.filter((x) => x.name.startsWith(`${namespace}_`))) {
          if (!(await client.db(d.name).listCollections({ name: 'hubspot_callbacks' }).toArray()).length) continue;
          records.push(...(await client.db(d.name).collection('hubspot_callbacks').find({}).toArray()).filter((r) => open.some((id) => JSON.stringify(r).includes(id))));
        }
      } finally {
        await client.close();
      }
      const list = await call('GET', `/v1/enrollments?workflowId=${workflowId}&limit=5000`).catch(() => undefined);
      const statuses: Record<string, number> = {};
      for (const e of list?.body.enrollments ?? []) statuses[e.status] = (statuses[e.status] ?? 0) + 1;
      const tails = [...platform.apps.values()].filter((a) => a.name.startsWith('gateway')).map((a) => `--- ${a.name}\n${a.out().split('\n').slice(-15).join('\n')}`);
      return [`not answered: ${JSON.stringify(open)}`, `their records: ${JSON.stringify(records)}`, `enrollments by status: ${JSON.stringify(statuses)}`, ...tails].join('\n');
    }

    it('completes each BLOCKed callback exactly once with its outputs, while one replica is killed with SIGKILL and started again', async () => {
      const created = await call('POST', '/v1/connections', { handle: 'hubspot', provider: 'hubspot', permissions: ['automation'] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
      const installed = await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
      assert.equal(installed.status, 200, await installed.text());
      const definition = await fetch(`${fake.url}/automation/v4/actions/${APP.appId}?hapikey=dev-key`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ actionUrl: `${lb.url}/integrations/hubspot/actions`, labels: { en: { actionName: 'Run codestep workflow' } }, objectTypes: ['CONTACT'] }),
      });
      assert.equal(definition.status, 201);
      const definitionId = ((await definition.json()) as { id: string }).id;
      const wf = await call('POST', '/v1/workflows', {
        name: 'double',
        objectType: 'CONTACT',
        actions: [
          {
            id: 'double',
            code: DOUBLE,
            outputFields: [
              { name: 'doubled', type: 'number' },
              { name: 'callback', type: 'string' },
            ],
          },
        ],
      });
      assert.equal(wf.status, 201, JSON.stringify(wf.body));

      // HubSpot runs the action for N contacts, 8 at a time, retrying an execution (same callbackId) that got no answer.
      const sent = new Map<string, number>();
      let next = 0;
      const execute = async (objectId: number) => {
        let callbackId: string | undefined;
        for (let attempt = 0; ; attempt++) {
          const r = await fake.app.executeAction({ definitionId, objectId, inputFields: { codestep_workflow: wf.body.id }, ...(callbackId ? { callbackId } : {}) }).catch(() => undefined);
          if (r) callbackId = r.callbackId;
          if (r?.status === 200) return sent.set(r.callbackId, objectId);
          assert.ok(attempt < 300, `execution of ${objectId} never answered: ${JSON.stringify(r)}`);
          await new Promise((res) => setTimeout(res, 200));
        }
      };
      const completed = () => fake.app.callbacks().filter((c) => c.completions.length > 0).length;
      const sending = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < N) await execute(1000 + next++);
        }),
      );
      // Mid-way: a quarter completed, more in flight and still to be sent.
      await waitFor('a quarter of the callbacks completed', async () => (completed() >= N / 4 ? true : undefined), 300_000);
      await platform.kill9('gateway');
      // Taken once the replica has exited (kill9 resolves then): whatever it sent was sent before this.
      const killedAt = Date.now();
      const completedAtKill = completed();
      await sending;
      await platform.startApp('gateway', 'gateway');
      const answered = (id: string) => (fake.app.callback(id)?.completions.length ?? 0) > 0 || fake.app.callback(id)?.answer !== undefined;
      await waitFor('every callback completed', async () => ([...sent.keys()].every(answered) ? true : undefined), 300_000).catch(async (error: unknown) => {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\n${await diagnosis(
            [...sent.keys()].filter((id) => !answered(id)),
            wf.body.id,
          )}`,
        );
      });
      // Long enough for a completion the killed replica left under its lease (30 s) to be taken over and tried again.
      await new Promise((r) => setTimeout(r, 35_000));

      assert.equal(sent.size, N);
      const refusedAgain: string[] = [];
      let synchronous = 0;
      for (const [callbackId, objectId] of sent) {
        const cb = fake.app.callback(callbackId)!;
        // A retried execution whose enrollment had finished is answered synchronously instead: still once.
        if (cb.answer) synchronous++;
        assert.equal(cb.completions.length + (cb.answer ? 1 : 0), 1, `${callbackId} answered once: ${JSON.stringify(cb)}`);
        assert.deepEqual(cb.answer ?? cb.completions[0]!.outputFields, { doubled: objectId * 2, callback: callbackId }, `${callbackId}: the outputs of contact ${objectId}`);
        if (cb.refused > 0) refusedAgain.push(callbackId);
      }
      for (const id of refusedAgain) assert.ok(fake.app.callback(id)!.completions[0]!.at <= killedAt, `${id} completed again only if the killed replica had sent it`);
      const events = await outcomeEvents();
      const missing = [...sent.keys()].filter((id) => !events.has(id));
      assert.ok(
        missing.every((id) => fake.app.callback(id)!.completions.length === 1),
        'a synchronous answer always has its event',
      );
      for (const id of sent.keys()) assert.ok((events.get(id) ?? []).length <= 1, `${id}: at most one outcome event, got ${JSON.stringify(events.get(id))}`);
      for (const id of missing) assert.ok(fake.app.callback(id)!.completions[0]!.at <= killedAt, `${id}: an outcome event is missing only for a completion the killed replica recorded`);
      assert.ok(
        [...events.entries()].filter(([id]) => sent.has(id)).every(([id, outcomes]) => outcomes[0] === (fake.app.callback(id)!.answer ? 'answered' : 'completed')),
        'every outcome is completed (or answered)',
      );
      const batched = [...sent.keys()].filter((id) => fake.app.callback(id)!.completions[0]?.batch).length;
      console.log(
        `# ${N} executions over two gateways: ${N - synchronous} completed by callback (${batched} in batch requests), ${synchronous} answered synchronously on HubSpot's retry; ${completedAtKill} completed when one gateway was killed; ${refusedAgain.length} tried again after the kill (HubSpot refused: already completed); ${missing.length} outcome event(s) lost with the killed replica`,
      );
    });
  },
);
