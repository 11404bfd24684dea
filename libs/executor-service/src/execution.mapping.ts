/**
 * The executor's translations, pure: an ActionRequested (with the action it names) into the
 * sandbox's ExecutionRequest, and the sandbox's ExecutionResult into the action's logged /
 * succeeded / failed envelopes. Event ids are derived from the execution id and the event kind,
 * so an execution's events produced again (a redelivery) are the same events.
 */
import type { ActionDefinition, ActionRequested, DryRunLedger } from '@codestep/contracts';
import { LEGACY_RUNTIME_VERSION, deterministicId, resolveRuntimeVersion, type Clock, type ErrorCode, type StepSchedulingBounds } from '@codestep/core';
import { envelope, fieldMapToPlain, plainToFieldMap, type Envelope, type EventBody } from '@codestep/events';
import type { ExecutionLimits, ExecutionRequest, ExecutionResult, OutputFieldSpec } from '@codestep/sandbox';

/** One event of an execution, as its executor reports it. */
export function executionEvent(req: ActionRequested, tenantId: string, kind: string, body: EventBody, clock: Clock): Envelope {
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

/** The action is running on this executor (`req.context` must be set). */
export function startedEvent(req: ActionRequested, tenantId: string, executorId: string, traceId: string, clock: Clock): Envelope {
  return executionEvent(req, tenantId, 'started', { $case: 'actionStarted', value: { executionId: req.executionId, context: req.context!, executorId, traceId } }, clock);
}

/**
 * The execution was claimed by an executor that never finished it: a retryable EXECUTOR_LOST
 * failure. `retryLanePartition`: a partition of the retry lane (`Topics.actionRetries`) the
 * reporting executor consumes, where the retry's request is best appended.
 */
export function lostEvent(req: ActionRequested, tenantId: string, clock: Clock, retryLanePartition?: number): Envelope {
  return executionEvent(
    req,
    tenantId,
    'lost',
    {
      $case: 'actionFailed',
      value: {
        executionId: req.executionId,
        context: req.context!,
        error: { code: 'EXECUTOR_LOST', message: 'the executor running this action stopped before it finished; it will be retried', retryable: true, retryAfterMs: 0 },
        durationMs: 0,
        continueEnrollment: false,
        outputFields: {},
        ...(retryLanePartition !== undefined ? { retryLanePartition } : {}),
      },
    },
    clock,
  );
}

/** A failed result the executor reports itself (the action did not run, or not to the end). */
export function failure(code: ErrorCode, message: string, retryable = false): ExecutionResult {
  return { status: 'failed', outputFields: {}, logs: [], logsTruncated: false, error: { code, message, retryable }, durationMs: 0 };
}

/** What {@link executionRequestOf} builds a sandbox request from. */
export interface ExecutionRequestSource {
  req: ActionRequested;
  tenantId: string;
  action: ActionDefinition;
  secrets: Record<string, string>;
  limits: ExecutionLimits;
  traceparent?: string | undefined;
  /** JsWorkflows: the bounds of `api.scheduleNextStep` (unset: the sandbox's defaults). */
  steps?: StepSchedulingBounds | undefined;
}

/** The sandbox request running `action` for `req` (`req.context` must be set). */
export function executionRequestOf({ req, tenantId, action, secrets, limits, traceparent, steps }: ExecutionRequestSource): ExecutionRequest {
  const ctx = req.context!;
  const outputFields: OutputFieldSpec[] = action.outputFields.map((o) => ({ name: o.name, type: o.type as OutputFieldSpec['type'], ...(o.type === 'enum' ? { options: o.options } : {}) }));
  const inputFields = fieldMapToPlain(req.inputFields);
  // From HubSpot (the app's workflow action or a webhook): HubSpot's own origin and callback id.
  const hs = ctx.hubspot;
  const portalId = hs ? hs.portalId : Number(tenantPortal(tenantId));
  return {
    executionId: req.executionId,
    tenantId,
    code: action.code,
    input:
      action.runtime === 'jsworkflows'
        ? {
            runtime: 'jsworkflows',
            // A scheduled step's data is its payload; start's is the trigger's (or the enrolled object).
            data:
              ctx.step && ctx.step.name !== 'start'
                ? (JSON.parse(ctx.step.dataJson || 'null') as unknown)
                : ctx.trigger?.dataJson
                  ? (JSON.parse(ctx.trigger.dataJson) as unknown)
                  : { ...inputFields, object: ctx.object },
            headers: ctx.trigger?.headers ?? {},
            step: ctx.step?.name || 'start',
            ...(steps ? { scheduling: steps } : {}),
          }
        : {
            runtime: 'hubspot',
            event: {
              origin: hs?.actionDefinitionId
                ? { portalId, actionDefinitionId: asId(hs.actionDefinitionId), actionDefinitionVersion: hs.actionDefinitionVersion }
                : { portalId, actionDefinitionId: action.actionId },
              object: { objectType: ctx.object?.objectType ?? '', objectId: asId(ctx.object?.objectId ?? '') },
              inputFields,
              callbackId: hs?.callbackId || req.callbackId,
            },
          },
    secrets,
    outputFields,
    limits,
    // Saved with the workflow version; empty in actions saved before runtime versions existed,
    // which keep the libraries they ran then, so a replayed or retried action runs the same code.
    runtimeVersion: resolveRuntimeVersion(action.runtimeVersion) ?? LEGACY_RUNTIME_VERSION,
    ...(traceparent ? { traceparent } : {}),
    ...(ctx.dryRun ? { dryRun: true } : {}),
  };
}

/** A dry run's ledger as the events carry it (unset when the result has none). */
function dryRunLedgerOf(result: ExecutionResult): { dryRun: DryRunLedger } | Record<string, never> {
  if (!result.dryRun) return {};
  const writes = result.dryRun.writes.map((w) => ({ ...w, headers: w.headers.map(([name, value]) => ({ name, value })) }));
  return { dryRun: { writes, dropped: result.dryRun.dropped } };
}

/** The events reporting a sandbox result: logged (if it logged), then succeeded or failed with the count of lines logged. */
export function resultEvents(req: ActionRequested, tenantId: string, result: ExecutionResult, clock: Clock): Envelope[] {
  const ctx = req.context!;
  const out: Envelope[] = [];
  if (result.logs.length || result.logsTruncated) {
    const lines = result.logs.map((l) => ({ level: l.level, message: l.message, at: l.at }));
    out.push(executionEvent(req, tenantId, 'logged', { $case: 'actionLogged', value: { executionId: req.executionId, context: ctx, lines, truncated: result.logsTruncated } }, clock));
  }
  if (result.status === 'succeeded') {
    const value = {
      executionId: req.executionId,
      context: ctx,
      outputFields: plainToFieldMap(result.outputFields),
      durationMs: Math.round(result.durationMs),
      returnValueJson: result.returnValue === undefined ? '' : JSON.stringify(result.returnValue),
      nextSteps: (result.nextSteps ?? []).map((s) => ({ action: s.action, delayMs: s.delayMs, payloadJson: s.payloadJson })),
      waits: (result.waits ?? []).map((w) => ({ action: w.action, payloadJson: w.payloadJson, timeoutMs: w.timeoutMs, redirectUrl: w.redirectUrl, tokenHash: w.tokenHash })),
      httpResponseJson: result.httpResponse ? JSON.stringify(result.httpResponse) : '',
      ...dryRunLedgerOf(result),
      linesLogged: result.logs.length,
    };
    out.push(executionEvent(req, tenantId, 'succeeded', { $case: 'actionSucceeded', value }, clock));
  } else {
    const e = result.error ?? { code: 'UNKNOWN', message: 'the action failed' };
    const value = {
      executionId: req.executionId,
      context: ctx,
      error: { code: e.code, message: e.message, retryable: e.retryable ?? false, retryAfterMs: e.retryAfterMs ?? 0 },
      durationMs: Math.round(result.durationMs),
      continueEnrollment: result.executionState === 'FAIL_CONTINUE',
      outputFields: plainToFieldMap(result.outputFields),
      ...dryRunLedgerOf(result),
      linesLogged: result.logs.length,
    };
    out.push(executionEvent(req, tenantId, 'failed', { $case: 'actionFailed', value }, clock));
  }
  return out;
}

/** Tenants are HubSpot portals: a numeric tenant id is the portal id. */
function tenantPortal(tenantId: string): string {
  return /^\d+$/.test(tenantId) ? tenantId : '0';
}

/** A numeric object id (up to 15 digits) as a number, as HubSpot sends it; any other as is. */
function asId(id: string): number | string {
  return /^\d{1,15}$/.test(id) ? Number(id) : id;
}
