/**
 * Document-store operations per request in embedded mode: `codestep dev` runs with
 * `store-ops.preload.ts` (every SQLite store operation counted by store file, collection and
 * operation); the counts are taken once the platform is idle and again after N calls of each path:
 *   - webhook: `POST /hooks/{token}` of a one-action JsWorkflows workflow (answered synchronously);
 *   - enrollment: `POST /v1/workflows/{id}/enrollments` of a one-action custom code workflow, until
 *     every enrollment completed;
 *   - hubspot: a workflow action execution sent by the HubSpot fake to the action URL (answered
 *     synchronously).
 * The background operations of an idle platform (timers, reapers) over the same time are
 * subtracted, and so are those of the bench's own completion polls (measured once while idle).
 * Printed: operations per call, by store, collection and operation, and in total.
 *   node tools/bench/store-ops.bench.ts [N=300] [concurrency=16]
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHubSpotFake } from '@codestep/hubspot-fake';
import { hubspotCommand } from '../../apps/cli/src/commands/hubspot.ts';
import { api, freeLoopbackPort, startPlatform, waitFor } from '../../apps/cli/src/e2e/platform-process.ts';

const N = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const APP = { clientId: 'bench-app', clientSecret: 'bench-secret', appId: 8300002 };
const opsDir = mkdtempSync(join(tmpdir(), 'codestep-store-ops-'));
const preload = fileURLToPath(new URL('./store-ops.preload.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Counts = Record<string, number>;
function snapshot(): Counts {
  const out: Counts = {};
  for (const f of readdirSync(opsDir).filter((name) => name.endsWith('.json'))) {
    for (const [k, v] of Object.entries(JSON.parse(readFileSync(join(opsDir, f), 'utf8')) as Counts)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}
const diff = (a: Counts, b: Counts): Counts => Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));
const isCount = (k: string) => !k.endsWith(' docs') && !k.endsWith(' µs');
const total = (c: Counts) => Object.entries(c).reduce((n, [k, v]) => (isCount(k) ? n + v : n), 0);
const totalMicros = (c: Counts) => Object.entries(c).reduce((n, [k, v]) => (k.endsWith(' µs') ? n + v : n), 0);
/** Waits until the counts stop moving (fewer than `below` operations a second, three seconds running). */
async function idle(below = 10): Promise<Counts> {
  let before = snapshot();
  for (let quiet = 0; quiet < 3;) {
    await sleep(1000);
    const now = snapshot();
    quiet = total(now) - total(before) < below ? quiet + 1 : 0;
    before = now;
  }
  await sleep(300);
  return snapshot();
}

