export { ConfigError, describeConfig, parseConfig, type Config, type Field, type Schema } from './config.ts';
