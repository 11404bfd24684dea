/**
 * Wiring of each service: its adapters, its gRPC server or clients, its lifecycle. Used by the
 * distributed apps (one service per process) and by embedded mode (all in one process).
 */
import { hostname } from 'node:os';
import { credentialsV1, enrollmentsV1, historyV1, workflowsV1 } from '@codestep/contracts';
import { newId, systemClock, type Logger } from '@codestep/core';
import { createEnrollmentService } from '@codestep/enrollment-service';
import type { EventLog } from '@codestep/event-log';
import type { Envelope } from '@codestep/events';
import { createExecutorService, type ExecutorPorts } from '@codestep/executor-service';
import {
  actionTestRoutes,
  createHubSpotObjectReader,
  createCrmPropertiesFetcher,
  createCrmPrefetcher,
  createHubSpotBatchReader,
  type CrmPrefetcher,
  type CrmPropertiesFetcher,
  apiKeyRoutes,
  apiRoutes,
  createTenants,
  ensureHookCollection,
  enrollmentBatches,
  followTriggerEnrollments,
  followTriggers,
  hookRoutes,
  resumeRoutes,
  hubspotActionRoutes,
  hubspotTriggerRoutes,
  hubspotWebhookRoutes,
  isoDurationMs,
  retryRoutes,
  startCallbackCompleter,
  startPortalOwners,
  startGateway,
  startPublicGrpc,
  tenantLimitsOf,
  tenantLimitsRoutes,
  clientConfigRoutes,
  workflowLifecycleRoutes,
  type HistoryChangesHub,
  type Route,
} from '@codestep/gateway-service';
import { createHistoryService } from '@codestep/history-service';
import { createClient, createLocalClient, implement, serve, type ClientOptions, type grpc, type PromiseClient, type ServiceIdentity, type TlsIdentity } from '@codestep/rpc';
import type { Sandbox, SandboxHostApi } from '@codestep/sandbox';
import type { DocumentStore } from '@codestep/store';
import { DEFAULT_RETRY_POLICY } from '@codestep/workflows';
import { openEventLog, openStore } from './adapters.ts';
import { ensureConsole } from './console.ts';
import { grantKeyOf } from './grant.key.ts';
import { hubspotAppSettingsOf, operatorLimitsOf, scheduleBoundsOf, stepPolicyOf, type PlatformConfig } from './platform.config.ts';
import { serviceTlsOf } from './service.certificates.ts';

export interface Running {
  name: string;
  /** Drains consumers, closes servers and clients; idempotent. */
  stop(): Promise<void>;
}

type Step = (() => Promise<unknown>) | { run: () => Promise<unknown>; timeoutMs: number };

