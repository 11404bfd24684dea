/**
 * The history projections, as pure reducers: an event and the current document give the next
 * document. Each document is fed by one aggregate's events only (one key, so one ordered
 * stream), and remembers the ids of the events it applied, so a redelivered event changes
 * nothing. Nothing here reads the clock: replaying the log rebuilds identical documents.
 */
import type { CrmObject, DryRunLedger } from '@codestep/contracts';
import { fieldMapToPlain, type Envelope, type PlainFields } from '@codestep/events';
import type { DryRunWrite } from '@codestep/core';

export interface ErrorView {
  code: string;
  message: string;
  retryable: boolean;
  retryAfterMs: number;
}

export interface EnrollmentDoc {
  tenantId: string;
  enrollmentId: string;
  workflowId: string;
  workflowVersion: number;
  object: { objectType: string; objectId: string; properties: Record<string, string> };
  /** `object.objectId` again, at the top level, where the store can filter and index on it. */
  objectId: string;
  status: 'running' | 'completed' | 'failed';
  error: ErrorView | null;
  failedActionId: string;
  outputs: Record<string, PlainFields>;
  startedAt: number;
  finishedAt: number;
  /** Manual retries so far (absent: none). */
  retries?: number;
  /** Started with `?dryRun=true` (absent: a real run). */
  dryRun?: boolean;
  /** The workflow's `crmProperties` read from HubSpot before the first action (absent: none read). */
  crmRead?: { connection: string; names: string[]; values: Record<string, string>; readAt: number; error: string };
  /** A HubSpot action's callback HubSpot did not take: its last refused attempt (absent: none refused). */
  hubspotCallback?: { callbackId: string; enrollmentId: string; portalId: number; attempt: number; error: string; nextAttemptAt: number; expiresAt: number; gaveUp: boolean };
  eventIds: string[];
}

/**
 * `scheduled`: a JsWorkflows step waiting for its due time; `waiting`: the step of a wait
 * (`api.waitForEvent`) whose resume URL has not been called; `timed_out`: one that never was.
 */
export type ExecutionStatus = 'scheduled' | 'waiting' | 'timed_out' | 'requested' | 'running' | 'succeeded' | 'failed' | 'retry_scheduled';

/** JsWorkflows: a wait and the state of its resume URL. */
export interface WaitView {
  state: 'waiting' | 'resumed' | 'timed_out';
  /** When it times out, UNIX ms. */
  timeoutAt: number;
  /** When it was resumed or timed out, UNIX ms (0 while waiting). */
  endedAt: number;
  /** GET or POST, once resumed. */
  resumedBy: string;
  redirectUrl: string;
}

/** JsWorkflows: the step an execution runs and where it sits in the run's tree. */
export interface ExecutionStepView {
  name: string;
  branchId: string;
  depth: number;
  parentExecutionId: string;
  /** When a scheduled step is due, UNIX ms (0 for start). */
  dueAt: number;
}

export interface ExecutionDoc {
  tenantId: string;
  executionId: string;
  enrollmentId: string;
  workflowId: string;
  actionId: string;
  stepIndex: number;
  attempt: number;
  status: ExecutionStatus;
  inputFields: PlainFields;
  outputFields: PlainFields;
  /** JsWorkflows: JSON of what `start` returned ('' if nothing). */
  returnValueJson: string;
  /** JsWorkflows: the `Response` the step returned, JSON of `{ status, headers, body }` (absent if none). */
  httpResponseJson?: string;
  error: ErrorView | null;
  continueEnrollment: boolean;
  durationMs: number;
  traceId: string;
  callbackId: string;
  requestedAt: number;
  finishedAt: number;
  retryDueAt: number;
  /** JsWorkflows only. */
  step?: ExecutionStepView;
  /** JsWorkflows: the execution is the step a wait resumes. */
  wait?: WaitView;
  /** A dry run (absent: a real run). */
  dryRun?: boolean;
  /** A dry run's writes held back, as its result carried them. */
  dryRunLedger?: DryRunLedgerView;
  /** How many console lines the execution logged, as its result said (absent: running, or not said). */
  linesLogged?: number;
  eventIds: string[];
}

