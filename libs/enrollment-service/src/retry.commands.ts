/**
 * Re-running what failed. One enrollment: from its failed step (earlier outputs kept, the step's
 * inputs optionally edited), on the version it failed on or the latest; each retry is a round,
 * reserved in the outbox under (enrollment, round) before its events are appended, so a repeated
 * or concurrent retry of the same failure answers with the same round and runs it once. A bulk
 * job: the failed enrollments of a workflow that its filter matches (error code, time range), at
 * most its cap, recorded as `RetryJobStarted` and retried one by one in the background; a job cut
 * short by a crash is resumed at start (the rounds make that safe). Progress is read from the
 * enrollment states: each item is pending, refused (no longer failed), or its retry's outcome.
 */
import type { enrollmentsV1 } from '@codestep/contracts';
import { CodestepError, NotFoundError, ValidationError, deterministicId, newId, type Clock, type Logger } from '@codestep/core';
import type { EventLog } from '@codestep/event-log';
import { envelope, toRecord, type Envelope } from '@codestep/events';
import { tenantKey, tenantScoped, type DocumentStore } from '@codestep/store';
import { currentTraceparent } from '@codestep/telemetry';
import { retryFailedEnrollment } from '@codestep/workflows';
import { createCommandOutbox, reserveRecords, type Reservation } from './command.outbox.ts';
import { refuseUnlessEnabled } from './enroll.command.ts';
import { ENROLLMENT_STATE_COLLECTIONS, applyEnrollmentStates, type EnrollmentStateDoc, type RetryJobDoc } from './enrollment-states.projection.ts';
import type { GrantStamper } from './execution-grant.stamper.ts';
import type { WorkflowRepository } from './workflow.repository.ts';

export const RETRY_OUTBOX = 'retry_outbox';
/** The most enrollments one bulk retry job takes. */
export const MAX_RETRY_JOB = 1000;
/** Failed enrollments a job's filter looks through. */
const SCAN_LIMIT = 100_000;

interface RetryReservation extends Reservation {
  response: enrollmentsV1.RetryEnrollmentResponse;
}

export interface RetryCommandsDeps {
  store: DocumentStore;
  eventLog: EventLog;
  clock: Clock;
  logger: Logger;
  repository: WorkflowRepository;
  stampGrants: GrantStamper;
}

export interface RetryCommands {
  retryEnrollment(req: enrollmentsV1.RetryEnrollmentRequest): Promise<enrollmentsV1.RetryEnrollmentResponse>;
  startRetryJob(req: enrollmentsV1.StartRetryJobRequest): Promise<enrollmentsV1.RetryJob>;
  getRetryJob(req: enrollmentsV1.GetRetryJobRequest): Promise<enrollmentsV1.RetryJob>;
  /** Resumes the jobs with pending items (at start). */
  resume(): Promise<void>;
  /** Waits for the jobs running in the background (tests, shutdown). */
  idle(): Promise<void>;
}

export async function ensureRetryOutbox(store: DocumentStore): Promise<void> {
  await store.ensureCollection(RETRY_OUTBOX, []);
}

/** A job's progress, from the states of its enrollments. */
async function jobView(store: DocumentStore, tenantId: string, j: RetryJobDoc): Promise<enrollmentsV1.RetryJob> {
  const states = await tenantScoped(store, tenantId).getMany<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, j.enrollmentIds);
  const items = j.enrollmentIds.map((id): enrollmentsV1.RetryJobItem => {
    const s = states.get(id)?.doc;
    if (s?.jobId === j.jobId) return { enrollmentId: id, status: s.status, message: '' };
    if (s?.status === 'failed' && s.failedContext) return { enrollmentId: id, status: 'pending', message: '' };
    return { enrollmentId: id, status: 'refused', message: `not retried: it was ${s?.status ?? 'gone'} when the job reached it` };
  });
  const count = (status: string) => items.filter((i) => i.status === status).length;
  return {
    jobId: j.jobId,
    workflowId: j.workflowId,
    total: items.length,
    matched: j.matched,
    retried: items.length - count('pending') - count('refused'),
    refused: count('refused'),
    completed: count('completed'),
    failed: count('failed'),
    running: count('running'),
    items,
  };
}

/** The failed enrollments of a workflow that a job's filter matches, newest failures first. */
async function matchFailed(store: DocumentStore, req: enrollmentsV1.StartRetryJobRequest): Promise<EnrollmentStateDoc[]> {
  const failed = await tenantScoped(store, req.tenantId).find<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, {
    where: { workflowId: req.workflowId, status: 'failed' },
    orderBy: { field: 'failedAt', direction: 'desc' },
    limit: SCAN_LIMIT,
  });
  return failed
    .map((d) => d.doc)
    .filter((d) => (!req.errorCode || d.errorCode === req.errorCode) && (!req.failedAfter || d.failedAt >= req.failedAfter) && (!req.failedBefore || d.failedAt < req.failedBefore));
}

/** The job's event: the enrollments it retries (the first `limit` matches) and its filter. */
function retryJobStarted(req: enrollmentsV1.StartRetryJobRequest, jobId: string, limit: number, matches: EnrollmentStateDoc[], now: number): Envelope {
  const filterJson = JSON.stringify({ errorCode: req.errorCode || null, failedAfter: req.failedAfter || null, failedBefore: req.failedBefore || null, limit, onLatestVersion: req.onLatestVersion });
  return envelope(
    { eventId: deterministicId('evt', 'retry-job', req.tenantId, jobId), tenantId: req.tenantId, aggregateId: jobId, occurredAt: now },
    { $case: 'retryJobStarted', value: { jobId, workflowId: req.workflowId, enrollmentIds: matches.slice(0, limit).map((d) => d.enrollmentId), filterJson, matched: matches.length } },
  );
}

