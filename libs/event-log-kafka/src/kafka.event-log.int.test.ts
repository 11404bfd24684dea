/**
 * The event log contract and the exactly-once guarantees against a real Kafka broker
 * (`KAFKA_BROKERS`, e.g. from `eval "$(infra/local/up.sh)"`). Skipped when it is unset.
 * `CODESTEP_KAFKA_RESTART_TEST=1` also runs the broker-restart test, which stops and starts the
 * broker of infra/local (so never set it against a shared broker); `npm test` sets it, as it
 * runs the integration files one at a time against the broker it started itself.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { eventLogContract, type ConsumedRecord, type LogRecord } from '@codestep/event-log';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaEventLog, type KafkaEventLogOptions } from './kafka.event-log.ts';

const brokers = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function until(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

if (brokers.length === 0) {
  void describe('KafkaEventLog against a real broker', () => {
    void it('needs KAFKA_BROKERS', { skip: 'KAFKA_BROKERS is not set; run eval "$(infra/local/up.sh)" first' }, () => {});
  });
} else {
  // Short fetch waits keep stop() quick; everything else is the production default.
  const open = (extra: Partial<KafkaEventLogOptions> = {}) => new KafkaEventLog({ brokers, maxWaitTimeMs: 200, transactionalIdPrefix: `test-${randomUUID().slice(0, 8)}`, ...extra });

  eventLogContract('Kafka', { open: async () => open(), dedupesOnAppend: false });

  /** Every data record of a topic as a `read_uncommitted` reader sees it: aborted ones included. */
  async function readUncommitted(topic: string): Promise<string[]> {
    const kafka = new Kafka({ brokers, logLevel: logLevel.ERROR });
    const admin = kafka.admin();
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    await admin.disconnect();
    const positions = new Map<number, number>();
    const values: string[] = [];
    const consumer = kafka.consumer({ groupId: `raw-${randomUUID()}`, readUncommitted: true, maxWaitTimeInMs: 200 });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => positions.set(payload.partition, Number(payload.lastOffset) + 1));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => void values.push(...batch.messages.map((m) => String(m.value))) });
    await until(() => [...ends].every(([p, end]) => (positions.get(p) ?? 0) >= end), 'the raw end of the topic');
    await consumer.disconnect();
    return values;
  }

  /** The step under test: one output per input, value `<input>!`, id derived from the input. */
  const transform =
    (output: string) =>
    (batch: ConsumedRecord[]): LogRecord[] =>
      batch.map((r) => ({ topic: output, key: r.key, value: enc(`${dec(r.value)}!`), headers: {}, id: `out-${r.partition}-${r.offset}` }));

  async function seed(log: KafkaEventLog, input: string, n: number): Promise<string[]> {
    const values = Array.from({ length: n }, (_, i) => `v${String(i).padStart(3, '0')}`);
    await log.append(values.map((v, i) => ({ topic: input, key: `k${i % 7}`, value: enc(v), headers: {} })));
    return values;
  }

  /** Waits until a `read_committed` group member has seen `n` outputs. */
  async function awaitOutputs(log: KafkaEventLog, output: string, n: number, timeoutMs?: number): Promise<void> {
    let seen = 0;
    const reader = await log.consume({ group: `reader-${randomUUID()}`, topics: [output], handle: async (b) => ((seen += b.length), []) });
    try {
      await until(() => seen >= n, `${n} committed outputs`, timeoutMs);
    } finally {
      await reader.stop();
    }
  }

  async function committedOutputs(log: KafkaEventLog, output: string): Promise<string[]> {
    const values: string[] = [];
    await log.readAll([output], async (batch) => void values.push(...batch.map((r) => dec(r.value))));
    return values.sort();
  }

  void describe('KafkaEventLog: consume→produce survives crashes exactly once', () => {
    const logs: KafkaEventLog[] = [];
    after(() => Promise.all(logs.map((l) => l.close())));

    void it('discards the outputs of a step that fails after sending them and before committing', async () => {
      let failures = 0;
      const log = open({
        testHooks: {
          beforeCommit: async () => {
            if (failures++ < 2) throw new Error('crash between send and commit');
          },
        },
      });
      logs.push(log);
      const [input, output] = [`in-${randomUUID()}`, `out-${randomUUID()}`];
      await log.ensureTopics([input, output]);
      const values = await seed(log, input, 40);
      const sub = await log.consume({ group: `g-${randomUUID()}`, topics: [input], batchSize: 10, handle: async (b) => transform(output)(b), onError: () => {} });
      await awaitOutputs(log, output, values.length);
      await sub.stop();
      assert.ok(failures > 2, 'two steps failed before their commit, later ones committed');
      assert.deepEqual(
        await committedOutputs(log, output),
        values.map((v) => `${v}!`),
      );
      const raw = await readUncommitted(output);
      assert.ok(raw.length > values.length, `the aborted outputs are in the log (${raw.length} raw records) but never read committed`);
    });

    for (const killAt of ['before-commit', 'handle'] as const) {
      void it(`loses and repeats nothing when the member process is killed ${killAt === 'handle' ? 'inside the handler' : 'after sending, before the commit'}`, async () => {
        const log = open();
        logs.push(log);
        const prefix = `crash-${randomUUID().slice(0, 8)}`;
        const [input, output, group] = [`in-${randomUUID()}`, `out-${randomUUID()}`, `g-${randomUUID()}`];
        await log.ensureTopics([input, output]);
        const values = await seed(log, input, 30);

        const fixture = fileURLToPath(new URL('./kafka-crash.fixture.ts', import.meta.url));
        const child = spawn(process.execPath, [fixture, JSON.stringify({ brokers, prefix, group, input, output, killAt })], { stdio: ['ignore', 'ignore', 'inherit'] });
        const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
        assert.equal(signal, 'SIGKILL', 'the member died at the chosen point');

        // A new member of the same group, with the same transactional ids, takes over.
        const survivor = open({ transactionalIdPrefix: prefix });
        logs.push(survivor);
        const sub = await survivor.consume({ group, topics: [input], handle: async (b) => transform(output)(b) });
        await awaitOutputs(log, output, values.length);
        await sub.stop();
        assert.deepEqual(
          await committedOutputs(log, output),
          values.map((v) => `${v}!`),
        );
        const raw = await readUncommitted(output);
        if (killAt === 'before-commit') assert.ok(raw.length > values.length, 'the dead member had sent outputs, which were aborted');
        else assert.equal(raw.length, values.length);
      });
    }

    void it('keeps a member in its group while a handler runs longer than the session timeout', async () => {
      const log = open({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 });
      logs.push(log);
      const admin = new Kafka({ brokers, logLevel: logLevel.ERROR }).admin();
      await admin.connect();
      const [input, group] = [`in-${randomUUID()}`, `g-${randomUUID()}`];
      await log.ensureTopics([input]);
      await log.append([{ topic: input, key: 'k', value: enc('slow'), headers: {} }]);
      let state: { state: string; members: number } | undefined;
      const sub = await log.consume({
        group,
        topics: [input],
        handle: async () => {
          await new Promise((r) => setTimeout(r, 9_000));
          const [described] = (await admin.describeGroups([group])).groups;
          state = { state: described!.state, members: described!.members.length };
          return [];
        },
      });
      await until(() => state !== undefined, 'the slow handler');
      await sub.stop();
      await admin.disconnect();
      assert.deepEqual(state, { state: 'Stable', members: 1 });
    });

    void it('appends a record naming a partition there, from a plain append and from a step, and tells a member which partitions it holds', async () => {
      const log = open();
      logs.push(log);
      const [input, output] = [`in-${randomUUID()}`, `out-${randomUUID()}`];
      await log.ensureTopics([input, output]);
      // The same key in all three partitions: only the target decides.
      await log.append([0, 1, 2].map((p) => ({ topic: input, key: 'k', value: enc(`to-${p}`), headers: {}, targetPartition: p })));
      const seen: Array<[string, number]> = [];
      const step = await log.consume({
        group: `g-${randomUUID()}`,
        topics: [input],
        handle: async (batch) => (
          seen.push(...batch.map((r): [string, number] => [dec(r.value), r.partition])),
          batch.map((r) => ({ topic: output, key: 'k', value: r.value, headers: {}, targetPartition: r.partition }))
        ),
      });
      await until(() => seen.length === 3, 'the three records');
      assert.deepEqual(step.partitionsOf?.(input).sort(), [0, 1, 2], 'the only member holds every partition');
      assert.deepEqual(step.partitionsOf?.(output), []);
      await step.stop();
      assert.deepEqual(seen.sort(), [
        ['to-0', 0],
        ['to-1', 1],
        ['to-2', 2],
      ]);
      const outputs: Array<[string, number]> = [];
      await log.readAll([output], async (batch) => void outputs.push(...batch.map((r): [string, number] => [dec(r.value), r.partition])));
      assert.deepEqual(
        outputs.sort(),
        [
          ['to-0', 0],
          ['to-1', 1],
          ['to-2', 2],
        ],
        "a step's outputs go where they name too",
      );
    });

    void it('tells a caller why a topic it appends to does not exist', async () => {
      const log = open({ retry: { retries: 1, initialRetryTime: 100 } });
      logs.push(log);
      await assert.rejects(log.append([{ topic: `missing-${randomUUID()}`, key: 'k', value: enc('x'), headers: {} }]), { code: 'EVENT_LOG_UNAVAILABLE' });
    });

    void it('skips topics that do not exist when reading everything', async () => {
      const log = open();
      logs.push(log);
      assert.equal(await log.readAll([`missing-${randomUUID()}`], async () => assert.fail('no records expected')), 0);
    });

    void it(
      'survives a broker restart in the middle of consume→produce',
      { skip: process.env.CODESTEP_KAFKA_RESTART_TEST === '1' ? false : 'set CODESTEP_KAFKA_RESTART_TEST=1 (restarts the infra/local broker)' },
      async () => {
        const kafkaScript = fileURLToPath(new URL('../../../infra/local/kafka.sh', import.meta.url));
        const log = open();
        logs.push(log);
        const [input, output] = [`in-${randomUUID()}`, `out-${randomUUID()}`];
        await log.ensureTopics([input, output]);
        const first = await seed(log, input, 20);
        const sub = await log.consume({ group: `g-${randomUUID()}`, topics: [input], batchSize: 5, handle: async (b) => transform(output)(b), onError: () => {} });
        await awaitOutputs(log, output, first.length);
        execFileSync(kafkaScript, ['stop'], { stdio: 'inherit' });
        // In a session of its own: the broker must outlive this test process and its group.
        execFileSync('setsid', ['-w', kafkaScript, 'start'], { stdio: 'inherit' });
        const second = Array.from({ length: 20 }, (_, i) => `w${String(i).padStart(3, '0')}`);
        await log.append(second.map((v, i) => ({ topic: input, key: `k${i % 7}`, value: enc(v), headers: {} })));
        await awaitOutputs(log, output, first.length + second.length, 120_000);
        await sub.stop();
        assert.deepEqual(
          await committedOutputs(log, output),
          [...first, ...second].map((v) => `${v}!`),
        );
      },
    );
  });
}