export interface DryRunLedgerView {
  writes: DryRunWrite[];
  dropped: number;
}

const ledgerView = (l: DryRunLedger | undefined): { dryRunLedger: DryRunLedgerView } | Record<string, never> =>
  l
    ? {
        dryRunLedger: {
          writes: l.writes.map((w) => ({ method: w.method, url: w.url, headers: w.headers.map((h): [string, string] => [h.name, h.value]), body: w.body, bodyBytes: w.bodyBytes, status: w.status })),
          dropped: l.dropped,
        },
      }
    : {};

const linesLoggedView = (n: number | undefined): { linesLogged: number } | Record<string, never> => (n === undefined ? {} : { linesLogged: n });

export interface LogLineView {
  level: string;
  message: string;
  at: number;
}

export interface ExecutionConsoleDoc {
  tenantId: string;
  executionId: string;
  enrollmentId: string;
  lines: LogLineView[];
  truncated: boolean;
  eventIds: string[];
}

const obj = (o: CrmObject | undefined) => ({ objectType: o?.objectType ?? '', objectId: o?.objectId ?? '', properties: { ...(o?.properties ?? {}) } });
const err = (e: { code: string; message: string; retryable: boolean; retryAfterMs: number } | undefined): ErrorView | null =>
  e ? { code: e.code, message: e.message, retryable: e.retryable, retryAfterMs: e.retryAfterMs } : null;
/** At most this many event ids are remembered per document (a document sees few events). */
const MAX_EVENT_IDS = 200;
const remember = (ids: string[], id: string) => [...ids, id].slice(-MAX_EVENT_IDS);

/** Returns the next document, or undefined when the event changes nothing. */
export function applyToEnrollment(doc: EnrollmentDoc | undefined, env: Envelope): EnrollmentDoc | undefined {
  if (doc?.eventIds.includes(env.eventId)) return undefined;
  const e = env.event;
  switch (e.$case) {
    case 'enrollmentStarted':
      if (doc) return { ...doc, eventIds: remember(doc.eventIds, env.eventId) };
      return {
        tenantId: env.tenantId,
        enrollmentId: e.value.enrollmentId,
        workflowId: e.value.workflowId,
        workflowVersion: e.value.workflowVersion,
        object: obj(e.value.object),
        objectId: e.value.object?.objectId ?? '',
        status: 'running',
        error: null,
        failedActionId: '',
        outputs: {},
        startedAt: env.occurredAt,
        finishedAt: 0,
        ...(e.value.dryRun ? { dryRun: true } : {}),
        ...(e.value.crmRead
          ? {
              crmRead: {
                connection: e.value.crmRead.connection,
                names: [...e.value.crmRead.names],
                values: { ...e.value.crmRead.values },
                readAt: e.value.crmRead.readAt,
                error: e.value.crmRead.error,
              },
            }
          : {}),
        eventIds: [env.eventId],
      };
    case 'enrollmentCompleted':
      if (!doc) return undefined;
      return {
        ...doc,
        status: 'completed',
        outputs: Object.fromEntries(Object.entries(e.value.outputs).map(([k, v]) => [k, fieldMapToPlain(v.fields)])),
        finishedAt: env.occurredAt,
        eventIds: remember(doc.eventIds, env.eventId),
      };
    case 'enrollmentFailed':
      if (!doc) return undefined;
      return { ...doc, status: 'failed', error: err(e.value.error), failedActionId: e.value.failedActionId, finishedAt: env.occurredAt, eventIds: remember(doc.eventIds, env.eventId) };
    case 'enrollmentRetried':
      // Running again from the failed step: the next attempt is in the same history.
      if (!doc) return undefined;
      return { ...doc, status: 'running', error: null, failedActionId: '', finishedAt: 0, retries: e.value.round, eventIds: remember(doc.eventIds, env.eventId) };
    case 'hubspotCallbackAttempted':
      // The latest attempt wins (a redelivered older one changes nothing).
      if (!doc || (doc.hubspotCallback && doc.hubspotCallback.callbackId === e.value.callbackId && doc.hubspotCallback.attempt >= e.value.attempt)) return undefined;
      return { ...doc, hubspotCallback: { ...e.value }, eventIds: remember(doc.eventIds, env.eventId) };
    default:
      return undefined;
  }
}

