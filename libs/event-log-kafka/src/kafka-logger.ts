/**
 * Routes kafkajs's own log lines into codestep's structured logger. kafkajs logs a lot at INFO
 * (every join, every consumer start); the adapter keeps WARN and above by default.
 */
import type { Logger } from '@codestep/core';
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

const IDEMPOTENT_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/**
 * kafkajs lines that say nothing an operator should act on, kept at debug:
 * - every error response of the protocol (`Connection` "Response …"), retriable ones included —
 *   a rebalance, a coordinator loading, the broker still finishing the previous transaction of
 *   a transactional id. What retries could not fix reaches the adapter, which reports it;
 * - each failed attempt of a send that kafkajs retries (`Producer` "Failed to send messages");
 * - the warning that an idempotent producer has finite retries: the adapter wants appends to
 *   fail eventually and replaces a producer after a failed send (KafkaEventLog.append,
 *   KafkaGroupMember.step).
 */
function isNoise(namespace: string, message: string): boolean {
  return (namespace === 'Connection' && message.startsWith('Response ')) || (namespace === 'Producer' && message.startsWith('Failed to send messages')) || message === IDEMPOTENT_RETRIES_WARNING;
}

/** The kafkajs level that matches a codestep minimum level. */
export function kafkaLogLevel(level: 'debug' | 'info' | 'warn' | 'error'): logLevel {
  switch (level) {
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'error':
      return logLevel.ERROR;
  }
}

/** A kafkajs `logCreator` writing through `logger`, one structured line per kafkajs entry. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const entry = { kafkajs: namespace, ...fields };
      if (isNoise(namespace, message)) logger.debug(entry, message);
      else if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}
