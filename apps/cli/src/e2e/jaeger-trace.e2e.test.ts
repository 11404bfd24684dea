/**
 * One enrollment's trace in a real Jaeger (v2 all-in-one built from the Go module proxy by
 * infra/local/jaeger.sh, started by infra/local/up.sh as `npm test` does, or here if not running):
 * a real `codestep dev` exports its spans over OTLP/HTTP, the test reads the trace back from
 * Jaeger's query API (`GET /api/traces/{traceId}`) and checks its tree — the gateway's request,
 * the event log's send, the executor's process, its call to the OAuth broker and the broker's
 * outbound HTTP call to the provider's token endpoint (the local HubSpot fake), and the action's own
 * outbound request (to HubSpot's API, mapped to the fake) — and that the
 * spans follow OpenTelemetry's conventions and carry the tenant, workflow, enrollment and
 * execution ids. Then it takes a screenshot of the trace in chromium (docs/jaeger-trace.png in
 * the README, rewritten only with CODESTEP_SCREENSHOTS=docs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startHubSpotFake, type HubSpotFake } from '@codestep/hubspot-fake';
import { api, freeLoopbackPort, startPlatform, waitFor, type PlatformProcess } from './platform-process.ts';
import { traceWaterfallHtml, type JaegerTrace } from './jaeger-trace.view.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CHROMIUM = process.env.CODESTEP_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.CODESTEP_SCREENSHOTS ? join(root, process.env.CODESTEP_SCREENSHOTS) : mkdtempSync(join(tmpdir(), 'codestep-jaeger-shots-'));

/** Jaeger's URLs: from up.sh's exports, else from starting it here (building it if Go is there). */
function jaeger(): { otlp: string; query: string } | string {
  if (process.env.JAEGER_OTLP_TRACES_URL && process.env.JAEGER_QUERY_URL) return { otlp: process.env.JAEGER_OTLP_TRACES_URL, query: process.env.JAEGER_QUERY_URL };
  const out = spawnSync('bash', [join(root, 'infra/local/jaeger.sh'), 'start'], { encoding: 'utf8', timeout: 40 * 60_000 });
  if (out.status !== 0) {
    const last = (out.stderr || out.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    return `Jaeger is not running and infra/local/jaeger.sh start failed (${last}); run eval "$(infra/local/up.sh)" first`;
  }
  return { otlp: `http://127.0.0.1:${process.env.JAEGER_OTLP_HTTP_PORT ?? '14318'}/v1/traces`, query: `http://127.0.0.1:${process.env.JAEGER_QUERY_PORT ?? '16696'}` };
}

/** Takes a token (the broker refreshes it at the provider) and lists contacts with it through HubSpot's API (the fake, mapped). */
const TOKEN_THEN_CALL = `class Workflow {
  async start(data, headers, api) {
    const { token, error } = await api.getOAuthToken('my-hubspot');
    if (error) throw new Error(error);
    const res = await fetch('https://api.hubapi.com/crm/v3/objects/contacts?limit=1', { headers: { authorization: 'Bearer ' + token } });
    return { listed: res.status };
  }
}`;

type Span = JaegerTrace['spans'][number];
const tag = (s: Span, key: string): unknown => s.tags.find((t) => t.key === key)?.value;

const target = jaeger();

describe('one enrollment traced in Jaeger', { skip: typeof target === 'string' && target }, () => {
  const { otlp, query } = target as { otlp: string; query: string };
  let fake: HubSpotFake;
  let platform: PlatformProcess;
  let call: ReturnType<typeof api>;
  let trace: JaegerTrace;
  let traceId: string;
  let ids: { workflowId: string; enrollmentId: string; executionId: string; tenantId: string };

  before(async () => {
    const port = await freeLoopbackPort();
    const publicUrl = `http://127.0.0.1:${port}`;
    fake = await startHubSpotFake({ accessTokenTtlSeconds: 30, oauthClients: [{ clientId: 'codestep-app', clientSecret: 'app-secret', redirectUris: [`${publicUrl}/oauth/callback`] }] });
    platform = await startPlatform({
      CODESTEP_DATA_DIR: mkdtempSync(join(tmpdir(), 'codestep-jaeger-')),
      CODESTEP_HTTP_PORT: String(port),
      CODESTEP_PUBLIC_URL: publicUrl,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp,
      HUBSPOT_CLIENT_ID: 'codestep-app',
      HUBSPOT_CLIENT_SECRET: 'app-secret',
      HUBSPOT_AUTHORIZE_URL: `${fake.url}/oauth/authorize`,
      HUBSPOT_TOKEN_URL: `${fake.url}/oauth/v1/token`,
      HUBSPOT_REFRESH_TOKEN_REVOKE_URL: `${fake.url}/oauth/v1/refresh-tokens`,
      CODESTEP_EGRESS_MAP_HOSTS: `api.hubapi.com=${fake.url}`,
    });
    call = api(platform.url, platform.apiKey);
  });

  after(async () => {
    await platform?.stop();
    await fake?.close();
  });

  it('finds the trace of one enrollment in Jaeger with the request, the event log, the executor, the broker and its outbound call in one tree', async () => {
    const created = await call('POST', '/v1/connections', { handle: 'my-hubspot', provider: 'hubspot', permissions: ['contacts.read'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consent = await fetch(created.body.authorizeUrl, { redirect: 'manual' });
    assert.equal((await fetch(consent.headers.get('location')!, { headers: { accept: 'application/json' } })).status, 200);
    const wf = await call('POST', '/v1/workflows', { name: 'traced', objectType: 'WEBHOOK', actions: [{ id: 'token', runtime: 'jsworkflows', code: TOKEN_THEN_CALL, connections: ['my-hubspot'] }] });
    assert.equal(wf.status, 201, JSON.stringify(wf.body));
    const enrolled = await call('POST', `/v1/workflows/${wf.body.id}/enrollments`, { object: { objectId: '7', properties: { email: 'ada@example.com' } } });
    assert.equal(enrolled.status, 202, JSON.stringify(enrolled.body));
    const done = await waitFor('the enrollment to complete', async () => {
      const r = await call('GET', `/v1/enrollments/${enrolled.body.id}`);
      return r.body.status && r.body.status !== 'running' ? r.body : undefined;
    });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.executions[0].returnValue?.listed, 200, JSON.stringify(done.executions[0]));
    traceId = done.executions[0].traceId;
    assert.match(traceId, /^[0-9a-f]{32}$/);
    ids = { workflowId: wf.body.id, enrollmentId: enrolled.body.id, executionId: done.executions[0].id, tenantId: '' };

    // Spans leave in batches (every 500 ms) and Jaeger stores them in its own: poll until the
    // enrollment service has processed the action's result (the last hop of the enrollment).
    trace = await waitFor(
      `trace ${traceId} in Jaeger`,
      async () => {
        const res = await fetch(`${query}/api/traces/${traceId}`);
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as { data?: JaegerTrace[] };
        const t = body.data?.[0];
        const processes = t?.spans.filter((s) => s.operationName === 'process codestep.actions.v1').length ?? 0;
        return t && processes >= 2 && t.spans.some((s) => s.operationName === 'POST') && t.spans.some((s) => s.operationName === 'GET') ? t : undefined;
      },
      30_000,
    );

    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const parentOf = (s: Span) => byId.get(s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');
    const ancestors = (s: Span): Span[] => {
      const out: Span[] = [];
      for (let p = parentOf(s); p; p = parentOf(p)) out.push(p);
      return out;
    };
    const one = (what: string, pred: (s: Span) => boolean): Span => {
      const found = trace.spans.filter(pred);
      assert.equal(found.length, 1, `one ${what} in ${trace.spans.map((s) => s.operationName).join(', ')}`);
      return found[0]!;
    };
    const names = trace.spans.map((s) => s.operationName);

    // The chain, each a descendant of the one before.
    const gateway = one('gateway request', (s) => s.operationName === 'POST /v1/workflows/:id/enrollments');
    assert.equal(parentOf(gateway), undefined, 'the request is the root of the trace');
    const enroll = one('Enroll call (server side)', (s) => s.operationName === 'codestep.enrollments.v1.Enrollments/Enroll' && tag(s, 'span.kind') === 'server');
    // The action request is sent by Enroll; the executor's own sends (started, result) hang under its span.
    const executor = one('executor process span', (s) => {
      const send = parentOf(s);
      return s.operationName === 'process codestep.actions.v1' && send !== undefined && parentOf(send) === enroll;
    });
    const sendRequest = parentOf(executor)!;
    assert.equal(sendRequest.operationName, 'send codestep.actions.v1');
    const brokerServer = one(
      'broker call (server side)',
      (s) => s.operationName.startsWith('codestep.credentials.v1.Credentials/') && tag(s, 'span.kind') === 'server' && ancestors(s).includes(executor),
    );
    const outbound = one('broker outbound HTTP call', (s) => s.operationName === 'POST' && tag(s, 'span.kind') === 'client' && tag(s, 'url.full') === `${fake.url}/oauth/v1/token`);
    const actionCall = one("the action's outbound HTTP call", (s) => s.operationName === 'GET' && tag(s, 'span.kind') === 'client');
    assert.equal(parentOf(actionCall), executor, "the action's request is a child of its execution");
    assert.equal(tag(actionCall, 'url.full'), 'https://api.hubapi.com/crm/v3/objects/contacts', 'its URL as the action wrote it, without the query');
    assert.equal(tag(actionCall, 'http.response.status_code'), 200);
    assert.equal(tag(actionCall, 'server.address'), 'api.hubapi.com');
    assert.equal(tag(actionCall, 'codestep.execution.id'), ids.executionId);
    assert.ok(ancestors(enroll).includes(gateway), 'Enroll under the request');
    assert.ok(ancestors(outbound).includes(brokerServer), `the token call under the broker's RPC: ${names.join(', ')}`);
    const decide = trace.spans.find((s) => s.operationName === 'process codestep.actions.v1' && s !== executor && ancestors(s).includes(executor));
    assert.ok(decide && ancestors(decide).includes(executor), 'the enrollment service processes the result under the executor');

    // Semantic conventions.
    assert.equal(tag(gateway, 'http.request.method'), 'POST');
    assert.equal(tag(gateway, 'http.route'), '/v1/workflows/:id/enrollments');
    assert.equal(tag(gateway, 'http.response.status_code'), 202);
    assert.equal(tag(gateway, 'span.kind'), 'server');
    assert.equal(tag(enroll, 'rpc.system'), 'grpc');
    assert.equal(tag(enroll, 'rpc.service'), 'codestep.enrollments.v1.Enrollments');
    assert.equal(tag(enroll, 'rpc.method'), 'Enroll');
    assert.equal(tag(enroll, 'rpc.grpc.status_code'), 0);
    assert.equal(tag(sendRequest, 'messaging.system'), 'sqlite');
    assert.equal(tag(sendRequest, 'messaging.destination.name'), 'codestep.actions.v1');
    assert.equal(tag(sendRequest, 'messaging.operation.type'), 'send');
    assert.equal(tag(sendRequest, 'span.kind'), 'producer');
    assert.equal(tag(executor, 'messaging.operation.type'), 'process');
    assert.equal(tag(executor, 'span.kind'), 'consumer');
    assert.equal(tag(outbound, 'http.request.method'), 'POST');
    assert.equal(tag(outbound, 'server.address'), '127.0.0.1');
    assert.equal(tag(outbound, 'http.response.status_code'), 200);

    // The ids.
    ids.tenantId = String(tag(gateway, 'codestep.tenant.id') ?? '');
    assert.match(ids.tenantId, /^tnt_/);
    assert.equal(tag(gateway, 'codestep.workflow.id'), ids.workflowId);
    assert.equal(tag(enroll, 'codestep.enrollment.id'), ids.enrollmentId);
    assert.equal(tag(enroll, 'codestep.tenant.id'), ids.tenantId);
    for (const [key, value] of Object.entries({
      'codestep.tenant.id': ids.tenantId,
      'codestep.workflow.id': ids.workflowId,
      'codestep.enrollment.id': ids.enrollmentId,
      'codestep.execution.id': ids.executionId,
    })) {
      assert.equal(tag(executor, key), value, `${key} on the executor's span`);
    }
    assert.equal(tag(sendRequest, 'codestep.tenant.id'), ids.tenantId);
    // Nothing secret on any span.
    const text = JSON.stringify(trace);
    assert.ok(!text.includes(platform.apiKey ?? 'csk_'), 'no API key');
    assert.ok(!/Bearer |access_token"|app-secret/.test(text), 'no token or client secret (the grant type `refresh_token` is named, no token is)');
  });

  it('takes a screenshot of the trace in chromium', { skip: !existsSync(CHROMIUM) && `no chromium at ${CHROMIUM} (tools/scripts/ensure-packages.sh installs it)` }, async () => {
    assert.ok(trace, 'the trace was fetched by the test before');
    // Jaeger built from the Go module has no UI assets (jaeger-ui is a separate web project): its
    // UI port serves a placeholder then, and the test draws the trace from the query API instead.
    const home = await (await fetch(`${query}/`)).text();
    const realUi = !/placeholder/i.test(home);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 });
      if (realUi) await page.goto(`${query}/trace/${traceId}`, { waitUntil: 'networkidle' });
      else await page.setContent(traceWaterfallHtml(trace, { source: `${query}/api/traces/${traceId}` }));
      const rows = realUi ? 1 : await page.locator('.span-row').count();
      assert.equal(rows, realUi ? 1 : trace.spans.length, 'one row per span');
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'jaeger-trace.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