const FINAL: ExecutionStatus[] = ['succeeded', 'failed', 'retry_scheduled'];

type ExecutionContext = {
  enrollmentId: string;
  workflowId: string;
  actionId: string;
  stepIndex: number;
  attempt: number;
  step?: { name: string; branchId: string; depth: number; parentExecutionId: string } | undefined;
  dryRun?: boolean | undefined;
};

/** The document of an execution first seen (with its JsWorkflows step, if it has one). */
function newExecution(tenantId: string, executionId: string, ctx: ExecutionContext | undefined): ExecutionDoc {
  const doc: ExecutionDoc = {
    tenantId,
    executionId,
    enrollmentId: ctx?.enrollmentId ?? '',
    workflowId: ctx?.workflowId ?? '',
    actionId: ctx?.actionId ?? '',
    stepIndex: ctx?.stepIndex ?? 0,
    attempt: ctx?.attempt ?? 0,
    status: 'requested',
    inputFields: {},
    outputFields: {},
    returnValueJson: '',
    error: null,
    continueEnrollment: false,
    durationMs: 0,
    traceId: '',
    callbackId: '',
    requestedAt: 0,
    finishedAt: 0,
    retryDueAt: 0,
    eventIds: [],
  };
  if (ctx?.dryRun) doc.dryRun = true;
  const step = ctx?.step;
  return step ? { ...doc, step: { name: step.name, branchId: step.branchId, depth: step.depth, parentExecutionId: step.parentExecutionId, dueAt: 0 } } : doc;
}

