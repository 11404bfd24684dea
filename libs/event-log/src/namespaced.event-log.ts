/**
 * Gives one deployment its own topics and consumer groups on a shared log (a Kafka cluster used
 * by several deployments or test runs): names are prefixed on the way in and stripped on the
 * way out, so services keep using the plain topic names.
 */
import type { ConsumedRecord, EventLog, LogRecord } from './event-log.port.ts';

export function namespacedEventLog(log: EventLog, namespace: string): EventLog {
  if (!namespace) return log;
  const p = `${namespace}.`;
  const out = (t: string) => p + t;
  const back = (t: string) => (t.startsWith(p) ? t.slice(p.length) : t);
  const outRecord = (r: LogRecord): LogRecord => ({ ...r, topic: out(r.topic) });
  const backRecord = (r: ConsumedRecord): ConsumedRecord => ({ ...r, topic: back(r.topic) });
  return {
    ensureTopics: (topics) => log.ensureTopics(topics.map(out)),
    append: (records) => log.append(records.map(outRecord)),
    consume: async (o) => {
      const subscription = await log.consume({
        ...o,
        group: out(o.group),
        topics: o.topics.map(out),
        handle: async (batch) => (await o.handle(batch.map(backRecord))).map(outRecord),
      });
      const partitionsOf = subscription.partitionsOf?.bind(subscription);
      return { stop: () => subscription.stop(), ...(partitionsOf ? { partitionsOf: (topic: string) => partitionsOf(out(topic)) } : {}) };
    },
    readAll: (topics, handle) => log.readAll(topics.map(out), (batch) => handle(batch.map(backRecord))),
    close: () => log.close(),
  };
}
