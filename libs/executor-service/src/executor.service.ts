/**
 * The executor: consumes action requests, runs each in the sandbox, and produces the action's
 * started / logged / succeeded / failed events. A request is claimed in the store before it
 * runs, so a redelivered request never runs an action twice; a claim left by an executor that
 * died mid-run turns into a retryable `EXECUTOR_LOST` failure, and the enrollment service
 * decides whether to retry.
 *
 * `stop()` drains: no new request is started, running ones finish (up to `drainTimeoutMs`) and
 * their results are committed with the batch; requests of the batch that were not started, and
 * executions still running at the timeout (their claims released), are appended to the topic
 * again in the same commit, so another executor, or this one after a restart, runs them as the
 * same attempt: nothing is lost, nothing is reported as the action's failure.
 */
import { randomUUID } from 'node:crypto';
import type { ActionDefinition, ActionRequested, WorkflowDefinition } from '@codestep/contracts';
import { deterministicId, isCodestepError, type Clock, type Logger } from '@codestep/core';
import type { ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';
import { Topics, envelope, fieldMapToPlain, fromRecord, plainToFieldMap, toRecord, type Envelope, type EventBody } from '@codestep/events';
import type { ExecutionRequest, ExecutionResult, OutputFieldSpec, Sandbox, SandboxHostApi } from '@codestep/sandbox';
import type { DocumentStore } from '@codestep/store';
import { SpanKind, currentTraceId, currentTraceparent, withSpan } from '@codestep/telemetry';
import { effectiveLimits, type OperatorLimits } from '@codestep/workflows';

const CLAIMS = 'execution_claims';

export interface ExecutorPorts {
  getWorkflow(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition>;
  /** A token of one of the tenant's OAuth connections; never throws for expected failures. */
  getOAuthToken(request: { tenantId: string; workflowId: string; executionId: string; handle: string; declaredHandles: string[] }): Promise<{ token?: string; error?: string }>;
  /** Values of the named secrets of the tenant (only those the action declares). */
  resolveSecrets(request: { tenantId: string; workflowId: string; executionId: string; names: string[] }): Promise<{ values: Record<string, string>; missing: string[] }>;
}

/** The operator's limits as this executor applies them (requests normally state their own, resolved per tenant). */
export type ExecutorLimits = OperatorLimits;

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
  /** Executions in flight at once. @default 4 */
  concurrency?: number;
  /** A claim older than this with no result is considered lost, ms. @default limits.maxTimeoutMs + 60000 */
  claimTtlMs?: number;
  /**
   * How long `stop()` lets running executions finish before handing them back for redelivery, ms.
   * @default 25000 (a little above HubSpot's 20 s default limit)
   */
  drainTimeoutMs?: number;
}

/** Codes of a peer that is down or slow: retried by redelivery, not reported as a failure. */
const TRANSIENT = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED']);

interface Prepared {
  request: ExecutionRequest;
  workflowId: string;
  handles: string[];
}

interface StoredRecord {
  topic: string;
  key: string;
  value: string; // base64
  headers: Record<string, string>;
  id?: string;
}

interface ClaimDoc {
  executorId: string;
  claimedAt: number;
  /** Unique per claim: only the run that took this claim may record its outcome. */
  token?: string;
  /** Set once the execution finished: the records it produced (an outbox for redelivery). */
  done?: boolean;
  records?: StoredRecord[];
}

const toStored = (r: LogRecord): StoredRecord => ({ topic: r.topic, key: r.key, value: Buffer.from(r.value).toString('base64'), headers: r.headers, ...(r.id ? { id: r.id } : {}) });
const fromStored = (r: StoredRecord): LogRecord => ({ topic: r.topic, key: r.key, value: new Uint8Array(Buffer.from(r.value, 'base64')), headers: r.headers, ...(r.id ? { id: r.id } : {}) });

/** @default {@link ExecutorServiceDeps.drainTimeoutMs} */
export const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;

/** The execution was handed back by a drain that timed out: its result is not this executor's to report. */
class HandedBack extends Error {
  constructor(executionId: string) {
    super(`execution ${executionId} was handed back at the drain timeout`);
    this.name = 'HandedBack';
  }
}

/** Thrown for a batch that arrives while draining: not committed, so it is delivered again. */
class Draining extends Error {
  readonly code = 'EXECUTOR_DRAINING';
  constructor() {
    super('the executor is stopping; the batch will be delivered again');
    this.name = 'Draining';
  }
}

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

/** Workflow versions kept per executor; a version never changes once created. */
const WORKFLOW_CACHE_SIZE = 1000;

export function createExecutorService(deps: ExecutorServiceDeps): ExecutorService {
  const { eventLog, store, ports, clock, logger } = deps;
  /** Workflow versions by tenant, id and version (immutable), least recently used first. */
  const workflowCache = new Map<string, Promise<WorkflowDefinition>>();
  function getWorkflow(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition> {
    const key = `${tenantId}\u0000${workflowId}\u0000${version}`;
    let found = workflowCache.get(key);
    if (found) {
      workflowCache.delete(key);
      workflowCache.set(key, found);
      return found;
    }
    found = ports.getWorkflow(tenantId, workflowId, version);
    // A failed lookup (service down, no such version) is asked again next time.
    found.catch(() => workflowCache.get(key) === found && workflowCache.delete(key));
    workflowCache.set(key, found);
    if (workflowCache.size > WORKFLOW_CACHE_SIZE) workflowCache.delete(workflowCache.keys().next().value!);
    return found;
  }
  /** Executions running in this process: what their action may use. */
  const running = new Map<string, { tenantId: string; workflowId: string; handles: string[] }>();
  const hostApi: Required<SandboxHostApi> = {
    async getOAuthToken({ tenantId, executionId, handle }) {
      const run = running.get(executionId);
      if (!run || run.tenantId !== tenantId) return { error: `connection "${handle}": no running execution asked for it` };
      try {
        return await ports.getOAuthToken({ tenantId, workflowId: run.workflowId, executionId, handle, declaredHandles: run.handles });
      } catch (error) {
        return { error: `connection "${handle}": the credentials service could not be reached (${error instanceof Error ? error.message : String(error)}); try again later` };
      }
    },
  };
  let sandbox: Sandbox | undefined = typeof deps.sandbox === 'function' ? undefined : deps.sandbox;
  const claimTtl = deps.claimTtlMs ?? deps.limits.maxTimeoutMs + 60_000;
  let subscription: Subscription | undefined;
  const drainTimeoutMs = deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  let draining = false;
  let handingBack = false;
  /** Resolved once executions still running at the drain timeout were handed back. */
  const handedBack = Promise.withResolvers<void>();
  /** Claimed and running: a drain that times out releases these claims. */
  const claimedRuns = new Set<string>();
  /** Every runOne in progress, so stop() closes nothing under them. */
  const inFlight = new Set<Promise<unknown>>();
  let stopped: Promise<void> | undefined;

  function event(req: ActionRequested, tenantId: string, kind: string, body: EventBody): Envelope {
    return envelope(
      {
        eventId: deterministicId('evt', kind, req.executionId),
        tenantId,
        aggregateId: req.executionId,
        occurredAt: clock(),
        causationId: req.executionId,
        correlationId: req.context?.enrollmentId ?? '',
      },
      body,
    );
  }

  async function runOne(record: ConsumedRecord): Promise<LogRecord[]> {
    const env = fromRecord(record.value);
    if (!env || env.event.$case !== 'actionRequested') return [];
    const req = env.event.value;
    const tenantId = env.tenantId;
    return withSpan('execute action', { kind: SpanKind.CONSUMER, parent: record.headers, attributes: { 'codestep.execution_id': req.executionId } }, async () => {
      const ctx = req.context;
      if (!ctx) return [];
      const existing = await store.get<ClaimDoc>(CLAIMS, req.executionId);
      // Prepared before claiming: a peer that is down (the enrollment or credentials service)
      // re-delivers the request after a back-off instead of spending an attempt of the action.
      const prepared = existing ? undefined : await prepare(tenantId, req);
      if (handingBack) throw new HandedBack(req.executionId);
      const token = `${deps.executorId}/${randomUUID()}`;
      const claimed = !existing && (await store.insertIfAbsent<ClaimDoc>(CLAIMS, req.executionId, { executorId: deps.executorId, claimedAt: clock(), token }));
      if (!claimed) {
        const claim = existing ?? (await store.get<ClaimDoc>(CLAIMS, req.executionId));
        const age = claim ? clock() - claim.doc.claimedAt : Infinity;
        // Already ran: produce its records again (same event ids, so consumers drop them if the
        // first commit did land; if the executor died before committing, this is the only copy).
        if (claim?.doc.done) return (claim.doc.records ?? []).map(fromStored);
        if (age < claimTtl) {
          // Another member may still be running it; let the lease age out before declaring it lost.
          throw new Error(`execution ${req.executionId} is claimed by ${claim?.doc.executorId}; waiting for its result`);
        }
        logger.warn({ executionId: req.executionId }, 'execution claimed by an executor that did not finish it; reporting it lost');
        const lost = [
          toRecord(
            event(req, tenantId, 'lost', {
              $case: 'actionFailed',
              value: {
                executionId: req.executionId,
                context: ctx,
                error: { code: 'EXECUTOR_LOST', message: 'the executor running this action stopped before it finished; it will be retried', retryable: true, retryAfterMs: 0 },
                durationMs: 0,
                continueEnrollment: false,
                outputFields: {},
              },
            }),
            currentTraceparent(),
          ),
        ];
        // The claim is the one decision record of the execution's outcome: "lost" is recorded only
        // over the very claim version seen stale, so an owner that finished in the meantime wins.
        if (claim && (await store.compareAndSet<ClaimDoc>(CLAIMS, req.executionId, claim.version, { executorId: deps.executorId, claimedAt: clock(), done: true, records: lost.map(toStored) }))) return lost;
        const now = await store.get<ClaimDoc>(CLAIMS, req.executionId);
        if (now?.doc.done) return (now.doc.records ?? []).map(fromStored);
        throw new Error(`the claim of execution ${req.executionId} changed while it was being reported lost; looking again`);
      }
      claimedRuns.add(req.executionId);
      if (handingBack) {
        // Claimed just after the drain timed out: give it straight back.
        claimedRuns.delete(req.executionId);
        await releaseClaim(req.executionId);
        throw new HandedBack(req.executionId);
      }
      const traceId = currentTraceId();
      // Started goes out at once (not with the batch) so history shows running executions.
      await eventLog.append([toRecord(event(req, tenantId, 'started', { $case: 'actionStarted', value: { executionId: req.executionId, context: ctx, executorId: deps.executorId, traceId } }), currentTraceparent())]);
      const result = 'failure' in prepared! ? prepared.failure : await run(prepared!);
      // Handed back meanwhile: its claim is released and its request appended again; whatever the
      // sandbox said (closed under it, most likely) is not this action's result.
      if (!claimedRuns.delete(req.executionId)) throw new HandedBack(req.executionId);
      const records = resultEvents(req, tenantId, result).map((e) => toRecord(e, currentTraceparent()));
      return recordOutcome(req.executionId, token, records);
    });
  }

  /**
   * Records a finished run's outcome on its claim, compare-and-set, and returns the records to
   * produce. If the claim was meanwhile declared lost by another executor (this one stalled past
   * the claim TTL), that outcome stands and is produced again instead, so the log never holds two
   * different results for one execution; if the claim was released and taken by another run, this
   * run produces nothing and that run's result will.
   */
  async function recordOutcome(executionId: string, token: string, records: LogRecord[]): Promise<LogRecord[]> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await store.get<ClaimDoc>(CLAIMS, executionId);
      if (current?.doc.done) {
        logger.warn({ executionId, recordedBy: current.doc.executorId }, 'the execution finished after it had been reported lost; the recorded outcome stands and this result is dropped');
        return (current.doc.records ?? []).map(fromStored);
      }
      if (!current || current.doc.token !== token) {
        logger.warn({ executionId }, 'the claim of this run was released and taken by another run; its result is dropped');
        return [];
      }
      if (await store.compareAndSet<ClaimDoc>(CLAIMS, executionId, current.version, { ...current.doc, claimedAt: clock(), done: true, records: records.map(toStored) })) return records;
    }
    throw new Error(`the claim of execution ${executionId} kept changing while its result was being recorded`);
  }

  /** What the sandbox needs, or the failure to report; throws only for a peer that is down. */
  async function prepare(tenantId: string, req: ActionRequested): Promise<Prepared | { failure: ExecutionResult }> {
    const ctx = req.context!;
    let action: ActionDefinition | undefined;
    let secrets: Record<string, string> = {};
    try {
      const wf = await getWorkflow(tenantId, ctx.workflowId, ctx.workflowVersion);
      action = wf.actions[ctx.stepIndex];
      if (!action) throw new Error(`workflow ${ctx.workflowId} v${ctx.workflowVersion} has no step ${ctx.stepIndex}`);
      if (action.secretNames.length) {
        const resolved = await ports.resolveSecrets({ tenantId, workflowId: ctx.workflowId, executionId: req.executionId, names: action.secretNames });
        if (resolved.missing.length) return { failure: failure('SECRET_NOT_FOUND', `secret(s) ${resolved.missing.join(', ')} selected for this action do not exist; add them with PUT /v1/secrets/{name}`) };
        secrets = resolved.values;
      }
    } catch (error) {
      if (isCodestepError(error) && TRANSIENT.has(error.code)) throw error;
      return { failure: failure('EXECUTOR_ERROR', `could not prepare the action: ${error instanceof Error ? error.message : String(error)}`) };
    }
    // The request states the limits resolved for the tenant when the action was requested; an
    // older request (none stated) takes the action's own or this executor's defaults. Either way
    // never above this executor's operator bounds.
    const stated = req.limits;
    const limits = effectiveLimits({ timeoutMs: stated?.timeoutMs || action.timeoutMs, memoryMb: stated?.memoryMb || action.memoryMb }, deps.limits);
    const outputFields: OutputFieldSpec[] = action.outputFields.map((o) => ({ name: o.name, type: o.type as OutputFieldSpec['type'], ...(o.type === 'enum' ? { options: o.options } : {}) }));
    const inputFields = fieldMapToPlain(req.inputFields);
    const portalId = Number(tenantPortal(tenantId));
    const request: ExecutionRequest = {
      executionId: req.executionId,
      tenantId,
      code: action.code,
      input:
        action.runtime === 'jsworkflows'
          ? { runtime: 'jsworkflows', data: ctx.trigger?.dataJson ? (JSON.parse(ctx.trigger.dataJson) as unknown) : { ...inputFields, object: ctx.object }, headers: ctx.trigger?.headers ?? {} }
          : {
              runtime: 'hubspot',
              event: {
                origin: { portalId, actionDefinitionId: action.actionId },
                object: { objectType: ctx.object?.objectType ?? '', objectId: asId(ctx.object?.objectId ?? '') },
                inputFields,
                callbackId: req.callbackId,
              },
            },
      secrets,
      outputFields,
      limits,
      ...(currentTraceparent() ? { traceparent: currentTraceparent()! } : {}),
    };
    return { request, workflowId: ctx.workflowId, handles: action.connectionHandles };
  }

  async function run(p: Prepared): Promise<ExecutionResult> {
    running.set(p.request.executionId, { tenantId: p.request.tenantId, workflowId: p.workflowId, handles: p.handles });
    try {
      return await sandbox!.execute(p.request);
    } catch (error) {
      return failure('SANDBOX_UNAVAILABLE', `the sandbox could not run the action: ${error instanceof Error ? error.message : String(error)}`, true);
    } finally {
      running.delete(p.request.executionId);
    }
  }

  function failure(code: string, message: string, retryable = false): ExecutionResult {
    return { status: 'failed', outputFields: {}, logs: [], logsTruncated: false, error: { code, message, retryable }, durationMs: 0 };
  }

  function resultEvents(req: ActionRequested, tenantId: string, result: ExecutionResult): Envelope[] {
    const ctx = req.context!;
    const out: Envelope[] = [];
    if (result.logs.length || result.logsTruncated) {
      out.push(
        event(req, tenantId, 'logged', {
          $case: 'actionLogged',
          value: { executionId: req.executionId, context: ctx, lines: result.logs.map((l) => ({ level: l.level, message: l.message, at: l.at })), truncated: result.logsTruncated },
        }),
      );
    }
    if (result.status === 'succeeded') {
      out.push(event(req, tenantId, 'succeeded', { $case: 'actionSucceeded', value: { executionId: req.executionId, context: ctx, outputFields: plainToFieldMap(result.outputFields), durationMs: Math.round(result.durationMs), returnValueJson: result.returnValue === undefined ? '' : JSON.stringify(result.returnValue) } }));
    } else {
      const e = result.error ?? { code: 'UNKNOWN', message: 'the action failed' };
      out.push(
        event(req, tenantId, 'failed', {
          $case: 'actionFailed',
          value: {
            executionId: req.executionId,
            context: ctx,
            error: { code: e.code, message: e.message, retryable: e.retryable ?? false, retryAfterMs: e.retryAfterMs ?? 0 },
            durationMs: Math.round(result.durationMs),
            continueEnrollment: result.executionState === 'FAIL_CONTINUE',
            outputFields: plainToFieldMap(result.outputFields),
          },
        }),
      );
    }
    return out;
  }

  async function handle(batch: ConsumedRecord[]): Promise<LogRecord[]> {
    if (draining) throw new Draining();
    const limit = deps.concurrency ?? 4;
    const results: Array<LogRecord[] | undefined> = new Array(batch.length);
    let next = 0;
    const all = Promise.all(
      Array.from({ length: Math.min(limit, batch.length) }, async () => {
        // Draining: what is running finishes, nothing new starts.
        while (next < batch.length && !draining) {
          const i = next++;
          const one = runOne(batch[i]!);
          inFlight.add(one);
          try {
            results[i] = await one;
          } catch (error) {
            // Handed back: no result here, its request goes out again below.
            if (!(error instanceof HandedBack)) throw error;
          } finally {
            inFlight.delete(one);
          }
        }
      }),
    );
    // A drain that times out stops the wait; runs still going are abandoned to the closing sandbox.
    all.catch(() => {});
    await Promise.race([all, handedBack.promise]);
    const out: LogRecord[] = [];
    const again: ConsumedRecord[] = [];
    batch.forEach((record, i) => {
      const r = results[i];
      if (r) out.push(...r);
      else again.push(record);
    });
    if (again.length) {
      logger.info({ requests: again.length }, 'executor stopping: requests not run here are appended again for redelivery');
      out.push(...again.map(requeued));
    }
    return out;
  }

  /**
   * The request again, at the end of its topic, committed with the batch. The envelope (and its
   * event id) is unchanged, so history drops it as a duplicate; only the log record id differs,
   * which the SQLite log would otherwise ignore as already appended.
   */
  function requeued(record: ConsumedRecord): LogRecord {
    return { topic: record.topic, key: record.key, value: record.value, headers: record.headers, id: `${record.id ?? record.key}~again@${record.partition}:${record.offset}` };
  }

  async function releaseClaim(executionId: string): Promise<void> {
    try {
      await store.delete(CLAIMS, executionId);
    } catch (error) {
      // The claim then ages out (claimTtlMs) and the execution is reported EXECUTOR_LOST, retryable.
      logger.warn({ executionId, error }, 'could not release the claim of a handed-back execution');
    }
  }

  /** The drain timed out: release the claims of executions still running so a redelivery runs them at once. */
  async function handBack(): Promise<void> {
    handingBack = true;
    const ids = [...claimedRuns];
    claimedRuns.clear();
    if (ids.length) logger.warn({ executionIds: ids, drainTimeoutMs }, 'drain timeout: handing running executions back for redelivery');
    await Promise.all(ids.map(releaseClaim));
    handedBack.resolve();
  }

  return {
    hostApi,
    async start() {
      if (typeof deps.sandbox === 'function') sandbox = await deps.sandbox(hostApi);
      await store.ensureCollection(CLAIMS, []);
      await eventLog.ensureTopics([Topics.actions, Topics.logs]);
      subscription = await eventLog.consume({
        group: 'codestep-executor',
        topics: [Topics.actions],
        batchSize: (deps.concurrency ?? 4) * 4,
        handle,
        onError: (error) => (error instanceof Draining ? logger.info({}, error.message) : logger.warn({ error }, 'executor batch will be retried')),
      });
    },
    stop() {
      return (stopped ??= (async () => {
        draining = true;
        if (inFlight.size) logger.info({ running: inFlight.size, drainTimeoutMs }, 'executor draining: letting running executions finish');
        const timer = setTimeout(() => void handBack(), drainTimeoutMs);
        try {
          // Resolves once the batch in progress is committed: finished results, and the requests
          // to run again (not started, or handed back at the timeout).
          await subscription?.stop();
        } finally {
          clearTimeout(timer);
        }
        if (handingBack) await handedBack.promise;
        if (typeof deps.sandbox === 'function') await sandbox?.close();
        // Runs handed back settle once the sandbox is closed under them; bounded all the same.
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, 5_000).unref())]);
      })());
    },
  };
}

/** Tenants are HubSpot portals: a numeric tenant id is the portal id. */
function tenantPortal(tenantId: string): string {
  return /^\d+$/.test(tenantId) ? tenantId : '0';
}
function asId(id: string): number | string {
  return /^\d{1,15}$/.test(id) ? Number(id) : id;
}
