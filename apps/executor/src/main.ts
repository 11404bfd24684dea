/** An executor as its own process (distributed mode); run several to share the work. */
import { createLogger } from '@codestep/core';
import { loadPlatformConfig, sandboxOptionsOf, shutdownBackstopMs, startExecutorApp, stopOnSignal, telemetryOptionsOf } from '@codestep/platform';
import { createSandbox } from '@codestep/sandbox';
import { startTelemetry } from '@codestep/telemetry';

const config = loadPlatformConfig(process.env);
const logger = createLogger({ app: 'executor' }, { level: config.logLevel });
const telemetry = startTelemetry(telemetryOptionsOf(config, 'codestep-executor'));
const metrics = await telemetry.metricsUrl(); // fails the start when the port is taken
const running = await startExecutorApp(config, logger, {
  createSandbox: (hostApi) => createSandbox({ ...sandboxOptionsOf(config), hostApi }),
});
logger.info({ metrics }, 'executor started');
// SIGTERM drains: running executions finish (CODESTEP_DRAIN_TIMEOUT_MS) before the process exits.
stopOnSignal(
  async () => {
    await running.stop();
    await telemetry.shutdown();
  },
  logger,
  shutdownBackstopMs(config, 'executor'),
);
