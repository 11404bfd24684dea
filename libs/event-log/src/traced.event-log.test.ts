/**
 * The traced event log: with spans exported (to a real HTTP server standing in for an OTLP
 * collector), each append is a `send <topic>` producer span under the span that made the
 * records, and the records leave with the send span's `traceparent`; records a consumer returns
 * get theirs too. With nothing exported, the records pass through unchanged.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { currentTraceparent, startTelemetry, withSpan, type Telemetry } from '@codestep/telemetry';
import type { ConsumeOptions, ConsumedRecord, EventLog, LogRecord } from './event-log.port.ts';
import { tracedEventLog } from './traced.event-log.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}
const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? undefined : Number(v.intValue));
};

/** A log that keeps what it is given and hands `handle` one batch when asked. */
function memoryLog() {
  const appended: LogRecord[][] = [];
  let consumer: ConsumeOptions | undefined;
  const log: EventLog = {
    ensureTopics: async () => {},
    append: async (records) => void appended.push(records),
    consume: async (o) => ((consumer = o), { stop: async () => {} }),
    readAll: async () => 0,
    close: async () => {},
  };
  return { log, appended, deliver: (batch: ConsumedRecord[]) => consumer!.handle(batch) };
}

const rec = (topic: string, key: string, headers: Record<string, string> = {}): LogRecord => ({
  topic,
  key,
  value: new Uint8Array([1]),
  headers: { 'tenant-id': 'tnt_1', ...headers },
  id: `${key}-id`,
});

describe('the traced event log', () => {
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
  let telemetry: Telemetry | undefined;

  before(() => new Promise<void>((r) => collector.listen(0, '127.0.0.1', r)));

  after(async () => {
    await telemetry?.shutdown();
    collector.close();
  });

  it('leaves records as they are when nothing is exported', async () => {
    const { log, appended, deliver } = memoryLog();
    const traced = tracedEventLog(log, 'sqlite');
    const given = rec('codestep.actions.v1', 'exe_0', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await traced.append([given]);
    assert.deepEqual(appended[0], [given]);
    await traced.consume({ group: 'g', topics: ['codestep.actions.v1'], handle: async () => [given] });
    assert.deepEqual(await deliver([]), [given]);
  });

  it('appends under a send span per topic, child of the active span, and gives the records its traceparent', async () => {
    const { log, appended } = memoryLog();
    const traced = tracedEventLog(log, 'sqlite');
    telemetry = startTelemetry({ serviceName: 'traced-log-test', otlpEndpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces` });
    const parentTp = await withSpan('enroll', {}, async () => {
      await traced.append([rec('codestep.enrollments.v1', 'enr_1'), rec('codestep.actions.v1', 'exe_1'), rec('codestep.actions.v1', 'exe_2')]);
      return currentTraceparent()!;
    });
    await telemetry.forceFlush();
    const parentId = parentTp.split('-')[2];
    const sends = spans.filter((s) => s.name.startsWith('send '));
    assert.deepEqual(sends.map((s) => s.name).sort(), ['send codestep.actions.v1', 'send codestep.enrollments.v1']);
    for (const s of sends) {
      assert.equal(s.parentSpanId, parentId, `${s.name} under the span that appended`);
      assert.equal(s.kind, 4, 'a producer span');
      assert.equal(attr(s, 'messaging.system'), 'sqlite');
      assert.equal(attr(s, 'messaging.operation.type'), 'send');
      assert.equal(attr(s, 'codestep.tenant.id'), 'tnt_1');
    }
    const actions = sends.find((s) => s.name === 'send codestep.actions.v1')!;
    assert.equal(attr(actions, 'messaging.destination.name'), 'codestep.actions.v1');
    assert.equal(attr(actions, 'messaging.batch.message_count'), 2);
    assert.equal(
      attr(
        sends.find((s) => s.name === 'send codestep.enrollments.v1')!,
        'messaging.message.id',
      ),
      'enr_1-id',
    );
    const [batch] = appended;
    assert.equal(batch!.length, 3, 'appended once, in order');
    assert.deepEqual(
      batch!.map((r) => r.key),
      ['enr_1', 'exe_1', 'exe_2'],
    );
    for (const r of batch!) {
      const send = sends.find((s) => s.name === `send ${r.topic}`)!;
      assert.equal(r.headers.traceparent, `00-${send.traceId}-${send.spanId}-01`, 'the record carries its send span');
    }
  });

  it('gives the records a consumer returns a send span under their own traceparent', async () => {
    const { log, deliver } = memoryLog();
    const traced = tracedEventLog(log, 'kafka');
    const given = rec('codestep.actions.v1', 'exe_3', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await traced.consume({ group: 'g', topics: ['codestep.actions.v1'], handle: async () => [given] });
    const out = await deliver([]);
    await telemetry!.shutdown();
    telemetry = undefined;
    const send = spans.find((s) => s.name === 'send codestep.actions.v1' && s.traceId === '0af7651916cd43dd8448eb211c80319c');
    assert.ok(send, 'a send span for the returned record');
    assert.equal(send.parentSpanId, 'b7ad6b7169203331', "under the record's own traceparent");
    assert.equal(attr(send, 'messaging.system'), 'kafka');
    assert.equal(attr(send, 'messaging.kafka.message.key'), 'exe_3');
    assert.equal(out[0]!.headers.traceparent, `00-${send.traceId}-${send.spanId}-01`);
  });
});
