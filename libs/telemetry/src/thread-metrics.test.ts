/**
 * Another thread's metrics on this thread's Prometheus endpoint (embedded mode's executor thread):
 * what that thread's SDK collected is served with this thread's, one block per metric name.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { MetricAttributes, codestepMetrics } from './metrics.ts';
import { startTelemetry, type Telemetry } from './telemetry.ts';
import { PullMetricReader, addMetricProducer, collectScopeMetrics } from './thread-metrics.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe("another thread's metrics", () => {
  let telemetry: Telemetry;
  let metricsUrl: string;
  const otherThread = new PullMetricReader();
  const otherProvider = new MeterProvider({ readers: [otherThread] });

  before(async () => {
    telemetry = startTelemetry({ serviceName: 'thread-metrics-test', metricsPort: await freePort() });
    metricsUrl = (await telemetry.metricsUrl())!;
  });
  after(async () => {
    await telemetry.shutdown();
    await otherProvider.shutdown();
  });

  it("serves them with this thread's, the series of one metric under one TYPE line, and stops when removed", async () => {
    const group = MetricAttributes.consumerGroup;
    codestepMetrics().consumerLag.record(3, { [group]: 'this-thread' });
    const other = otherProvider.getMeter('codestep');
    other.createGauge('codestep.consumer.lag', { unit: '{record}' }).record(7, { [group]: 'other-thread' });
    other.createCounter('codestep.executions', { unit: '{execution}' }).add(2, { 'codestep.status': 'succeeded' });
    // Through structured cloning, as across threads.
    const remove = addMetricProducer(async () => structuredClone(await collectScopeMetrics(otherThread)));

    const text = await (await fetch(metricsUrl)).text();
    assert.match(text, /codestep_consumer_lag\{[^}]*messaging_consumer_group_name="this-thread"[^}]*\} 3/);
    assert.match(text, /codestep_consumer_lag\{[^}]*messaging_consumer_group_name="other-thread"[^}]*\} 7/);
    assert.match(text, /codestep_executions(_total)?\{[^}]*codestep_status="succeeded"[^}]*\} 2/);
    assert.equal(text.match(/^# TYPE codestep_consumer_lag /gm)?.length, 1, text);

    remove();
    const later = await (await fetch(metricsUrl)).text();
    assert.doesNotMatch(later, /other-thread/);
    assert.match(later, /this-thread/);
  });
});
