/** The enrollment service as its own process (distributed mode). Configuration: see the README. */
import { createLogger } from '@codestep/core';
import { loadPlatformConfig, startEnrollmentApp, stopOnSignal, telemetryOptionsOf } from '@codestep/platform';
import { startTelemetry } from '@codestep/telemetry';

const config = loadPlatformConfig(process.env);
const logger = createLogger({ app: 'enrollment' }, { level: config.logLevel });
const telemetry = startTelemetry(telemetryOptionsOf(config, 'codestep-enrollment'));
const metrics = await telemetry.metricsUrl(); // fails the start when the port is taken
const running = await startEnrollmentApp(config, logger);
logger.info({ port: running.port, metrics }, 'enrollment service started');
stopOnSignal(async () => {
  await running.stop();
  await telemetry.shutdown();
}, logger);
