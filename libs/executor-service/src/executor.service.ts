/**
 * The executor: consumes action requests, runs each in the sandbox, and produces the action's
 * started / logged / succeeded / failed events. A request is claimed in the store before it
 * runs, so a redelivered request never runs an action twice. A claim is a short lease renewed
 * while its action runs; one left by an executor that died mid-run lapses within `claimLeaseMs`
 * and turns into a retryable `EXECUTOR_LOST` failure, and the enrollment service decides whether
 * to retry (see `claim.store.ts`): every executor's lease reaper reports it within about a second
 * of the lapse, naming a partition of the retry lane it consumes for the retry's request, so the
 * retry need not wait for the dead executor's partitions to be handed over (see `lease.reaper.ts`);
 * a redelivery of its request reports it too. Retries' requests come from the retry lane
 * (`Topics.actionRetries`), consumed with a group of its own beside the actions topic: a retry
 * never waits behind the backlog of first attempts, takes the next free slot before them, and
 * when every slot is busy one of `retrySlots` kept for retries (the actions topic's copy of a
 * retry is skipped). A request found under a lease still running is appended again
 * for later rather than holding up its batch (see `action-request.runner.ts`). Partitions are
 * consumed side by side, and a batch waits for a run only up to `detachAfterMs`: a run that
 * outlasts it finishes on its own and appends its outcome itself (see `drain.controller.ts`), so
 * a long action holds up neither its partition nor a retry appended behind it.
 *
 * `stop()` drains: no new request is started, running ones finish (up to `drainTimeoutMs`) and
 * their results are committed with the batch; requests of the batch that were not started, and
 * executions still running at the timeout (their claims released), are appended to the topic
 * again in the same commit, so another executor, or this one after a restart, runs them as the
 * same attempt: nothing is lost, nothing is reported as the action's failure (see
 * `drain.controller.ts`).
 */
import type { Clock, Logger, StepSchedulingBounds } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';
import { Topics, fromRecord } from '@codestep/events';
import type { Sandbox, SandboxHandle, SandboxHostApi } from '@codestep/sandbox';
import { MetricAttributes, observeSandboxPool } from '@codestep/telemetry';
import type { DocumentStore } from '@codestep/store';
import type { OperatorLimits } from '@codestep/workflows';
import { createActionRequestRunner, isLanedCopy } from './action-request.runner.ts';
import { createClaimStore } from './claim.store.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS, DrainController, Draining } from './drain.controller.ts';
import { createExecutionPreparer } from './execution.preparer.ts';
import { createRunStateStore, removeEndedRunStores, type RunStateSettings } from './run-state.store.ts';
import type { ExecutorPorts } from './executor.ports.ts';
import { startLivenessHeartbeat, type LeaseHeartbeat } from './lease.heartbeat.ts';
import { DEFAULT_LEASE_REAPER_INTERVAL_MS, partitionFor, startLeaseReaper, type LeaseReaper } from './lease.reaper.ts';
import { createSandboxRunner } from './sandbox.runner.ts';
import { createWorkflowVersionCache } from './workflow-version.cache.ts';

export type { ExecutorPorts } from './executor.ports.ts';
export { DEFAULT_DRAIN_TIMEOUT_MS } from './drain.controller.ts';
export { DEFAULT_LEASE_REAPER_INTERVAL_MS } from './lease.reaper.ts';

/** How long a claim lasts unless its running executor renews it, ms (renewed three times per lease). */
export const DEFAULT_CLAIM_LEASE_MS = 5_000;

/** How long a batch waits for a run before leaving it to finish on its own, ms. */
export const DEFAULT_DETACH_AFTER_MS = 1_000;

/** Slots beyond the concurrency that only retries take. */
export const DEFAULT_RETRY_SLOTS = 1;

/** How long past the operator's longest wall time a run may keep renewing its claim, ms. */
const HOLD_MARGIN_MS = 60_000;

/** The operator's limits as this executor applies them (requests normally state their own, resolved per tenant). */
export type ExecutorLimits = OperatorLimits;

