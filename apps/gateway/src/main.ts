/** The gateway (public HTTP API) as its own process (distributed mode). */
import { createLogger } from '@codestep/core';
import { brokerRoutes, loadPlatformConfig, shutdownBackstopMs, startGatewayApp, stopOnSignal, telemetryOptionsOf } from '@codestep/platform';
import { startTelemetry } from '@codestep/telemetry';

const config = loadPlatformConfig(process.env);
const logger = createLogger({ app: 'gateway' }, { level: config.logLevel });
const telemetry = startTelemetry(telemetryOptionsOf(config, 'codestep-gateway'));
const metrics = await telemetry.metricsUrl(); // fails the start when the port is taken
const running = await startGatewayApp(config, logger, {
  extraRoutes: brokerRoutes,
  onBootstrap: (t) => process.stdout.write(`created tenant ${t.tenantId}\nAPI key (shown once): ${t.apiKey}\n`),
});
logger.info({ url: running.url, console: `${running.url}/`, metrics, ...(running.grpcAddress ? { grpc: running.grpcAddress } : {}) }, 'gateway started');
stopOnSignal(
  async () => {
    await running.stop();
    await telemetry.shutdown();
  },
  logger,
  shutdownBackstopMs(config, 'gateway'),
);
