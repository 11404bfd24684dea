/** The log service as its own process (distributed mode). Configuration: see the README. */
import { createLogger } from '@codestep/core';
import { loadPlatformConfig, startLogApp, stopOnSignal, telemetryOptionsOf } from '@codestep/platform';
import { startTelemetry } from '@codestep/telemetry';

const config = loadPlatformConfig(process.env);
const logger = createLogger({ app: 'log' }, { level: config.logLevel });
const telemetry = startTelemetry(telemetryOptionsOf(config, 'codestep-log'));
const metrics = await telemetry.metricsUrl(); // fails the start when the port is taken
const running = await startLogApp(config, logger);
logger.info({ port: running.port, metrics }, 'log service started');
stopOnSignal(async () => {
  await running.stop();
  await telemetry.shutdown();
}, logger);
