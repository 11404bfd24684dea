/**
 * Structured JSON logs on stderr, one object a line: `logger.info({ executionId }, 'action succeeded')`.
 * The active trace id is added by the telemetry lib through {@link setLogContextProvider}.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(fields: Record<string, unknown>): Logger;
}

let contextProvider: () => Record<string, unknown> = () => ({});
export function setLogContextProvider(provider: () => Record<string, unknown>): void {
  contextProvider = provider;
}

export interface LoggerOptions {
  /** debug | info | warn | error (configuration validates it); anything else means info. */
  level?: LogLevel | (string & {});
  write?: (line: string) => void;
}

export function createLogger(base: Record<string, unknown>, options: LoggerOptions = {}): Logger {
  const min = ORDER[(options.level ?? 'info') as LogLevel] ?? ORDER.info;
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const log = (level: LogLevel, fields: Record<string, unknown>, msg: string) => {
    if (ORDER[level] < min) return;
    const record = { time: new Date().toISOString(), level, msg, ...base, ...contextProvider(), ...fields };
    write(JSON.stringify(record, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v)));
  };
  return {
    debug: (f, m) => log('debug', f, m),
    info: (f, m) => log('info', f, m),
    warn: (f, m) => log('warn', f, m),
    error: (f, m) => log('error', f, m),
    child: (fields) => createLogger({ ...base, ...fields }, options),
  };
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
