/**
 * Routes kafkajs's own log lines into codestep's structured logger. kafkajs logs a lot at INFO
 * (every join, every consumer start); the adapter keeps WARN and above by default.
 */
import type { Logger } from '@codestep/core';
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

const IDEMPOTENT_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

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
      // kafkajs warns whenever an idempotent producer has finite retries. The adapter wants
      // appends to fail eventually, and recovers from a failed send by replacing the producer
      // (see KafkaEventLog.append and KafkaGroupMember.step), so the warning is only noise.
      if (message === IDEMPOTENT_RETRIES_WARNING) logger.debug(entry, message);
      else if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}