/** What {@link createExecutorService} works with. */
export interface ExecutorServiceDeps {
  eventLog: EventLog;
  store: DocumentStore;
  /** The sandbox, created with this service's `hostApi` (see {@link createExecutorService}). */
  sandbox: Sandbox | ((hostApi: Required<SandboxHostApi>) => Promise<Sandbox>);
  ports: ExecutorPorts;
  clock: Clock;
  logger: Logger;
  executorId: string;
  limits: ExecutorLimits;
  /** Executions in flight at once (over every partition consumed at once, and runs their batch left). @default 4 */
  concurrency?: number;
  /**
   * Slots beyond `concurrency` that only retries take, when every other slot is busy: a lost
   * execution's retry never waits for the survivor's long actions to end. @default 1
   */
  retrySlots?: number;
  /**
   * How long a batch of requests waits for one run before committing without it and leaving it to
   * finish on its own, ms: a long action never holds up what was appended behind it in its
   * partition (see `drain.controller.ts`). @default 1000
   */
  detachAfterMs?: number;
  /**
   * The lease of a claim, renewed while its action runs: an execution in flight on an executor
   * that died is reported lost this long after its last renewal, ms. @default 5000
   */
  claimLeaseMs?: number;
  /**
   * How often this executor looks for claims whose lease ran out (any executor's) and reports
   * them lost, ms (see `lease.reaper.ts`). @default 500
   */
  leaseReaperIntervalMs?: number;
  /**
   * How long `stop()` lets running executions finish before handing them back for redelivery, ms.
   * @default 25000 (a little above HubSpot's 20 s default limit)
   */
  drainTimeoutMs?: number;
  /** The bounds JsWorkflows' `api.scheduleNextStep` is held to. @default `DEFAULT_STEP_POLICY` of `@codestep/core` */
  steps?: StepSchedulingBounds;
  /** JsWorkflows' run store cap and dedupe window. @default `DEFAULT_RUN_STATE_SETTINGS` */
  runState?: RunStateSettings;
}

/** A running executor (see the module comment). */
export interface ExecutorService {
  /**
   * What the sandbox asks of its host (JsWorkflows' `api.getOAuthToken`): answered for running
   * executions only, with the tenant, workflow and connection handles of their action.
   */
  hostApi: Required<SandboxHostApi>;
  start(): Promise<void>;
  /**
   * Drains (see the module comment), then closes the sandbox if this service created it.
   * Resolves once running executions finished or were handed back; idempotent.
   */
  stop(): Promise<void>;
}

/** How much of a partition the executor fetches at once, bytes (a request is a few hundred bytes to a few KB: about a batch). */
const FETCH_BYTES_PER_PARTITION = 8 * 1024;

/** A retry's request (a later attempt): it runs before the backlog of first attempts. */
function isRetry(record: ConsumedRecord): boolean {
  const env = fromRecord(record.value);
  return env?.event.$case === 'actionRequested' && (env.event.value.context?.attempt ?? 1) > 1;
}

/**
 * Requests are woken before any other consumer of the process (embedded mode): the sandbox process
 * starts on them while this thread does the rest.
 */
const REQUESTS_PRIORITY = 2;

/** How the executors' group consumes the retry lane (see the module comment). */
const RETRY_LANE_GROUP = 'codestep-executor-retries';

/**
 * The two consumers of action requests, both running their batches with `run`: the retry lane's
 * (few records, so a retry is fetched as soon as it is appended, whatever the backlog) and the
 * actions topic's (its copies of retries left to the lane).
 */
async function consumeRequests(
  eventLog: EventLog,
  logger: Logger,
  concurrency: number,
  run: (batch: ConsumedRecord[]) => Promise<LogRecord[]>,
): Promise<{ lane: Subscription; subscription: Subscription }> {
  const onError = (error: unknown) => (error instanceof Draining ? logger.info({}, error.message) : logger.warn({ error }, 'executor batch will be retried'));
  const lane = await eventLog.consume({
    group: RETRY_LANE_GROUP,
    topics: [Topics.actionRetries],
    batchSize: concurrency,
    partitionsConcurrently: concurrency,
    fetchBytesPerPartition: FETCH_BYTES_PER_PARTITION,
    handle: run,
    onError,
    priority: REQUESTS_PRIORITY,
  });
  const subscription = await eventLog.consume({
    group: 'codestep-executor',
    topics: [Topics.actions],
    batchSize: concurrency * 4,
    // Partitions side by side: one partition's backlog never holds up another's.
    partitionsConcurrently: concurrency,
    // Small fetches: a batch's size in bytes, not a whole backlog fetched at once.
    fetchBytesPerPartition: FETCH_BYTES_PER_PARTITION,
    // A retry's copy here is for other consumers: the lane's runs it.
    handle: (batch) => run(batch.filter((r) => !isLanedCopy(r))),
    onError,
    priority: REQUESTS_PRIORITY,
  });
  return { lane, subscription };
}

