import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@codestep/core';
import { logLevel } from 'kafkajs';
import { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.ts';

void describe('kafkajs log routing', () => {
  const capture = () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ component: 'test' }, { level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    return { lines, log: kafkaLogCreator(logger)(logLevel.WARN) };
  };

  void it('writes kafkajs entries as structured lines at their own level, with the kafkajs namespace', () => {
    const { lines, log } = capture();
    log({ namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: { message: 'Crash', timestamp: 'x', logger: 'kafkajs', groupId: 'g' } });
    log({ namespace: 'Runner', level: logLevel.WARN, label: 'WARN', log: { message: 'rebalancing', timestamp: 'x', logger: 'kafkajs' } });
    assert.deepEqual(
      lines.map(({ level, msg, kafkajs, groupId }) => ({ level, msg, kafkajs, groupId })),
      [
        { level: 'error', msg: 'Crash', kafkajs: 'Consumer', groupId: 'g' },
        { level: 'warn', msg: 'rebalancing', kafkajs: 'Runner', groupId: undefined },
      ],
    );
  });

  void it("demotes kafkajs's warning about finite retries of idempotent producers to debug", () => {
    const { lines, log } = capture();
    log({
      namespace: 'Producer',
      level: logLevel.WARN,
      label: 'WARN',
      log: { message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees', timestamp: 'x', logger: 'kafkajs' },
    });
    assert.equal(lines[0]?.level, 'debug');
  });

  void it('keeps protocol error responses and retried send attempts at debug: failures that matter reach the adapter', () => {
    const { lines, log } = capture();
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { message: 'Response Heartbeat(key: 12, version: 3)', timestamp: 'x', logger: 'kafkajs', error: 'The group is rebalancing' },
    });
    log({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: { message: 'Failed to send messages: coordinator loading', timestamp: 'x', logger: 'kafkajs', retryCount: 0 } });
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { message: 'Connection error: ECONNREFUSED', timestamp: 'x', logger: 'kafkajs' } });
    assert.deepEqual(
      lines.map((l) => l.level),
      ['debug', 'debug', 'error'],
    );
  });

  void it('maps codestep levels onto kafkajs levels', () => {
    assert.deepEqual((['debug', 'info', 'warn', 'error'] as const).map(kafkaLogLevel), [logLevel.DEBUG, logLevel.INFO, logLevel.WARN, logLevel.ERROR]);
  });
});