export function applyToExecution(doc: ExecutionDoc | undefined, env: Envelope): ExecutionDoc | undefined {
  if (doc?.eventIds.includes(env.eventId)) return undefined;
  const e = env.event;
  const base = (executionId: string, ctx: ExecutionContext | undefined): ExecutionDoc => doc ?? newExecution(env.tenantId, executionId, ctx);
  switch (e.$case) {
    case 'stepScheduled': {
      const d = base(e.value.executionId, e.value.context);
      const step = d.step ? { ...d.step, dueAt: e.value.dueAt } : undefined;
      return { ...d, status: d.status === 'requested' && !d.requestedAt ? 'scheduled' : d.status, ...(step ? { step } : {}), eventIds: remember(d.eventIds, env.eventId) };
    }
    case 'waitStarted': {
      const d = base(e.value.executionId, e.value.context);
      const wait: WaitView = { state: 'waiting', timeoutAt: e.value.dueAt, endedAt: 0, resumedBy: '', redirectUrl: e.value.redirectUrl };
      return { ...d, status: d.status === 'requested' && !d.requestedAt ? 'waiting' : d.status, wait, eventIds: remember(d.eventIds, env.eventId) };
    }
    case 'waitResumed': {
      const d = base(e.value.executionId, e.value.context);
      const wait: WaitView = { ...(d.wait ?? { timeoutAt: 0, redirectUrl: '' }), state: 'resumed', endedAt: env.occurredAt, resumedBy: e.value.method };
      return { ...d, status: d.status === 'waiting' ? 'requested' : d.status, wait, eventIds: remember(d.eventIds, env.eventId) };
    }
    case 'waitTimedOut': {
      const d = base(e.value.executionId, e.value.context);
      const wait: WaitView = { ...(d.wait ?? { timeoutAt: e.value.dueAt, redirectUrl: '' }), state: 'timed_out', endedAt: env.occurredAt, resumedBy: '' };
      return { ...d, status: 'timed_out', wait, finishedAt: env.occurredAt, eventIds: remember(d.eventIds, env.eventId) };
    }
    case 'actionRequested': {
      const d = base(e.value.executionId, e.value.context);
      return {
        ...d,
        status: d.status === 'scheduled' || d.status === 'waiting' ? 'requested' : d.status,
        inputFields: fieldMapToPlain(e.value.inputFields),
        callbackId: e.value.callbackId,
        requestedAt: env.occurredAt,
        eventIds: remember(d.eventIds, env.eventId),
      };
    }
    case 'actionStarted': {
      const d = base(e.value.executionId, e.value.context);
      return { ...d, status: FINAL.includes(d.status) ? d.status : 'running', traceId: e.value.traceId, eventIds: remember(d.eventIds, env.eventId) };
    }
    case 'actionSucceeded': {
      const d = base(e.value.executionId, e.value.context);
      return {
        ...d,
        status: 'succeeded',
        outputFields: fieldMapToPlain(e.value.outputFields),
        returnValueJson: e.value.returnValueJson,
        ...(e.value.httpResponseJson ? { httpResponseJson: e.value.httpResponseJson } : {}),
        ...ledgerView(e.value.dryRun),
        ...linesLoggedView(e.value.linesLogged),
        durationMs: e.value.durationMs,
        finishedAt: env.occurredAt,
        eventIds: remember(d.eventIds, env.eventId),
      };
    }
    case 'actionFailed': {
      const d = base(e.value.executionId, e.value.context);
      return {
        ...d,
        status: d.status === 'retry_scheduled' ? d.status : 'failed',
        error: err(e.value.error),
        continueEnrollment: e.value.continueEnrollment,
        outputFields: fieldMapToPlain(e.value.outputFields),
        ...ledgerView(e.value.dryRun),
        ...linesLoggedView(e.value.linesLogged),
        durationMs: e.value.durationMs,
        finishedAt: env.occurredAt,
        eventIds: remember(d.eventIds, env.eventId),
      };
    }
    case 'actionRetryScheduled': {
      const d = base(e.value.executionId, e.value.context);
      return { ...d, status: 'retry_scheduled', retryDueAt: e.value.dueAt, eventIds: remember(d.eventIds, env.eventId) };
    }
    default:
      return undefined;
  }
}

/**
 * What one execution's console document keeps, whatever its events carry: the sandbox caps an
 * execution far below this (500 lines and 64 KiB, plus a small reserve for the platform's own
 * lines), so only a misbehaving producer reaches it; past it lines are dropped and the document
 * is marked truncated.
 */
export const CONSOLE_LINES_KEPT = { lines: 2000, chars: 1024 * 1024, lineChars: 8 * 1024 } as const;

const keptLine = (l: { level: string; message: string; at: number }): LogLineView => ({
  level: l.level.slice(0, 16),
  message: l.message.length > CONSOLE_LINES_KEPT.lineChars ? `${l.message.slice(0, CONSOLE_LINES_KEPT.lineChars)}… [line truncated: ${l.message.length} characters]` : l.message,
  at: l.at,
});

export function applyToConsoleLines(doc: ExecutionConsoleDoc | undefined, env: Envelope): ExecutionConsoleDoc | undefined {
  if (doc?.eventIds.includes(env.eventId)) return undefined;
  if (env.event.$case !== 'actionLogged') return undefined;
  const v = env.event.value;
  const d = doc ?? { tenantId: env.tenantId, executionId: v.executionId, enrollmentId: v.context?.enrollmentId ?? '', lines: [], truncated: false, eventIds: [] };
  const lines = [...d.lines];
  let chars = lines.reduce((sum, l) => sum + l.message.length, 0);
  let dropped = false;
  for (const line of v.lines) {
    const kept = keptLine(line);
    if (lines.length >= CONSOLE_LINES_KEPT.lines || chars + kept.message.length > CONSOLE_LINES_KEPT.chars) {
      dropped = true;
      break;
    }
    chars += kept.message.length;
    lines.push(kept);
  }
  return { ...d, lines, truncated: d.truncated || v.truncated || dropped, eventIds: remember(d.eventIds, env.eventId) };
}
