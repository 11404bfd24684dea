/**
 * With neither a Prometheus port nor an OTLP metrics endpoint, no meter provider is registered
 * (sdk-node would otherwise push OTLP to localhost by default) and the instruments are no-ops.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { codestepMetrics } from './metrics.ts';
import { startTelemetry } from './telemetry.ts';

describe('metrics not configured', () => {
  const telemetry = startTelemetry({ serviceName: 'metrics-off-test' });
  after(() => telemetry.shutdown());

  it('registers no meter provider, serves no endpoint, and records into no-ops', async () => {
    assert.equal(metrics.getMeterProvider().constructor.name, 'NoopMeterProvider');
    assert.equal(await telemetry.metricsUrl(), undefined);
    codestepMetrics().executions.add(1);
    assert.equal(codestepMetrics().executions.constructor.name, 'NoopCounterMetric');
  });
});
