export { openEventLog, openStore } from './adapters.ts';
export { startBrokerApp, brokerRoutes } from './broker.ts';
export { startEmbedded, type Embedded, type EmbeddedOptions } from './embedded.ts';
export { loadPlatformConfig, operatorLimitsOf, platformSchema, sandboxOptionsOf, type PlatformConfig } from './platform.config.ts';
export { createTenant, type CreatedTenant } from './tenants.ts';
export { shutdownBackstopMs, startEnrollmentApp, startExecutorApp, startGatewayApp, startLogApp, type Running } from './services.ts';
export { stopOnSignal } from './lifecycle.ts';
export { providersFrom, publicUrlOf } from './broker.ts';
export { replayProjections, type ReplayReport } from './replay.ts';
