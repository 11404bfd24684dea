/**
 * With no OTLP endpoint, tracing takes the shared no-op path: no span is created, no context is
 * extracted, entered or injected, and nothing goes out as `traceparent` — while the functions it
 * wraps run and answer as they would with spans.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { trace, type Span } from '@opentelemetry/api';
import { recordHttpClientSpan, tracedFetch } from './semconv.ts';
import {
  activeContext,
  annotateActiveSpan,
  currentTraceId,
  currentTraceparent,
  extractContext,
  injectContext,
  recordForeignSpan,
  SpanKind,
  startTelemetry,
  tracingEnabled,
  withContext,
  withSpan,
} from './telemetry.ts';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('tracing with nothing exported', () => {
  const telemetry = startTelemetry({ serviceName: 'tracing-off-test' });
  after(() => telemetry.shutdown());

  it('is off', () => {
    assert.equal(tracingEnabled(), false);
  });

  it('runs the function of withSpan with one shared span that records nothing, has no ids and is not made active', async () => {
    const given: Span[] = [];
    const answer = await withSpan('outer', { kind: SpanKind.SERVER, parent: { traceparent: TRACEPARENT } }, async (outer) => {
      given.push(outer);
      assert.equal(trace.getActiveSpan(), undefined, 'no span is active inside');
      return withSpan('inner', {}, async (inner) => {
        given.push(inner);
        inner.setAttribute('a', 1);
        inner.setStatus({ code: 2 });
        annotateActiveSpan({ b: 2 }, 'renamed');
        assert.equal(currentTraceparent(), undefined);
        assert.equal(currentTraceId(), '');
        assert.deepEqual(injectContext(), {});
        return 42;
      });
    });
    assert.equal(answer, 42);
    assert.equal(given[0], given[1], 'the same span object both times: nothing is allocated per call');
    assert.equal(given[0]!.isRecording(), false);
    assert.equal(trace.isSpanContextValid(given[0]!.spanContext()), false, 'the span has no ids');
  });

  it("passes the function's error through as it is", async () => {
    const error = new Error('boom');
    await assert.rejects(
      withSpan('failing', {}, async () => {
        throw error;
      }),
      (e) => e === error,
    );
  });

  it('rejects, not throws, when the function throws before it returns a promise', async () => {
    const error = new Error('at once');
    const run = () =>
      withSpan('sync', {}, () => {
        throw error;
      });
    await assert.rejects(run(), (e) => e === error);
  });

  it('extracts no context from a traceparent, and runs functions with a context as they are', () => {
    const ctx = extractContext({ traceparent: TRACEPARENT });
    assert.equal(trace.getSpan(ctx), undefined, 'the incoming trace is not joined');
    assert.equal(
      withContext(ctx, () => trace.getActiveSpan()),
      undefined,
    );
    assert.equal(trace.getSpan(activeContext()), undefined);
  });

  it('records no foreign span and sends no traceparent with a traced fetch', async () => {
    recordForeignSpan({ name: 'GET', kind: SpanKind.CLIENT, spanId: 'b7ad6b7169203331', startTime: 1, endTime: 2, attributes: {} });
    recordHttpClientSpan({ spanId: 'b7ad6b7169203331', method: 'GET', url: 'http://example.test/x', startedAt: 1, durationMs: 1, status: 200 });
    const seen: Array<RequestInit | undefined> = [];
    const init: RequestInit = { method: 'POST', headers: { 'x-given': '1' } };
    const res = await tracedFetch(async (_input, i) => {
      seen.push(i);
      return new Response('ok', { status: 201 });
    })('http://example.test/hook', init);
    assert.equal(res.status, 201);
    assert.equal(seen[0], init, 'the request goes as it was given, with no traceparent added');
  });
});
