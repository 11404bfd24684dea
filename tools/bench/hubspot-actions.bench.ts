/**
 * HubSpot app benchmark (embedded mode): the HubSpot fake runs a trivial codestep workflow through
 * the app's workflow action URL (signed requests, as HubSpot sends them) and the platform answers
 * synchronously; reported: executions/s, p50/p99 of the HTTP answer, how many BLOCKed instead. Then
 * webhook events/s accepted (batches of 100 contact.creation events) and how long until all of
 * them were enrolled and completed. Baseline in the same run: an HTTP round trip to /healthz.
 * CPU per execution: utime + stime from /proc of the platform process and its descendants (the
 * sandbox host included; and of the platform process alone) over the measured executions, which a
 * loaded machine skews less than executions/s.
 *   node tools/bench/hubspot-actions.bench.ts [N=500] [concurrency=16] [events=1000]
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubSpotFake } from '@codestep/hubspot-fake';
import { hubspotCommand } from '../../apps/cli/src/commands/hubspot.ts';
import { api, freeLoopbackPort, startPlatform, waitFor } from '../../apps/cli/src/e2e/platform-process.ts';

const N = Number(process.argv[2] ?? 500);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const EVENTS = Number(process.argv[4] ?? 1000);
const APP = { clientId: 'bench-app', clientSecret: 'bench-secret', appId: 8300001 };
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number) => Math.round(x * 10) / 10;

/** CPU seconds (user + system) of the process and its descendants (or of the process alone), from /proc. */
function treeCpuSeconds(root: number, alone = false): number {
  const stats = new Map<number, string[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      stats.set(Number(name), stat.slice(stat.lastIndexOf(')') + 2).split(' '));
    } catch {
      // Gone since the listing.
    }
  }
  const pids = new Set([root]);
  for (let grew = !alone; grew;) {
    grew = false;
    for (const [pid, f] of stats) {
      if (pids.has(pid) || !pids.has(Number(f[1]))) continue;
      pids.add(pid);
      grew = true;
    }
  }
  let ticks = 0;
  for (const pid of pids) ticks += Number(stats.get(pid)?.[11] ?? 0) + Number(stats.get(pid)?.[12] ?? 0);
  return ticks / 100; // USER_HZ on Linux
}

const port = await freeLoopbackPort();
const publicUrl = `http://127.0.0.1:${port}`;
const fake = await startHubSpotFake({ oauthClients: [{ ...APP, redirectUris: [`${publicUrl}/oauth/callback`] }], developerApiKey: 'k', rateLimitPerSecond: 0 });
const env = {
  CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-bench-hs-')),
  CODESTEP_HTTP_PORT: String(port),
  CODESTEP_PUBLIC_URL: publicUrl,
  HUBSPOT_APP_ID: String(APP.appId),
  HUBSPOT_CLIENT_ID: APP.clientId,
  HUBSPOT_CLIENT_SECRET: APP.clientSecret,
  HUBSPOT_DEVELOPER_API_KEY: 'k',
  HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
  HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
  HUBSPOT_API_BASE_URL: fake.url,
  // BENCH_PLATFORM_NODE_OPTIONS=--cpu-prof (for example) profiles the platform process.
  ...(process.env.BENCH_PLATFORM_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_PLATFORM_NODE_OPTIONS } : {}),
};
const platform = await startPlatform(env);
try {
  const call = api(platform.url, platform.apiKey);
  const created = await call('POST', '/v1/connections', { handle: 'hubspot', provider: 'hubspot', permissions: ['contacts.write', 'automation'] });
  const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
  await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } });
  const quiet = { stdout: { write: () => true }, stderr: { write: (s: string) => process.stderr.write(s) } } as never;
  await hubspotCommand(['publish-action', '--output', 'n:number'], env, quiet);
  const definitions = (await (await fetch(`${fake.url}/automation/v4/actions/${APP.appId}?hapikey=k`)).json()) as { results: Array<{ id: string }> };
  const definitionId = definitions.results[0]!.id;
  const wf = await call('POST', '/v1/workflows', {
    name: 'bench',
    actions: [{ id: 'one', code: 'exports.main = async (event) => ({ outputFields: { n: Number(event.object.objectId) * 2 } })', outputFields: [{ name: 'n', type: 'number' }] }],
  });

  const rtt: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await call('GET', '/healthz');
    rtt.push(performance.now() - t);
  }
  // Warm-up (sandbox workers, code caches), not measured.
  for (let i = 0; i < 20; i++) await fake.app.executeAction({ definitionId, objectId: i + 1, inputFields: { codestep_workflow: wf.body.id } });

  const latencies: number[] = [];
  let blocked = 0;
  let next = 0;
  const cpu0 = treeCpuSeconds(platform.child.pid!);
  const mainCpu0 = treeCpuSeconds(platform.child.pid!, true);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const t = performance.now();
        const r = await fake.app.executeAction({ definitionId, objectId: 100_000 + i, inputFields: { codestep_workflow: wf.body.id } });
        latencies.push(performance.now() - t);
        if ((r.body as { outputFields?: { hs_execution_state?: string } }).outputFields?.hs_execution_state === 'BLOCK') blocked++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuMsPerExecution = ((treeCpuSeconds(platform.child.pid!) - cpu0) * 1000) / N;
  const mainCpuMsPerExecution = ((treeCpuSeconds(platform.child.pid!, true) - mainCpu0) * 1000) / N;

  await call('PUT', `/v1/workflows/${wf.body.id}/hubspot-trigger`, { subscription: 'contact.creation' });
  const url = `${platform.url}/integrations/hubspot/webhooks`;
  const w0 = performance.now();
  for (let i = 0; i < EVENTS; i += 100) {
    const events = Array.from({ length: Math.min(100, EVENTS - i) }, (_, j) => fake.app.webhookEvent({ subscriptionType: 'contact.creation', objectId: 500_000 + i + j }));
    const res = await fake.app.sendWebhooks(url, events, { clientId: APP.clientId });
    if (res.status !== 200) throw new Error(`webhook batch answered ${res.status}: ${res.body}`);
  }
  const accepted = (performance.now() - w0) / 1000;
  const total = 20 + N + EVENTS;
  await waitFor(
    'every webhook enrollment completed',
    async () => {
      const list = (await call('GET', `/v1/enrollments?workflowId=${wf.body.id}&status=completed&limit=5000`)).body.enrollments as unknown[];
      return list.length >= total ? true : undefined;
    },
    600_000,
  );
  const enrolled = (performance.now() - w0) / 1000;
  console.log(
    JSON.stringify(
      {
        actions: {
          executions: N,
          concurrency: CONCURRENCY,
          perSecond: round(N / seconds),
          p50Ms: round(pct(latencies, 50)),
          p99Ms: round(pct(latencies, 99)),
          cpuMsPerExecution: round(cpuMsPerExecution),
          mainProcessCpuMsPerExecution: round(mainCpuMsPerExecution),
          blocked,
        },
        webhooks: { events: EVENTS, acceptedPerSecond: round(EVENTS / accepted), allCompletedAfterS: round(enrolled) },
        baseline: { healthzP50Ms: round(pct(rtt, 50)) },
        loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      },
      null,
      2,
    ),
  );
} finally {
  await platform.stop();
  await fake.close();
}
