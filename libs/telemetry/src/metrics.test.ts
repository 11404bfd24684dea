/**
 * Metrics leave the process both ways `startTelemetry` offers: pushed over OTLP/HTTP to a
 * collector (here a real HTTP server standing in for one) and served on the Prometheus endpoint.
 * Instruments taken before `startTelemetry` would be no-ops; `codestepMetrics()` after it records.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MetricAttributes, codestepMetrics, observeSandboxPool } from './metrics.ts';
import { startTelemetry, type Telemetry } from './telemetry.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('metrics export', () => {
  const bodies: string[] = [];
  const collector = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/v1/metrics') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let telemetry: Telemetry;
  let metricsUrl: string | undefined;

  before(async () => {
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const { port } = collector.address() as AddressInfo;
    // Instruments taken before the SDK registers (no-ops) are dropped by startTelemetry.
    assert.equal(codestepMetrics().executions.constructor.name, 'NoopCounterMetric');
    telemetry = startTelemetry({
      serviceName: 'metrics-test',
      metricsPort: await freePort(),
      otlpMetricsEndpoint: `http://127.0.0.1:${port}/v1/metrics`,
      otlpMetricsIntervalMs: 200,
    });
    metricsUrl = await telemetry.metricsUrl();
    assert.notEqual(codestepMetrics().executions.constructor.name, 'NoopCounterMetric');
  });

  after(async () => {
    await telemetry?.shutdown();
    collector.close();
  });

  it('serves recorded metrics on the Prometheus endpoint, with their attributes', async () => {
    codestepMetrics().executions.add(2, { [MetricAttributes.status]: 'failed', [MetricAttributes.errorType]: 'TIMEOUT' });
    codestepMetrics().executionDuration.record(0.25, { [MetricAttributes.status]: 'failed' });
    const stop = observeSandboxPool(async () => ({ workers: 3, busy: 1, queued: 4, replaced: 5 }));
    const text = await (await fetch(metricsUrl!)).text();
    stop();
    assert.match(text, /^codestep_executions_total\{codestep_status="failed",error_type="TIMEOUT",otel_scope_name="codestep"\} 2$/m);
    assert.match(text, /^codestep_execution_duration_bucket\{codestep_status="failed",otel_scope_name="codestep",le="0.25"\} 1$/m);
    assert.match(text, /^codestep_sandbox_workers\{codestep_sandbox_worker_state="idle",otel_scope_name="codestep"\} 2$/m);
    assert.match(text, /^codestep_sandbox_workers\{codestep_sandbox_worker_state="busy",otel_scope_name="codestep"\} 1$/m);
    assert.match(text, /^codestep_sandbox_replacements_total\{otel_scope_name="codestep"\} 5$/m);
  });

  it('pushes them over OTLP/HTTP to the configured endpoint', async () => {
    codestepMetrics().tokenRefreshes.add(1, { [MetricAttributes.provider]: 'hubspot', [MetricAttributes.outcome]: 'refreshed' });
    const deadline = Date.now() + 30_000;
    while (!bodies.some((b) => b.includes('codestep.oauth.token.refreshes')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const body = bodies.find((b) => b.includes('codestep.oauth.token.refreshes'));
    assert.ok(body, `an OTLP export naming the metric (got ${bodies.length} exports)`);
    assert.match(body, /metrics-test/, 'with the service name as a resource attribute');
  });
});
