/**
 * Embedded mode: every service in this one process (the sandbox host is its own child
 * process), talking gRPC on loopback, one SQLite event log shared in-process, one SQLite store
 * per service under the data directory. Nothing to install; data survives a restart.
 */
import type { Logger } from '@codestep/core';
import type { Sandbox, SandboxHostApi } from '@codestep/sandbox';
import { openEventLog } from './adapters.ts';
import { startBrokerApp, brokerRoutes } from './broker.ts';
import type { PlatformConfig } from './platform.config.ts';
import { startEnrollmentApp, startExecutorApp, startGatewayApp, startLogApp, type Running } from './services.ts';

export interface EmbeddedOptions {
  createSandbox(hostApi: Required<SandboxHostApi>): Promise<Sandbox>;
  onBootstrap?(tenant: { tenantId: string; apiKey: string }): void;
}

export interface Embedded {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbedded(base: PlatformConfig, logger: Logger, options: EmbeddedOptions): Promise<Embedded> {
  // Loopback on ports the OS picks: two embedded platforms never collide.
  const config: PlatformConfig = { ...base, enrollmentGrpc: '127.0.0.1:0', logGrpc: '127.0.0.1:0', brokerGrpc: '127.0.0.1:0' };
  const eventLog = await openEventLog(config, 'codestep-embedded');
  const shared = { eventLog };
  const running: Running[] = [];
  try {
    const broker = await startBrokerApp(config, logger, shared);
    running.push(broker);
    config.brokerGrpc = `127.0.0.1:${broker.port}`;
    const enrollment = await startEnrollmentApp(config, logger, shared);
    running.push(enrollment);
    config.enrollmentGrpc = `127.0.0.1:${enrollment.port}`;
    const log = await startLogApp(config, logger, shared);
    running.push(log);
    config.logGrpc = `127.0.0.1:${log.port}`;
    running.push(await startExecutorApp(config, logger, { createSandbox: options.createSandbox }, shared));
    const gateway = await startGatewayApp(config, logger, { extraRoutes: brokerRoutes, ...(options.onBootstrap ? { onBootstrap: options.onBootstrap } : {}) }, shared);
    running.push(gateway);
    return {
      url: gateway.url,
      stop: async () => {
        for (const r of running.reverse()) await r.stop();
        await eventLog.close();
      },
    };
  } catch (error) {
    for (const r of running.reverse()) await r.stop();
    await eventLog.close();
    throw error;
  }
}