const port = await freeLoopbackPort();
const publicUrl = `http://127.0.0.1:${port}`;
const fake = await startHubSpotFake({ oauthClients: [{ ...APP, redirectUris: [`${publicUrl}/oauth/callback`] }], developerApiKey: 'k', rateLimitPerSecond: 0 });
const env = {
  CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-bench-store-ops-')),
  CODESTEP_HTTP_PORT: String(port),
  CODESTEP_PUBLIC_URL: publicUrl,
  CODESTEP_EXECUTOR_CONCURRENCY: '8',
  HUBSPOT_APP_ID: String(APP.appId),
  HUBSPOT_CLIENT_ID: APP.clientId,
  HUBSPOT_CLIENT_SECRET: APP.clientSecret,
  HUBSPOT_DEVELOPER_API_KEY: 'k',
  HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
  HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
  HUBSPOT_API_BASE_URL: fake.url,
  NODE_OPTIONS: `--import ${preload}`,
  CODESTEP_BENCH_STORE_OPS_DIR: opsDir,
};
const platform = await startPlatform(env);
const tables: Record<string, Counts> = {};
try {
  const call = api(platform.url, platform.apiKey);
  const hookWf = await call('POST', '/v1/workflows', {
    name: 'bench hook',
    actions: [{ id: 'one', runtime: 'jsworkflows', code: 'export class Workflow { async start(data) { return { n: data.n * 2 }; } }' }],
  });
  const hook = platform.url + ((await call('POST', `/v1/workflows/${hookWf.body.id}/webhook`)).body.path as string);
  const enrollWf = await call('POST', '/v1/workflows', {
    name: 'bench enroll',
    actions: [
      {
        id: 'one',
        code: 'exports.main = async (event) => ({ outputFields: { n: event.inputFields.n * 2 } })',
        inputFields: [{ name: 'n', property: 'n' }],
        outputFields: [{ name: 'n', type: 'number' }],
      },
    ],
  });
  const created = await call('POST', '/v1/connections', { handle: 'hubspot', provider: 'hubspot', permissions: ['contacts.write', 'automation'] });
  const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
  await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
  const quietIo = { stdout: { write: () => true }, stderr: { write: (s: string) => process.stderr.write(s) } } as never;
  await hubspotCommand(['publish-action', '--output', 'n:number'], env, quietIo);
  const definitions = (await (await fetch(`${fake.url}/automation/v4/actions/${APP.appId}?hapikey=k`)).json()) as { results: Array<{ id: string }> };
  const definitionId = definitions.results[0]!.id;
  const hsWf = await call('POST', '/v1/workflows', {
    name: 'bench hubspot',
    actions: [{ id: 'one', code: 'exports.main = async (event) => ({ outputFields: { n: Number(event.object.objectId) * 2 } })', outputFields: [{ name: 'n', type: 'number' }] }],
  });

  const completed = async (workflowId: string) => ((await call('GET', `/v1/enrollments?workflowId=${workflowId}&status=completed&limit=5000`)).body.enrollments as unknown[]).length;
  // Warm-up, not measured: each path once a few times (caches, first documents).
  for (let i = 0; i < 5; i++) {
    await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: i }) });
    await call('POST', `/v1/workflows/${enrollWf.body.id}/enrollments`, { object: { objectId: `w${i}`, properties: { n: i } } });
    await fake.app.executeAction({ definitionId, objectId: i + 1, inputFields: { codestep_workflow: hsWf.body.id } });
  }
  await waitFor('warm-up enrollments', async () => ((await completed(enrollWf.body.id)) >= 5 ? true : undefined));

  // The background rate of an idle platform, and the cost of one completion poll.
  let before = await idle();
  const idleStart = Date.now();
  await sleep(3000);
  let now = snapshot();
  const idlePerSecond = diff(before, now);
  const idleSeconds = (Date.now() - idleStart) / 1000;
  before = await idle();
  await completed(enrollWf.body.id);
  await sleep(400);
  const pollCost = diff(before, snapshot());

  const measure = async (name: string, send: (i: number) => Promise<void>, settle?: () => Promise<number>) => {
    before = await idle();
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) await send(next++);
      }),
    );
    const polls = settle ? await settle() : 0;
    now = await idle();
    const seconds = (Date.now() - t0) / 1000;
    const d = diff(before, now);
    const perCall: Counts = {};
    for (const k of new Set([...Object.keys(d), ...Object.keys(idlePerSecond)])) {
      const v = (d[k] ?? 0) - ((idlePerSecond[k] ?? 0) * seconds) / idleSeconds - polls * (pollCost[k] ?? 0);
      if (Math.abs(v) / N >= 0.005) perCall[k] = Math.round((v / N) * 100) / 100;
    }
    tables[name] = perCall;
  };

  await measure('webhook', async (i) => {
    const r = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: i }) });
    if (r.status !== 200) throw new Error(`webhook answered ${r.status}: ${await r.text()}`);
  });
  await measure(
    'enrollment',
    async (i) => {
      const r = await call('POST', `/v1/workflows/${enrollWf.body.id}/enrollments`, { object: { objectId: String(i), properties: { n: i } } });
      if (r.status !== 202) throw new Error(`enrollment answered ${r.status}`);
    },
    async () => {
      let polls = 0;
      await waitFor(
        'every enrollment completed',
        async () => {
          polls++;
          if ((await completed(enrollWf.body.id)) >= N + 5) return true;
          await sleep(500);
          return undefined;
        },
        600_000,
      );
      return polls;
    },
  );
  await measure('hubspot action', async (i) => {
    const r = await fake.app.executeAction({ definitionId, objectId: 100_000 + i, inputFields: { codestep_workflow: hsWf.body.id } });
    if (r.status !== 200) throw new Error(`action answered ${r.status}`);
  });
} finally {
  await platform.stop();
  await fake.close();
}

for (const [name, perCall] of Object.entries(tables)) {
  const keys = Object.keys(perCall)
    .filter(isCount)
    .sort((a, b) => a.localeCompare(b));
  console.log(`\n${name}: ${Math.round(total(perCall) * 100) / 100} store operations, ${Math.round(totalMicros(perCall))} µs in the store per call (N=${N}, concurrency ${CONCURRENCY})`);
  console.log(`  ${'ops'.padStart(6)} ${'docs'.padStart(6)} ${'µs'.padStart(6)}  store collection operation`);
  for (const k of keys) {
    const docs = perCall[`${k} docs`];
    console.log(
      `  ${perCall[k]!.toFixed(2).padStart(6)} ${(docs === undefined ? '' : docs.toFixed(2)).padStart(6)} ${Math.round(perCall[`${k} µs`] ?? 0)
        .toString()
        .padStart(6)}  ${k}`,
    );
  }
}
