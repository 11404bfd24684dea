/** The OAuth broker as its own process (distributed mode). Configuration: see the README. */
import { createLogger } from '@codestep/core';
import { loadPlatformConfig, startBrokerApp, stopOnSignal, telemetryOptionsOf } from '@codestep/platform';
import { startTelemetry } from '@codestep/telemetry';

const config = loadPlatformConfig(process.env);
const logger = createLogger({ app: 'oauth-broker' }, { level: config.logLevel });
const telemetry = startTelemetry(telemetryOptionsOf(config, 'codestep-oauth-broker'));
const metrics = await telemetry.metricsUrl(); // fails the start when the port is taken
const running = await startBrokerApp(config, logger);
logger.info({ port: running.port, metrics }, 'oauth broker started');
stopOnSignal(async () => {
  await running.stop();
  await telemetry.shutdown();
}, logger);