/** Closes in order, each bounded (5 s unless the step says), so one stuck close never hangs shutdown. */
export function stopper(name: string, steps: Step[]): Running {
  let done: Promise<void> | undefined;
  return {
    name,
    stop: () =>
      (done ??= (async () => {
        for (const step of steps) {
          const { run, timeoutMs } = typeof step === 'function' ? { run: step, timeoutMs: 5_000 } : step;
          await Promise.race([run().catch(() => {}), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
        }
      })()),
  };
}

/**
 * How long a process may take to stop before its backstop exits it: the drains of what it runs
 * (the gateway answers its requests in flight, the executor lets running executions finish;
 * embedded mode runs both), then 15 s to close the rest.
 */
export function shutdownBackstopMs(config: PlatformConfig, runs: 'gateway' | 'executor' | 'embedded'): number {
  const drains = runs === 'gateway' ? config.httpDrainTimeoutMs : runs === 'executor' ? config.drainTimeoutMs : config.httpDrainTimeoutMs + config.drainTimeoutMs;
  return drains + 15_000;
}

export interface Shared {
  eventLog?: EventLog;
  /** Embedded mode: each service's TLS material (every identity runs in this process). */
  tls?: (identity: ServiceIdentity) => TlsIdentity;
  /**
   * Embedded mode: the history service pushes what its views applied here, and the gateway's
   * requests waiting for an outcome are told at once (distributed: they follow the log app's tail).
   */
  historyChanges?: HistoryChangesHub;
  /**
   * Embedded mode: the services started in this process (gRPC service name → the implementation
   * its server runs). A client of one of them calls it in-process (`createLocalClient`: same
   * access policy, serialisers, handlers and deadline, no loopback HTTP/2); the rest over gRPC.
   */
  local?: Map<string, grpc.UntypedServiceImplementation>;
}

type GeneratedClient<C extends grpc.Client> = Parameters<typeof createLocalClient<C>>[0];

/** A client of `Ctor`'s service for `caller`: in-process when the service runs here (embedded mode), else over gRPC. */
function clientOf<C extends grpc.Client>(Ctor: GeneratedClient<C>, address: string, options: ClientOptions, caller: ServiceIdentity, shared: Shared): PromiseClient<C> {
  const overGrpc = createClient(Ctor, address, options);
  const impl = shared.local?.get(Ctor.serviceName);
  return impl ? createLocalClient(Ctor, impl, { caller, raw: overGrpc.raw, ...(options.deadlineMs ? { deadlineMs: options.deadlineMs } : {}) }) : overGrpc;
}

/** Registers what a server of this process runs, for the in-process clients (embedded mode). */
export function registerLocal(shared: Shared, services: Array<[{ serviceName: string }, grpc.UntypedServiceImplementation]>): void {
  for (const [Ctor, impl] of services) shared.local?.set(Ctor.serviceName, impl);
}

/** The TLS material a service presents and trusts: embedded mode's, or the configuration's. */
export function tlsFor(config: PlatformConfig, identity: ServiceIdentity, shared: Shared): TlsIdentity {
  return shared.tls?.(identity) ?? serviceTlsOf(config, identity);
}

async function logFor(config: PlatformConfig, name: string, shared: Shared): Promise<{ log: EventLog; owned: boolean }> {
  if (shared.eventLog) return { log: shared.eventLog, owned: false };
  return { log: await openEventLog(config, `codestep-${name}`), owned: true };
}

export async function startEnrollmentApp(config: PlatformConfig, logger: Logger, shared: Shared = {}): Promise<Running & { port: number }> {
  const tls = tlsFor(config, 'enrollment', shared);
  const grants = { key: grantKeyOf(config), ttlMs: config.grantTtlMs };
  const store = await openStore(config, 'enrollment');
  const { log, owned } = await logFor(config, 'enrollment', shared);
  const service = createEnrollmentService({
    store,
    eventLog: log,
    clock: systemClock,
    logger: logger.child({ service: 'enrollment' }),
    retryPolicy: { ...DEFAULT_RETRY_POLICY, initialDelayMs: config.retryInitialMs, maxDelayMs: config.retryMaxMs, giveUpAfterMs: config.retryGiveUpMs },
    limits: operatorLimitsOf(config),
    steps: stepPolicyOf(config),
    schedule: scheduleBoundsOf(config),
    grants,
  });
  await service.start();
  const onError = (method: string, error: unknown) => logger.error({ service: 'enrollment', method, error }, 'rpc failed');
  const workflowsImpl = implement(workflowsV1.WorkflowsService, service.workflows, onError);
  const enrollmentsImpl = implement(enrollmentsV1.EnrollmentsService, service.enrollments, onError);
  const server = await serve(
    config.enrollmentGrpc,
    [
      [workflowsV1.WorkflowsService, workflowsImpl],
      [enrollmentsV1.EnrollmentsService, enrollmentsImpl],
    ],
    { tls },
  );
  registerLocal(shared, [
    [workflowsV1.WorkflowsClient, workflowsImpl],
    [enrollmentsV1.EnrollmentsClient, enrollmentsImpl],
  ]);
  return { ...stopper('enrollment', [() => server.stop(), () => service.stop(), () => (owned ? log.close() : Promise.resolve()), () => store.close()]), port: server.port };
}

export async function startLogApp(config: PlatformConfig, logger: Logger, shared: Shared = {}): Promise<Running & { port: number }> {
  const tls = tlsFor(config, 'log', shared);
  const store = await openStore(config, 'log');
  const { log, owned } = await logFor(config, 'log', shared);
  const hub = shared.historyChanges;
  const service = createHistoryService({
    store,
    eventLog: log,
    logger: logger.child({ service: 'log' }),
    ...(hub ? { onApplied: (events: Envelope[]) => hub.publish(events.map((e) => ({ tenantId: e.tenantId, runId: e.correlationId || e.aggregateId, type: e.type }))) } : {}),
  });
  await service.start();
  const historyImpl = implement(historyV1.HistoryService, service.history, (m, e) => logger.error({ service: 'log', method: m, error: e }, 'rpc failed'));
  const server = await serve(config.logGrpc, [[historyV1.HistoryService, historyImpl]], { tls });
  registerLocal(shared, [[historyV1.HistoryClient, historyImpl]]);
  return { ...stopper('log', [() => server.stop(), () => service.stop(), () => (owned ? log.close() : Promise.resolve()), () => store.close()]), port: server.port };
}

export interface ExecutorAppOptions {
  /** Creates the sandbox (the sandbox host process and its pool) answering the executor's host API. */
  createSandbox(hostApi: Required<SandboxHostApi>): Promise<Sandbox>;
  /** What the executor asks of the enrollment service and the broker, when not its own gRPC clients (embedded mode's executor thread). */
  ports?: ExecutorPorts;
}

/** The executor's clients of its peers (in-process when they share this process), and its ports over them. */
export function executorPeers(config: PlatformConfig, shared: Shared): { ports: ExecutorPorts; close(): void } {
  const tls = tlsFor(config, 'executor', shared);
  const workflows = clientOf(workflowsV1.WorkflowsClient, config.enrollmentGrpc, { tls, idempotent: ['getWorkflow'] }, 'executor', shared);
  // GetOAuthToken may wait for another instance's refresh (up to ~9 s): a longer deadline.
  const credentials = clientOf(credentialsV1.CredentialsClient, config.brokerGrpc, { tls, idempotent: ['resolveSecrets', 'getOAuthToken'], deadlineMs: 15_000 }, 'executor', shared);
  const ports: ExecutorPorts = {
    getWorkflow: (tenantId, workflowId, version) => workflows.getWorkflow({ tenantId, workflowId, version }),
    getOAuthToken: async (r) => {
      const out = await credentials.getOAuthToken({
        tenantId: r.tenantId,
        workflowId: r.workflowId,
        handle: r.handle,
        declaredHandles: r.declaredHandles,
        executionId: r.executionId,
        grant: r.grant,
      });
      return out.error ? { error: out.error } : { token: out.token };
    },
    resolveSecrets: async (request) => {
      const out = await credentials.resolveSecrets(request);
      return { values: out.values, missing: out.missing };
    },
  };
  return { ports, close: () => [workflows, credentials].forEach((c) => c.close()) };
}

export async function startExecutorApp(config: PlatformConfig, logger: Logger, options: ExecutorAppOptions, shared: Shared = {}): Promise<Running> {
  const store = await openStore(config, 'executor');
  const { log, owned } = await logFor(config, 'executor', shared);
  const peers = options.ports ? { ports: options.ports, close: () => {} } : executorPeers(config, shared);
  const service = createExecutorService({
    eventLog: log,
    store,
    sandbox: (hostApi) => options.createSandbox(hostApi),
    clock: systemClock,
    logger: logger.child({ service: 'executor' }),
    executorId: config.executorId ?? `${hostname()}-${process.pid}-${newId('x').slice(2, 8)}`,
    concurrency: config.executorConcurrency,
    detachAfterMs: config.executorDetachAfterMs,
    claimLeaseMs: config.claimLeaseMs,
    leaseReaperIntervalMs: config.leaseReaperIntervalMs,
    drainTimeoutMs: config.drainTimeoutMs,
    steps: stepPolicyOf(config),
    runState: { maxChars: config.runStoreMaxChars, dedupeWindowMs: config.dedupeWindowMs },
    limits: { defaultTimeoutMs: config.defaultTimeoutMs, defaultMemoryMb: config.defaultMemoryMb, maxTimeoutMs: config.maxTimeoutMs, maxMemoryMb: config.maxMemoryMb },
    ports: peers.ports,
  });
  await service.start();
  // The drain is bounded by the service itself (drainTimeoutMs, then the hand-back); this bound is a backstop.
  return stopper('executor', [
    { run: () => service.stop(), timeoutMs: config.drainTimeoutMs + 10_000 },
    async () => peers.close(),
    () => (owned ? log.close() : Promise.resolve()),
    () => store.close(),
  ]);
}

export interface GatewayAppOptions {
  /** Extra routes (connections and secrets, from the OAuth broker's module). */
  extraRoutes?(clients: { credentials: PromiseClient<credentialsV1.CredentialsClient> }): Route[];
  onBootstrap?(tenant: { tenantId: string; apiKey: string }): void;
}

/** The gateway's clients of the other services (in-process when they share this process). */
function gatewayClients(config: PlatformConfig, tls: ReturnType<typeof tlsFor>, shared: Shared) {
  const workflows: PromiseClient<workflowsV1.WorkflowsClient> = clientOf(
    workflowsV1.WorkflowsClient,
    config.enrollmentGrpc,
    { tls, idempotent: ['getWorkflow', 'listWorkflows', 'getWorkflowState', 'listWorkflowVersions', 'getWorkflowSchedule'] },
    'gateway',
    shared,
  );
  const enrollments = clientOf(enrollmentsV1.EnrollmentsClient, config.enrollmentGrpc, { tls }, 'gateway', shared);
  const history = clientOf(historyV1.HistoryClient, config.logGrpc, { tls, idempotent: ['getEnrollment', 'listEnrollments', 'getExecution'] }, 'gateway', shared);
  const credentials = clientOf(credentialsV1.CredentialsClient, config.brokerGrpc, { tls }, 'gateway', shared);
  const clients = { workflows, enrollments, history, historyRaw: history.raw, credentials, ...(shared.historyChanges ? { changes: shared.historyChanges } : {}) };
  return { workflows, enrollments, history, credentials, clients };
}

export async function startGatewayApp(config: PlatformConfig, logger: Logger, options: GatewayAppOptions = {}, shared: Shared = {}): Promise<Running & { url: string; grpcAddress?: string }> {
  const tls = tlsFor(config, 'gateway', shared);
  const store = await openStore(config, 'gateway');
  const { log, owned } = await logFor(config, 'gateway', shared);
  const tenants = createTenants({ store, eventLog: log, clock: systemClock });
  await tenants.ensureCollections();
  // Caught up with the tenants topic before deciding whether this is a first start.
  await tenants.catchUp();
  if (config.bootstrapTenant && (await tenants.count()) === 0) {
    const created = await tenants.create('default');
    options.onBootstrap?.(created);
  }
  const tenantEvents = await tenants.follow((error) => logger.error({ service: 'gateway', error }, 'tenants projection batch failed; will retry'));
  const { workflows, enrollments, history, credentials, clients } = gatewayClients(config, tls, shared);
  await ensureHookCollection(store);
  const operator = operatorLimitsOf(config);
  const limitsOf = tenantLimitsOf(tenants, operator);
  const readObject = createHubSpotObjectReader({ credentials, apiBaseUrl: config.hubspotApiBaseUrl });
  const fetchCrmProperties = createCrmPropertiesFetcher({ clients, readObject, clock: systemClock });
  const prefetchCrmProperties = createCrmPrefetcher({ clients, readBatch: createHubSpotBatchReader({ credentials, apiBaseUrl: config.hubspotApiBaseUrl }) });
  const hubspot = await startHubSpotApp(config, logger, { clients, store, eventLog: log, limitsOf, fetchCrmProperties, prefetchCrmProperties });
  const batches = enrollmentBatches(clients, {
    store,
    clock: systemClock,
    logger: logger.child({ service: 'gateway' }),
    limitsOf,
    crm: { fetch: fetchCrmProperties, prefetch: prefetchCrmProperties },
  });
  await batches.start();
  const routes = [
    ...apiRoutes(clients, limitsOf, fetchCrmProperties),
    ...workflowLifecycleRoutes(clients, limitsOf),
    ...actionTestRoutes(clients, { limitsOf, readObject }),
    ...retryRoutes(clients),
    ...batches.routes,
    ...tenantLimitsRoutes(tenants, operator),
    ...clientConfigRoutes({ traceUrlTemplate: config.traceUrlTemplate }),
    ...apiKeyRoutes(tenants),
    ...hookRoutes(clients, { store, clock: systemClock, limitsOf }),
    ...resumeRoutes(clients),
    ...hubspot.routes,
    ...(options.extraRoutes?.({ credentials }) ?? []),
  ];
  const consoleDir = ensureConsole(config, logger);
  const gateway = await startGateway({
    host: config.httpHost,
    port: config.httpPort,
    routes,
    tenants,
    logger: logger.child({ service: 'gateway' }),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(consoleDir ? { consoleDir } : {}),
    drainTimeoutMs: config.httpDrainTimeoutMs,
  });
  // The public gRPC API (docs/grpc.md): the same routes' handlers, over mutual TLS with the gateway's certificate.
  const grpcApi =
    config.grpcPort === undefined
      ? undefined
      : await startPublicGrpc({
          address: `${config.grpcHost}:${config.grpcPort}`,
          tls,
          routes,
          tenants,
          clients,
          logger: logger.child({ service: 'gateway' }),
          drainMs: config.httpDrainTimeoutMs,
        });
  return {
    ...stopper('gateway', [
      // Both APIs drain at once: requests and unary calls in flight are answered within the drain.
      { run: async () => void (await Promise.all([grpcApi?.stop(), gateway.close()])), timeoutMs: config.httpDrainTimeoutMs + 5_000 },
      () => batches.stop(),
      async () => [workflows, enrollments, history, credentials].forEach((c) => c.close()),
      () => tenantEvents.stop(),
      () => hubspot.stop(),
      () => (owned ? log.close() : Promise.resolve()),
      () => store.close(),
    ]),
    url: gateway.url,
    ...(grpcApi ? { grpcAddress: `${config.grpcHost}:${grpcApi.port}` } : {}),
  };
}

/**
 * The HubSpot app in the gateway: the workflow action and webhook receivers, the workflows'
 * HubSpot triggers (and their projection following the log), and the callback completer (any
 * replica may run it: the callback records decide who calls HubSpot).
 */
export async function startHubSpotApp(
  config: PlatformConfig,
  logger: Logger,
  deps: {
    clients: Parameters<typeof apiRoutes>[0] & { credentials: PromiseClient<credentialsV1.CredentialsClient> };
    store: DocumentStore;
    eventLog: EventLog;
    limitsOf: Parameters<typeof hookRoutes>[1]['limitsOf'];
    fetchCrmProperties: CrmPropertiesFetcher;
    prefetchCrmProperties: CrmPrefetcher;
  },
): Promise<{ routes: Route[]; stop(): Promise<void> }> {
  const settings = hubspotAppSettingsOf(config);
  const log = logger.child({ service: 'gateway', component: 'hubspot' });
  // Portal → tenant kept between connection changes (this replica follows them with a consumer group of its own).
  const portalOwners =
    settings &&
    (await startPortalOwners({
      findAccountConnection: (req) => deps.clients.credentials.findAccountConnection(req),
      eventLog: deps.eventLog,
      clock: systemClock,
      // The host and port this gateway listens on name it among the replicas, across its restarts.
      ...(config.httpPort ? { replicaId: `${hostname()}-${config.httpPort}` } : {}),
      onError: (error) => log.warn({ error }, 'HubSpot portal owners: connection changes batch failed; will retry'),
    }));
  const routeDeps = { ...deps, clock: systemClock, settings, ...(portalOwners ? { portalOwners } : {}) };
  // Started in order; if one fails, those already started are stopped (last first) before rethrowing.
  const started: Array<{ stop(): Promise<void> }> = portalOwners ? [portalOwners] : [];
  const stopStarted = async () => {
    for (const s of started.reverse()) await s.stop();
  };
  try {
    const routes = [...(await hubspotActionRoutes(routeDeps)), ...hubspotWebhookRoutes(routeDeps), ...hubspotTriggerRoutes(deps.clients, { ...deps, clock: systemClock })];
    started.push(await followTriggers({ ...deps, onError: (error) => log.error({ error }, 'HubSpot triggers projection batch failed; will retry') }));
    started.push(await followTriggerEnrollments({ ...deps, onError: (error) => log.error({ error }, 'HubSpot trigger enrollments projection batch failed; will retry') }));
    if (settings) {
      started.push(
        await startCallbackCompleter({
          store: deps.store,
          eventLog: deps.eventLog,
          apiBaseUrl: settings.apiBaseUrl,
          blockExpirationMs: isoDurationMs(settings.blockExpiration),
          answerWithinMs: settings.answerWithinMs,
          clock: systemClock,
          logger: log,
          tokenOf: async (tenantId, handle, callbackId) => {
            const out = await deps.clients.credentials.getConnectionToken({ tenantId, handle, purpose: `hubspot callback ${callbackId}` });
            return out.error ? { error: out.error, errorCode: out.errorCode } : { token: out.token };
          },
        }),
      );
    }
    return { routes, stop: stopStarted };
  } catch (error) {
    await stopStarted().catch(() => {});
    throw error;
  }
}

export type { DocumentStore };
