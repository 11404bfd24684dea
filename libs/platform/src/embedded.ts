/**
 * Embedded mode: every service in this one process (the sandbox host is its own child
 * process), talking gRPC over mutual TLS on loopback, each with its own certificate from the
 * data directory (as in distributed mode, so the access policy holds here too), one SQLite event log shared in-process, one SQLite store
 * per service under the data directory. Nothing to install; data survives a restart.
 */
import { join } from 'node:path';
import type { Logger } from '@codestep/core';
import { createHistoryChangesHub } from '@codestep/gateway-service';
import { SERVICE_IDENTITIES, type ServiceIdentity } from '@codestep/rpc';
import type { Sandbox, SandboxHostApi } from '@codestep/sandbox';
import { openEventLog } from './adapters.ts';
import { startBrokerApp, brokerRoutes } from './broker.ts';
import type { PlatformConfig } from './platform.config.ts';
import { startExecutorThread } from './executor.thread.ts';
import { ensureClientCertificate, ensureServiceCertificates, readServiceTls } from './service.certificates.ts';
import { startEnrollmentApp, startExecutorApp, startGatewayApp, startLogApp, type Running } from './services.ts';

export interface EmbeddedOptions {
  createSandbox(hostApi: Required<SandboxHostApi>): Promise<Sandbox>;
  onBootstrap?(tenant: { tenantId: string; apiKey: string }): void;
}

export interface Embedded {
  url: string;
  /**
   * The public gRPC API (CODESTEP_GRPC_PORT set): its address, and the files of a client certificate
   * made for this machine's callers (none when the certificates directory has no CA key to sign it).
   */
  grpc?: { address: string; client?: { ca: string; cert: string; key: string } };
  stop(): Promise<void>;
}

export async function startEmbedded(base: PlatformConfig, logger: Logger, options: EmbeddedOptions): Promise<Embedded> {
  // Loopback on ports the OS picks: two embedded platforms never collide.
  const config: PlatformConfig = { ...base, enrollmentGrpc: '127.0.0.1:0', logGrpc: '127.0.0.1:0', brokerGrpc: '127.0.0.1:0' };
  // Every service identity runs here: their certificates live in the data directory (made on first start).
  const tlsDir = config.tlsDir ?? join(config.dataDir, 'tls');
  await ensureServiceCertificates(tlsDir);
  const tls = new Map(SERVICE_IDENTITIES.map((id) => [id, readServiceTls(tlsDir, id)]));
  const eventLog = await openEventLog(config, 'codestep-embedded');
  const shared = { eventLog, tls: (id: ServiceIdentity) => tls.get(id)!, historyChanges: createHistoryChangesHub(), local: new Map() };
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
    // CODESTEP_EMBEDDED_WORKERS=1: the executor and its sandbox host on a thread of their own (executor.thread.ts).
    running.push(config.embeddedWorkers > 0 ? await startExecutorThread(config, logger, shared) : await startExecutorApp(config, logger, { createSandbox: options.createSandbox }, shared));
    const gateway = await startGatewayApp(config, logger, { extraRoutes: brokerRoutes, ...(options.onBootstrap ? { onBootstrap: options.onBootstrap } : {}) }, shared);
    running.push(gateway);
    // A client certificate for callers of the public gRPC API on this machine (docs/grpc.md).
    const client = gateway.grpcAddress ? await ensureClientCertificate(tlsDir, 'local').catch(() => undefined) : undefined;
    return {
      url: gateway.url,
      ...(gateway.grpcAddress ? { grpc: { address: gateway.grpcAddress, ...(client ? { client: { ca: client.ca, cert: client.cert, key: client.key } } : {}) } } : {}),
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
