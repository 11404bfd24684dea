/**
 * With an OTLP endpoint (a real HTTP server standing in for a collector), `withSpan` records
 * spans in one trace, `traceparent` propagates (in and out), and the spans are exported.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { recordHttpClientSpan, tracedFetch } from './semconv.ts';
import { annotateActiveSpan, currentTraceId, currentTraceparent, extractContext, injectContext, SpanKind, startTelemetry, tracingEnabled, withContext, withSpan, type Telemetry } from './telemetry.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

describe('tracing with spans exported', () => {
  const spans: OtlpSpan[] = [];
  const collector = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }> };
      for (const rs of parsed.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let telemetry: Telemetry;

  before(async () => {
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    telemetry = startTelemetry({ serviceName: 'tracing-test', otlpEndpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces` });
  });

  after(async () => {
    await telemetry.shutdown();
    collector.close();
  });

  it('records nested spans in the trace of the incoming traceparent, propagates it out, and exports them', async () => {
    assert.equal(tracingEnabled(), true);
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    let inner: { traceparent?: string; traceId: string; spanId: string; carried?: string } | undefined;
    const sent: Headers[] = [];
    await withSpan('outer', { kind: SpanKind.SERVER, parent: { traceparent: incoming } }, async (outer) => {
      assert.equal(outer.isRecording(), true);
      annotateActiveSpan({ 'codestep.tenant.id': 't1' }, 'renamed outer');
      await withSpan('inner', {}, async (span) => {
        inner = { traceparent: currentTraceparent(), traceId: currentTraceId(), spanId: span.spanContext().spanId, carried: injectContext().traceparent };
      });
      await tracedFetch(async (_input, init) => {
        sent.push(new Headers(init?.headers));
        return new Response(null, { status: 204 });
      })('http://example.test/x', { method: 'POST' });
      recordHttpClientSpan({ spanId: '00f067aa0ba902b7', method: 'GET', url: 'http://example.test/y', startedAt: Date.now(), durationMs: 1, status: 200 });
    });
    assert.equal(inner!.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(inner!.traceparent, `00-0af7651916cd43dd8448eb211c80319c-${inner!.spanId}-01`);
    assert.equal(inner!.carried, inner!.traceparent);
    assert.match(sent[0]!.get('traceparent') ?? '', /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/, 'the outbound request carries the trace');

    const ctx = extractContext({ traceparent: incoming });
    assert.equal(
      withContext(ctx, () => trace.getActiveSpan()?.spanContext().spanId),
      'b7ad6b7169203331',
      'a context extracted and entered is the incoming one',
    );

    await telemetry.forceFlush();
    const byName = new Map(spans.filter((s) => s.traceId === '0af7651916cd43dd8448eb211c80319c').map((s) => [s.name, s]));
    assert.deepEqual([...byName.keys()].sort(), ['GET', 'POST', 'inner', 'renamed outer']);
    const outer = byName.get('renamed outer')!;
    assert.equal(outer.parentSpanId, 'b7ad6b7169203331');
    assert.equal(byName.get('inner')!.parentSpanId, outer.spanId);
    assert.equal(byName.get('inner')!.spanId, inner!.spanId);
    assert.equal(byName.get('GET')!.spanId, '00f067aa0ba902b7', 'a foreign span keeps its own id');
  });
});
