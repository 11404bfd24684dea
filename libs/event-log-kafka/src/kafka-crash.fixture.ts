/**
 * A consume→produce member run as its own process by `kafka.event-log.int.test.ts`, so a test
 * can kill it with SIGKILL at a chosen moment of a step. Not part of the library.
 *
 * argv[2]: JSON `{ brokers, prefix, group, input, output, killAt }`, where `killAt` is
 * `'handle'` (inside the handler, before anything was sent) or `'before-commit'` (outputs and
 * offsets sent in the open transaction, commit not yet called).
 */
import type { LogRecord } from '@codestep/event-log';
import { KafkaEventLog } from './kafka.event-log.ts';

interface FixtureArgs {
  brokers: string[];
  prefix: string;
  group: string;
  input: string;
  output: string;
  killAt: 'handle' | 'before-commit';
}

const args = JSON.parse(process.argv[2] ?? '{}') as FixtureArgs;
const die = (): void => void process.kill(process.pid, 'SIGKILL');

const log = new KafkaEventLog({
  brokers: args.brokers,
  transactionalIdPrefix: args.prefix,
  // The broker's minimum: the dead member leaves the group soon after the kill.
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 1_000,
  maxWaitTimeMs: 200,
  kafkaLogLevel: 'error',
  testHooks: {
    beforeCommit: async () => {
      if (args.killAt === 'before-commit') die();
    },
  },
});

await log.consume({
  group: args.group,
  topics: [args.input],
  handle: async (batch): Promise<LogRecord[]> => {
    if (args.killAt === 'handle') die();
    return batch.map((r) => ({ topic: args.output, key: r.key, value: r.value, headers: {}, id: `out-${r.offset}` }));
  },
});
