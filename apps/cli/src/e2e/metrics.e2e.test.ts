/**
 * The operators' metrics (docs/metrics.md) on the Prometheus endpoint of a real `codestep dev`
 * (CODESTEP_METRICS_PORT): scraped before and after a run in which actions succeed, fail with
 * their own error, time out (the worker is replaced), make a request the egress policy refuses and
 * use an OAuth connection whose token is refreshed; every counter of the run moved by what the run did.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { api, freeLoopbackPort, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';

/** One sample of the Prometheus text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

const OK = `exports.main = async (event) => ({ outputFields: { n: Number(event.inputFields.n) + 1 } });`;
const THROWS = `exports.main = async () => { throw new Error('no such customer'); };`;
const SPINS = `exports.main = async () => { for (;;) {} };`;
const BLOCKED = `exports.main = async () => {
  try { await fetch('http://169.254.169.254/latest/meta-data/'); } catch (e) { console.log('refused', e.code || e.message); }
  return { outputFields: {} };
};`;
const TOKEN = `class Workflow { async start(data, headers, api) { const { token, error } = await api.getOAuthToken('my-hubspot'); if (error) throw new Error(error); return { ok: !!token }; } }`;

describe('metrics on the Prometheus endpoint', () => {
  let fake: HubSpotFake;
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  let metricsUrl: string;

  before(async () => {
    const [port, metricsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const publicUrl = `http://127.0.0.1:${port}`;
    fake = await startHubSpotFake({ accessTokenTtlSeconds: 30, oauthClients: [{ clientId: 'codestep-app', clientSecret: 'app-secret', redirectUris: [`${publicUrl}/oauth/callback`] }] });
    platform = await startPlatform({
      CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-metrics-')),
      CODESTEP_HTTP_PORT: String(port),
      CODESTEP_PUBLIC_URL: publicUrl,
      CODESTEP_METRICS_PORT: String(metricsPort),
      HUBSPOT_CLIENT_ID: 'codestep-app',
      HUBSPOT_CLIENT_SECRET: 'app-secret',
      HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
      HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
      HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
    });
    call = api(platform.url, platform.apiKey);
    metricsUrl = /Metrics: (\S+)/.exec(platform.output())?.[1] ?? '';
  });

  after(async () => {
    await platform?.stop();
    await fake?.close();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(metricsUrl);
    assert.equal(res.status, 200);
    return parsePrometheus(await res.text());
  }

  async function enroll(workflow: unknown, properties: Record<string, unknown> = {}): Promise<string> {
    const wf = await call('POST', '/v1/workflows', workflow);
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const r = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: '7', properties } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.id;
  }

  it('prints the endpoint in the banner and serves it', async () => {
    assert.equal(metricsUrl, `http://127.0.0.1:${new URL(metricsUrl).port}/metrics`, platform.output());
    await scrape();
  });

  it('moves the enrollment, execution, duration, lag, sandbox, token refresh and egress metrics by what a run did', async () => {
    const before = await scrape();
    const created = await call('POST', '/v1/connections', { handle: 'my-hubspot', provider: 'hubspot', permissions: ['contacts.read'] });
    const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
    assert.equal((await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } })).status, 200);

    const ids = [
      await enroll({ name: 'ok', actions: [{ id: 'a', code: OK, inputFields: [{ name: 'n', property: 'n' }], outputFields: [{ name: 'n', type: 'number' }] }] }, { n: 1 }),
      await enroll({ name: 'ok', actions: [{ id: 'a', code: OK, inputFields: [{ name: 'n', property: 'n' }], outputFields: [{ name: 'n', type: 'number' }] }] }, { n: 2 }),
      await enroll({ name: 'throws', actions: [{ id: 'a', code: THROWS }] }),
      await enroll({ name: 'spins', actions: [{ id: 'a', code: SPINS, timeoutMs: 500 }] }),
      await enroll({ name: 'egress', actions: [{ id: 'a', code: BLOCKED }] }),
      await enroll({ name: 'token', objectType: 'WEBHOOK', actions: [{ id: 'a', runtime: 'jsworkflows', code: TOKEN, connections: ['my-hubspot'] }] }),
    ];
    const outcome: Record<string, string> = {};
    for (const id of ids) {
      const h = await waitFor(`enrollment ${id}`, async () => {
        const r = await call('GET', `/v1/enrollments/${id}`);
        return r.body.status && r.body.status !== 'running' ? r.body : undefined;
      });
      outcome[id] = `${h.status}${h.error ? ` ${h.error.code}` : ''}`;
    }
    assert.deepEqual(Object.values(outcome), ['completed', 'completed', 'failed USER_CODE_ERROR', 'failed TIMEOUT', 'completed', 'completed']);

    const moved = (after: Sample[], name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
    const after = await waitFor('the history to be projected', async () => {
      const s = await scrape();
      return moved(s, 'codestep_enrollments_finished_total') >= ids.length ? s : undefined;
    });
    assert.equal(moved(after, 'codestep_enrollments_started_total'), ids.length);
    assert.equal(moved(after, 'codestep_enrollments_finished_total', { codestep_status: 'completed' }), 4);
    assert.equal(moved(after, 'codestep_enrollments_finished_total', { codestep_status: 'failed', error_type: 'USER_CODE_ERROR' }), 1);
    assert.equal(moved(after, 'codestep_enrollments_finished_total', { codestep_status: 'failed', error_type: 'TIMEOUT' }), 1);
    assert.equal(moved(after, 'codestep_executions_total', { codestep_status: 'succeeded' }), 4);
    assert.equal(moved(after, 'codestep_executions_total', { codestep_status: 'failed', error_type: 'TIMEOUT' }), 1);
    assert.equal(moved(after, 'codestep_execution_duration_count'), 6);
    assert.equal(moved(after, 'codestep_enrollment_duration_count'), 6);
    assert.ok(total(after, 'codestep_execution_duration_sum', { codestep_status: 'failed' }) >= 0.5, 'the timed-out execution ran at least its 500 ms');
    assert.ok(moved(after, 'codestep_sandbox_replacements_total') >= 1, 'the timed-out worker was replaced');
    assert.ok(total(after, 'codestep_sandbox_workers', { codestep_sandbox_worker_state: 'idle' }) + total(after, 'codestep_sandbox_workers', { codestep_sandbox_worker_state: 'busy' }) >= 1);
    assert.equal(moved(after, 'codestep_egress_blocked_total'), 1);
    assert.ok(moved(after, 'codestep_oauth_token_refreshes_total', { codestep_oauth_provider: 'hubspot', codestep_outcome: 'refreshed' }) >= 1);
    const lag = after.filter((s) => s.name === 'codestep_consumer_lag');
    assert.ok(
      lag.some((s) => s.labels.messaging_consumer_group_name === 'codestep-log'),
      JSON.stringify(lag),
    );
    assert.ok(lag.every((s) => s.value >= 0));
  });
});
