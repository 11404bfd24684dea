/**
 * Metrics of more than one thread on one endpoint. Embedded mode may run a service on a worker
 * thread (the executor: `CODESTEP_EMBEDDED_WORKERS`); its OpenTelemetry SDK is its own, so its
 * metrics would be on no endpoint. The thread starts its telemetry with `pullMetrics`, and the
 * main thread registers a {@link MetricProducer} that asks it for them at each collection
 * (`addMetricProducer`): they are served and pushed with the main thread's own, the series of one
 * metric of both threads under one name (the Prometheus text format wants one block per name).
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MetricReader, type CollectionResult, type MetricData, type MetricProducer, type ScopeMetrics } from '@opentelemetry/sdk-metrics';

/** A reader only collected on demand (`collectScopeMetrics`): the thread's metrics, handed to the main thread. */
export class PullMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** What a reader collected, as plain data that crosses a thread boundary (structured clone). */
export async function collectScopeMetrics(reader: MetricReader): Promise<ScopeMetrics[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics;
}

export type { ScopeMetrics };

const producers = new Set<MetricProducer>();

/** The metrics of other threads (see the module comment): collected with this thread's from now on. Returns the function that removes it. */
export function addMetricProducer(collect: () => Promise<ScopeMetrics[]>): () => void {
  const resource = resourceFromAttributes({}); // ignored: the SDK's resource is the one exported
  const producer: MetricProducer = { collect: async () => ({ resourceMetrics: { resource, scopeMetrics: await collect() }, errors: [] }) };
  producers.add(producer);
  return () => producers.delete(producer);
}

/** The registered producers as one, given to the SDK's readers. */
export const threadsMetricProducer: MetricProducer = {
  collect: async (options) => {
    const results = await Promise.all([...producers].map((p) => p.collect(options).catch(() => undefined)));
    return {
      resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: results.flatMap((r) => r?.resourceMetrics.scopeMetrics ?? []) },
      errors: [],
    };
  },
};

/** One entry per scope and one metric per name: the data points of both threads' copies together. */
export function mergeScopeMetrics(result: CollectionResult): CollectionResult {
  const scopes = new Map<string, ScopeMetrics>();
  for (const sm of result.resourceMetrics.scopeMetrics) {
    const key = `${sm.scope.name}@${sm.scope.version ?? ''}`;
    const into = scopes.get(key);
    if (!into) {
      scopes.set(key, { scope: sm.scope, metrics: [...sm.metrics] });
      continue;
    }
    for (const metric of sm.metrics) {
      const same = into.metrics.findIndex((m) => m.descriptor.name === metric.descriptor.name && m.dataPointType === metric.dataPointType);
      if (same < 0) into.metrics.push(metric);
      else into.metrics[same] = { ...into.metrics[same]!, dataPoints: [...into.metrics[same]!.dataPoints, ...metric.dataPoints] } as MetricData;
    }
  }
  return { ...result, resourceMetrics: { ...result.resourceMetrics, scopeMetrics: [...scopes.values()] } };
}