export function createRetryCommands(deps: RetryCommandsDeps): RetryCommands {
  const { store, clock, repository } = deps;
  const outbox = createCommandOutbox<RetryReservation>(store, deps.eventLog, RETRY_OUTBOX);
  const running = new Map<string, Promise<void>>();

  async function retryEnrollment(req: enrollmentsV1.RetryEnrollmentRequest): Promise<enrollmentsV1.RetryEnrollmentResponse> {
    if (!req.tenantId) throw new ValidationError('tenant_id is required');
    const mine = tenantScoped(store, req.tenantId);
    const state = await mine.get<EnrollmentStateDoc>(ENROLLMENT_STATE_COLLECTIONS.states, req.enrollmentId);
    if (!state) throw new NotFoundError(`enrollment ${req.enrollmentId} not found`);
    const doc = state.doc;
    if (doc.status !== 'failed') throw new CodestepError('FAILED_PRECONDITION', `enrollment ${req.enrollmentId} is ${doc.status}: only a failed enrollment can be retried`);
    const failed = doc.failedContext;
    if (!failed) throw new CodestepError('FAILED_PRECONDITION', `enrollment ${req.enrollmentId} failed before its failed step was recorded (no context to resume from): enroll the object again`);
    await refuseUnlessEnabled(repository, req.tenantId, doc.workflowId);
    const round = (failed.retryRound ?? 0) + 1;
    const key = tenantKey(req.tenantId, `${req.enrollmentId}#retry@${round}`);
    const held = await outbox.get(key);
    if (held) return held.response;
    const wf = await repository.load(req.tenantId, doc.workflowId, req.onLatestVersion ? 0 : failed.workflowVersion);
    const envs = deps.stampGrants(wf, retryFailedEnrollment(wf, failed, { tenantId: req.tenantId, inputFields: req.inputFields?.fields, reason: req.reason, jobId: req.jobId }, clock()));
    const retried = envs[0]?.event.$case === 'enrollmentRetried' ? envs[0].event.value : undefined;
    if (!retried) throw new Error('a retry decided no EnrollmentRetried');
    const response = { enrollmentId: req.enrollmentId, round, executionId: retried.executionId, workflowVersion: wf.version, actionId: retried.actionId };
    const { reservation } = await outbox.reserve(key, { tenantId: req.tenantId, response, records: reserveRecords(envs) });
    await outbox.append(reservation);
    return reservation.response;
  }

  async function job(tenantId: string, jobId: string): Promise<RetryJobDoc> {
    const found = await tenantScoped(store, tenantId).get<RetryJobDoc>(ENROLLMENT_STATE_COLLECTIONS.retryJobs, jobId);
    if (!found) throw new NotFoundError(`retry job ${jobId} not found`);
    return found.doc;
  }

  /** Retries the job's pending items one by one; a refusal is the item's outcome, not the job's end. */
  function work(tenantId: string, j: RetryJobDoc, onLatestVersion: boolean): Promise<void> {
    if (running.has(j.jobId)) return running.get(j.jobId)!;
    const run = (async () => {
      for (const item of (await jobView(store, tenantId, j)).items) {
        if (item.status !== 'pending') continue;
        try {
          await retryEnrollment({ tenantId, enrollmentId: item.enrollmentId, onLatestVersion, inputFields: undefined, reason: `retry job ${j.jobId}`, jobId: j.jobId });
        } catch (error) {
          deps.logger.warn({ jobId: j.jobId, enrollmentId: item.enrollmentId, error }, 'retry job item not retried');
        }
      }
    })().finally(() => running.delete(j.jobId));
    running.set(j.jobId, run);
    return run;
  }

  return {
    retryEnrollment,
    async startRetryJob(req) {
      if (!req.tenantId) throw new ValidationError('tenant_id is required');
      const limit = req.limit || 100;
      if (limit > MAX_RETRY_JOB) throw new ValidationError(`limit must be at most ${MAX_RETRY_JOB} enrollments per job`, { field: 'limit' });
      await repository.state(req.tenantId, req.workflowId); // NOT_FOUND for no such workflow
      const jobId = req.requestId ? deterministicId('rjob', req.tenantId, req.requestId) : newId('rjob');
      const mine = tenantScoped(store, req.tenantId);
      const known = await mine.get<RetryJobDoc>(ENROLLMENT_STATE_COLLECTIONS.retryJobs, jobId);
      if (known) return jobView(store, req.tenantId, known.doc);
      const matches = await matchFailed(store, req);
      const started = retryJobStarted(req, jobId, limit, matches, clock());
      const record = toRecord(started, currentTraceparent());
      await deps.eventLog.append([record]);
      await applyEnrollmentStates(store, [{ ...record, partition: 0, offset: 0 }]);
      const j = await job(req.tenantId, jobId);
      void work(req.tenantId, j, req.onLatestVersion);
      return jobView(store, req.tenantId, j);
    },
    getRetryJob: async (req) => jobView(store, req.tenantId, await job(req.tenantId, req.jobId)),
    async resume() {
      const jobs = await store.find<RetryJobDoc>(ENROLLMENT_STATE_COLLECTIONS.retryJobs, { limit: 10_000 });
      for (const { doc } of jobs) {
        const options = JSON.parse(doc.filterJson) as { onLatestVersion?: boolean };
        if ((await jobView(store, doc.tenantId, doc)).items.some((i) => i.status === 'pending')) void work(doc.tenantId, doc, options.onLatestVersion ?? false);
      }
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running.values()]);
    },
  };
}