/** A run's store goes when its enrollment ends (any executor of the group removes it). */
function consumeEndedRuns(eventLog: EventLog, store: DocumentStore, logger: Logger): Promise<Subscription> {
  return eventLog.consume({
    group: 'codestep-executor-run-stores',
    topics: [Topics.enrollments],
    batchSize: 500,
    handle: async (batch) => {
      await removeEndedRunStores(store, batch);
      return [];
    },
    onError: (error) => logger.warn({ error }, 'removing ended run stores failed; will retry the batch'),
  });
}

/** How the executor prepares a request: its workflow version (cached), secrets and tokens from its peers. */
function preparerOf({ ports, limits, steps }: ExecutorServiceDeps) {
  return createExecutionPreparer({
    getWorkflow: createWorkflowVersionCache((...a) => ports.getWorkflow(...a)),
    resolveSecrets: (r) => ports.resolveSecrets(r),
    getOAuthToken: (r) => ports.getOAuthToken(r),
    limits,
    steps,
  });
}

/** Creates an executor; it consumes nothing until `start()`. */
export function createExecutorService(deps: ExecutorServiceDeps): ExecutorService {
  const { eventLog, store, ports, clock, logger } = deps;
  const concurrency = deps.concurrency ?? 4;
  const ownsSandbox = typeof deps.sandbox === 'function';
  let sandbox: Sandbox | undefined = typeof deps.sandbox === 'function' ? undefined : deps.sandbox;
  const leaseMs = deps.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
  const claims = createClaimStore({ store, clock, logger, executorId: deps.executorId, leaseMs });
  const drain = new DrainController({
    logger,
    concurrency,
    drainTimeoutMs: deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    releaseClaim: claims.release,
    detachAfterMs: deps.detachAfterMs ?? DEFAULT_DETACH_AFTER_MS,
    appendAgain: (records) => eventLog.append(records),
    urgent: isRetry,
    urgentSlots: deps.retrySlots ?? DEFAULT_RETRY_SLOTS,
  });
  const prepare = preparerOf(deps);
  const runState = createRunStateStore(store, clock, deps.runState);
  const runner = createSandboxRunner(ports, runState);
  const holdMs = deps.limits.maxTimeoutMs + HOLD_MARGIN_MS;
  let lane: Subscription | undefined;
  const lanePartitions = () => lane?.partitionsOf?.(Topics.actionRetries) ?? [];
  const runOne = createActionRequestRunner({
    eventLog,
    claims,
    drain,
    prepare,
    runner,
    sandbox: () => sandbox!,
    clock,
    logger,
    executorId: deps.executorId,
    leaseMs,
    holdMs,
    lanePartitionFor: (executionId) => partitionFor(executionId, lanePartitions()),
  });
  let subscription: Subscription | undefined;
  let runStoreCleanup: Subscription | undefined;
  let reaper: LeaseReaper | undefined;
  let liveness: LeaseHeartbeat | undefined;
  let stopped: Promise<void> | undefined;
  let stopObservingPool: (() => void) | undefined;
  return {
    hostApi: runner.hostApi,
    async start() {
      if (typeof deps.sandbox === 'function') sandbox = await deps.sandbox(runner.hostApi);
      stopObservingPool = observeSandboxPool(
        async () => (sandbox && 'stats' in sandbox ? (sandbox as SandboxHandle).stats() : undefined),
        deps.executorId ? { [MetricAttributes.executor]: deps.executorId } : {},
      );
      await claims.ensureCollection();
      liveness = startLivenessHeartbeat({ claims, logger, leaseMs });
      await runState.ensureCollections();
      await eventLog.ensureTopics([Topics.actions, Topics.actionRetries, Topics.consoleLines, Topics.enrollments]);
      runStoreCleanup = await consumeEndedRuns(eventLog, store, logger);
      ({ lane, subscription } = await consumeRequests(eventLog, logger, concurrency, (batch) => drain.runBatch(batch, runOne)));
      reaper = startLeaseReaper({
        claims,
        eventLog,
        logger,
        clock,
        leaseMs,
        intervalMs: deps.leaseReaperIntervalMs ?? DEFAULT_LEASE_REAPER_INTERVAL_MS,
        partitions: lanePartitions,
      });
    },
    stop() {
      return (stopped ??= (async () => {
        stopObservingPool?.();
        await reaper?.stop();
        await runStoreCleanup?.stop();
        await drain.drain(async () => void (await Promise.all([subscription?.stop(), lane?.stop()])));
        if (ownsSandbox) await sandbox?.close();
        // Runs handed back settle once the sandbox is closed under them; bounded all the same.
        await drain.settle();
        await liveness?.stop();
      })());
    },
  };
}
