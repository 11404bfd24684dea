/**
 * The event log with producer spans: each append (and each batch of records a consumer returns
 * for its atomic commit) is a `send <topic>` span, child of the span that made the records (their
 * `traceparent` header, else the active span), and the records leave with the producer span's
 * `traceparent`, so a consumer's `process <topic>` span hangs under the send that carried it.
 * Spans follow OpenTelemetry's messaging conventions and carry the tenant (`tenant-id` header).
 * When nothing is exported (`tracingEnabled()` false) the log is used as it is: the records'
 * own `traceparent` still propagates the context, at no cost.
 */
import { context, trace, type Span } from '@opentelemetry/api';
import { SpanStatusCode, extractContext, idAttributes, injectContext, messagingSpanOf, setMessagingSystem, tracingEnabled } from '@codestep/telemetry';
import type { EventLog, LogRecord } from './event-log.port.ts';

/** Wraps `log` (`system`: `kafka` or `sqlite`, the `messaging.system` attribute). */
export function tracedEventLog(log: EventLog, system: string): EventLog {
  setMessagingSystem(system);
  /** Starts the send spans of `records`; returns the records to append and the spans to end. */
  const sending = (records: LogRecord[]) => {
    const groups = new Map<string, LogRecord[]>();
    for (const r of records) {
      const k = `${r.topic}\n${r.headers.traceparent ?? ''}`;
      const group = groups.get(k);
      if (group) group.push(r);
      else groups.set(k, [r]);
    }
    const spans: Span[] = [];
    const out = new Map<LogRecord, LogRecord>();
    for (const group of groups.values()) {
      const first = group[0]!;
      const parent = first.headers.traceparent ? extractContext({ traceparent: first.headers.traceparent, tracestate: first.headers.tracestate }) : context.active();
      const one = group.length === 1;
      const m = messagingSpanOf({
        system,
        topic: first.topic,
        operation: 'send',
        messageCount: group.length,
        ...(one ? { key: first.key, ...(first.id ? { messageId: first.id } : {}) } : {}),
      });
      const tenants = new Set(group.map((r) => r.headers['tenant-id']));
      const tenantId = tenants.size === 1 ? first.headers['tenant-id'] : undefined;
      const span = trace.getTracer('codestep').startSpan(m.name, { kind: m.kind, attributes: { ...m.attributes, ...idAttributes({ ...(tenantId ? { tenantId } : {}) }) } }, parent);
      spans.push(span);
      const carrier = injectContext(trace.setSpan(parent, span));
      for (const r of group) out.set(r, { ...r, headers: { ...r.headers, ...carrier } });
    }
    return { records: records.map((r) => out.get(r)!), spans };
  };
  const end = (spans: Span[], error?: unknown) => {
    for (const span of spans) {
      if (error !== undefined) {
        span.recordException(error instanceof Error ? error : new Error(String(error)));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    }
  };
  return {
    ensureTopics: (topics) => log.ensureTopics(topics),
    append: async (records) => {
      if (!tracingEnabled() || records.length === 0) return log.append(records);
      const sent = sending(records);
      try {
        await log.append(sent.records);
      } catch (error) {
        end(sent.spans, error);
        throw error;
      }
      end(sent.spans);
    },
    consume: (o) =>
      log.consume({
        ...o,
        handle: async (batch) => {
          const records = await o.handle(batch);
          if (!tracingEnabled() || records.length === 0) return records;
          // Committed with the group's position by the adapter, after this returns: the spans
          // say when they were handed over.
          const sent = sending(records);
          end(sent.spans);
          return sent.records;
        },
      }),
    readAll: (topics, handle) => log.readAll(topics, handle),
    close: () => log.close(),
  };
}
