/**
 * The contract every EventLog adapter honours, as a node:test suite. Call it from an adapter's
 * test file with a factory that gives a fresh log (fresh topic namespace) per test.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ConsumedRecord, EventLog, LogRecord } from './event-log.port.ts';

export interface EventLogFactory {
  /** A log over which the tests create their own uniquely named topics. */
  open(): Promise<EventLog>;
  /** Whether a second record with the same id is dropped at append. */
  dedupesOnAppend: boolean;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const rec = (topic: string, key: string, value: string, extra: Partial<LogRecord> = {}): LogRecord => ({
  topic,
  key,
  value: enc(value),
  headers: { 'event-type': 'Test' },
  ...extra,
});

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function eventLogContract(name: string, factory: EventLogFactory): void {
  describe(`EventLog contract: ${name}`, () => {
    it('delivers appended records to a group in order per key, with headers', async () => {
      const log = await factory.open();
      const topic = `t-${randomUUID()}`;
      await log.ensureTopics([topic]);
      await log.append([rec(topic, 'a', 'a1', { headers: { traceparent: 'tp-1', 'event-type': 'X' } }), rec(topic, 'b', 'b1'), rec(topic, 'a', 'a2')]);
      const seen: ConsumedRecord[] = [];
      const sub = await log.consume({ group: `g-${randomUUID()}`, topics: [topic], handle: async (batch) => (seen.push(...batch), []) });
      await until(() => seen.length >= 3, 'three records');
      await sub.stop();
      const forA = seen.filter((r) => r.key === 'a').map((r) => dec(r.value));
      assert.deepEqual(forA, ['a1', 'a2']);
      assert.equal(seen.find((r) => dec(r.value) === 'a1')?.headers.traceparent, 'tp-1');
      const a = seen.filter((r) => r.key === 'a');
      assert.ok(a[0]!.offset < a[1]!.offset, 'offsets increase per key');
      await log.close();
    });

    it('persists the group position: a restarted member continues where the last commit left off', async () => {
      const log = await factory.open();
      const topic = `t-${randomUUID()}`;
      const group = `g-${randomUUID()}`;
      await log.ensureTopics([topic]);
      await log.append([rec(topic, 'k', '1'), rec(topic, 'k', '2')]);
      const first: string[] = [];
      let sub = await log.consume({ group, topics: [topic], handle: async (b) => (first.push(...b.map((r) => dec(r.value))), []) });
      await until(() => first.length >= 2, 'first two');
      await sub.stop();
      await log.append([rec(topic, 'k', '3')]);
      const second: string[] = [];
      sub = await log.consume({ group, topics: [topic], handle: async (b) => (second.push(...b.map((r) => dec(r.value))), []) });
      await until(() => second.length >= 1, 'the third');
      await new Promise((r) => setTimeout(r, 300));
      await sub.stop();
      assert.deepEqual(first, ['1', '2']);
      assert.deepEqual(second, ['3']);
      await log.close();
    });

    it('appends what a handler returns exactly once, atomically with its position', async () => {
      const log = await factory.open();
      const input = `in-${randomUUID()}`;
      const output = `out-${randomUUID()}`;
      await log.ensureTopics([input, output]);
      await log.append([rec(input, 'k', 'x'), rec(input, 'k', 'y')]);
      let failures = 0;
      const sub = await log.consume({
        group: `g-${randomUUID()}`,
        topics: [input],
        handle: async (batch) => {
          // The first attempt fails after "deciding": its outputs must be discarded.
          if (failures++ === 0) throw new Error('crash before commit');
          return batch.map((r) => rec(output, r.key, `${dec(r.value)}!`, { id: `o-${dec(r.value)}` }));
        },
        onError: () => {},
      });
      const outs: string[] = [];
      const reader = await log.consume({ group: `g-${randomUUID()}`, topics: [output], handle: async (b) => (outs.push(...b.map((r) => dec(r.value))), []) });
      await until(() => outs.length >= 2, 'two outputs');
      await new Promise((r) => setTimeout(r, 300));
      await sub.stop();
      await reader.stop();
      assert.deepEqual(outs, ['x!', 'y!']);
      await log.close();
    });

    it('reads a whole topic from the beginning outside any group', async () => {
      const log = await factory.open();
      const topic = `t-${randomUUID()}`;
      await log.ensureTopics([topic]);
      await log.append(Array.from({ length: 25 }, (_, i) => rec(topic, `k${i % 3}`, String(i))));
      const values: string[] = [];
      const count = await log.readAll([topic], async (batch) => void values.push(...batch.map((r) => dec(r.value))));
      assert.equal(count, 25);
      assert.deepEqual(
        values.map(Number).sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i),
      );
      await log.close();
    });

    if (factory.dedupesOnAppend) {
      it('drops a second append of a record with the same id', async () => {
        const log = await factory.open();
        const topic = `t-${randomUUID()}`;
        await log.ensureTopics([topic]);
        await log.append([rec(topic, 'k', 'once', { id: 'same' })]);
        await log.append([rec(topic, 'k', 'once', { id: 'same' })]);
        const count = await log.readAll([topic], async () => {});
        assert.equal(count, 1);
        await log.close();
      });
    }
  });
}
