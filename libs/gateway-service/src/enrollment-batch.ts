/**
 * Bulk enrollment: `POST /v1/workflows/{id}/enrollments:batch` takes a JSON array or NDJSON of up
 * to 100,000 objects and answers at once with a job. Every row is checked first: a bad row is a
 * per-row error (its line and the reason) and never stops the good ones. The good rows are stored
 * in chunks before the answer (nothing accepted is lost), then enrolled in the background, each
 * under its own idempotency key (the row's `idempotencyKey`, else one derived from the job and its
 * line), so a job cut short by a crash is resumed when the gateway starts and enrolls each row
 * exactly once: the enrollment service records every key it enrolled.
 *
 * The job's bookkeeping (chunks, counts) lives in the gateway's store, like webhook tokens; what
 * it causes (each EnrollmentStarted, with its request id) is in the log.
 *
 * A workflow with `crmProperties` gets them read from HubSpot as for a single enrollment, with the
 * account's only active HubSpot connection: the rows of a block of up to 100 that lack some are
 * read together (one batch read per object type), each row's read recorded on its enrollment.
 */
import { NotFoundError, ValidationError, deterministicId, isCodestepError, newId, type Logger } from '@codestep/core';
import type { LimitPolicy } from '@codestep/contracts';
import { withoutCallDeadline } from '@codestep/rpc';
import { tenantScoped, type DocumentStore } from '@codestep/store';
import type { ApiClients } from './api.routes.ts';
import { defaultHubSpotConnection, type BatchRead, type CrmObjectInput, type CrmPrefetcher, type CrmPropertiesFetcher } from './hubspot/crm-properties.ts';
import { MAX_BATCH_READ } from './hubspot/hubspot-object.reader.ts';
import type { Route, RouteRequest } from './router.ts';
import type { TenantLimitsOf } from './tenant-limits.routes.ts';

/** Most rows of one batch. */
export const MAX_BATCH_ROWS = 100_000;
/** Most bytes of one batch's body. */
export const MAX_BATCH_BYTES = 64 * 1024 * 1024;
/** Rows per stored chunk. */
const CHUNK_ROWS = 1000;
/** Row errors a job keeps (the count is exact). */
const MAX_KEPT_ERRORS = 1000;
/** Enroll calls in flight per job. */
const CONCURRENCY = 16;

const JOBS = 'enrollment_batches';
const CHUNKS = 'enrollment_batch_chunks';
const PROGRESS = 'enrollment_batch_progress';
/** Tries of one row while the enrollment service is unreachable (about five minutes). */
const TRANSIENT_TRIES = 60;

export interface BatchRow {
  line: number;
  key: string;
  object: { objectType: string; objectId: string; properties: Record<string, string> };
}

export interface RowError {
  line: number;
  reason: string;
}

interface JobDoc {
  jobId: string;
  workflowId: string;
  format: 'json' | 'ndjson';
  total: number;
  accepted: number;
  chunks: number;
  rowErrors: RowError[];
  rowErrorCount: number;
  limits: LimitPolicy | null;
  createdAt: number;
}

/** A chunk's rows, written once. */
interface ChunkDoc {
  jobId: string;
  index: number;
  rows: BatchRow[];
}

/** A chunk's progress, apart from its rows (small, written after every slice). */
interface ProgressDoc {
  jobId: string;
  /** Rows of the chunk processed (enrolled or refused), in order. */
  done: number;
  enrolled: number;
  refused: RowError[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One row, checked: the object (bare, or under `object`) and its key; throws the reason. */
function parseRow(raw: unknown, line: number, jobId: string): BatchRow {
  if (!isObj(raw)) throw new Error('must be an object like {"objectId": "123", "properties": {"email": "a@b.c"}}');
  const o = isObj(raw.object) ? raw.object : raw;
  const known = new Set(['object', 'objectId', 'objectType', 'properties', 'idempotencyKey']);
  const unknown = Object.keys(raw).find((k) => !known.has(k));
  if (unknown) throw new Error(`"${unknown}" is not a field of a row; use objectId, objectType, properties, idempotencyKey (or object)`);
  const id = o.objectId;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).trim() === '') throw new Error('objectId is required (a string or number)');
  const properties: Record<string, string> = {};
  if (o.properties !== undefined && !isObj(o.properties)) throw new Error('properties must be an object of property name to value');
  for (const [k, v] of Object.entries(o.properties ?? {})) {
    if (v === null || v === undefined) continue;
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new Error(`properties.${k} must be a string, number or boolean`);
    properties[k] = String(v);
  }
  if (o.objectType !== undefined && typeof o.objectType !== 'string') throw new Error('objectType must be a string');
  const key = raw.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key === '' || key.length > 200)) throw new Error('idempotencyKey must be a string of 1 to 200 characters');
  return {
    line,
    key: typeof key === 'string' ? key : `${jobId}:${line}`,
    object: { objectType: typeof o.objectType === 'string' ? o.objectType.toUpperCase() : '', objectId: String(id), properties },
  };
}

/** The rows of a body (a JSON array, or NDJSON: one JSON object per line), each checked; lines are 1-based. */
export function parseBatch(text: string, jobId: string): { format: 'json' | 'ndjson'; rows: BatchRow[]; errors: RowError[]; total: number } {
  const rows: BatchRow[] = [];
  const errors: RowError[] = [];
  const take = (raw: unknown, line: number) => {
    try {
      rows.push(parseRow(raw, line, jobId));
    } catch (error) {
      errors.push({ line, reason: error instanceof Error ? error.message : String(error) });
    }
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch (error) {
      throw new ValidationError(`the body starts like a JSON array but is not valid JSON (${error instanceof Error ? error.message : 'parse error'}); send a JSON array of objects, or NDJSON`);
    }
    if (!Array.isArray(items)) throw new ValidationError('send a JSON array of objects, or NDJSON');
    if (items.length > MAX_BATCH_ROWS) throw new ValidationError(`a batch holds at most ${MAX_BATCH_ROWS} objects, got ${items.length}; split it`);
    items.forEach((item, i) => take(item, i + 1));
    return { format: 'json', rows, errors, total: items.length };
  }
  const lines = text.split('\n');
  let total = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    if (++total > MAX_BATCH_ROWS) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      errors.push({ line: i + 1, reason: 'not valid JSON: each line must be one JSON object' });
      return;
    }
    take(parsed, i + 1);
  });
  if (total > MAX_BATCH_ROWS) throw new ValidationError(`a batch holds at most ${MAX_BATCH_ROWS} objects, got ${total}; split it`);
  return { format: 'ndjson', rows, errors, total };
}

export interface EnrollmentBatchOptions {
  store: DocumentStore;
  clock: () => number;
  logger: Logger;
  limitsOf: TenantLimitsOf;
  /** Reads the workflow's `crmProperties` rows lack from HubSpot (`./hubspot/crm-properties.ts`); absent: nothing read. */
  crm?: { fetch: CrmPropertiesFetcher; prefetch: CrmPrefetcher };
}

/** A row's object as it is enrolled: completed with what was read from HubSpot, and the read's record. */
type Prepared = Awaited<ReturnType<CrmPropertiesFetcher>>;

/** The rows `from` to `to` (excluded) of a chunk, and each one's object prepared for enrolling (`i`: its index in the chunk). */
interface CrmBlock {
  from: number;
  to: number;
  prepare(i: number): Promise<Prepared>;
}

/**
 * The block of up to {@link MAX_BATCH_READ} rows from `from`: each row's object with the
 * workflow's `crmProperties` it lacks, the rows needing some read together. A block whose batch
 * read could not be prepared (the workflow or connections unreachable) reads row by row, each
 * retried with its enrollment.
 */
async function crmBlock(c: ApiClients, crm: NonNullable<EnrollmentBatchOptions['crm']>, tenantId: string, workflowId: string, chunk: readonly BatchRow[], from: number): Promise<CrmBlock> {
  const rows = chunk.slice(from, from + MAX_BATCH_READ);
  const block = (prepare: (k: number) => Promise<Prepared>): CrmBlock => ({ from, to: from + rows.length, prepare: (i) => prepare(i - from) });
  const one = (k: number, extra: Partial<Parameters<CrmPropertiesFetcher>[0]> = {}) => crm.fetch({ tenantId, workflowId, object: rows[k]!.object, ...extra });
  try {
    const workflow = await c.workflows.getWorkflow({ tenantId, workflowId, version: 0 });
    const connection = workflow.crmProperties?.names.length ? await defaultHubSpotConnection(c, tenantId) : undefined;
    if (connection === undefined) return block(async (k) => ({ object: rows[k]!.object }));
    const typed = (o: CrmObjectInput) => ({ ...o, objectType: o.objectType || workflow.objectType });
    const batches = connection ? await crm.prefetch(rows.map((r) => ({ tenantId, connection, workflowId, object: typed(r.object) }))) : new Map<number, BatchRead>();
    return block((k) => one(k, { workflow, connection: connection || undefined, batch: batches.get(k) }));
  } catch (error) {
    if (!isCodestepError(error)) throw error;
    return block((k) => one(k));
  }
}

export interface EnrollmentBatches {
  routes: Route[];
  /** Creates the collections and resumes the jobs a stop cut short. */
  start(): Promise<void>;
  /** Waits for the jobs running here (tests). */
  idle(): Promise<void>;
  /** Stops the jobs after the rows in flight; what is left resumes at the next start. */
  stop(): Promise<void>;
}

/** A job's progress, from its chunks' progress documents. */
async function batchView(store: DocumentStore, tenantId: string, job: JobDoc): Promise<Record<string, unknown>> {
  const mine = tenantScoped(store, tenantId);
  const chunks = [
    ...(
      await mine.getMany<ProgressDoc>(
        PROGRESS,
        Array.from({ length: job.chunks }, (_, i) => `${job.jobId}#${i}`),
      )
    ).values(),
  ].map((d) => d.doc);
  const done = chunks.reduce((n, ch) => n + ch.done, 0);
  const enrolled = chunks.reduce((n, ch) => n + ch.enrolled, 0);
  const refused = chunks.flatMap((ch) => ch.refused);
  const errors = [...job.rowErrors, ...refused].sort((a, b) => a.line - b.line).slice(0, MAX_KEPT_ERRORS);
  return {
    jobId: job.jobId,
    workflowId: job.workflowId,
    status: done >= job.accepted ? 'done' : 'running',
    format: job.format,
    total: job.total,
    accepted: job.accepted,
    processed: done,
    enrolled,
    failed: job.rowErrorCount + refused.length,
    errors,
    errorsTruncated: job.rowErrorCount + refused.length > errors.length,
    createdAt: new Date(job.createdAt).toISOString(),
    links: { self: `/v1/enrollment-batches/${job.jobId}`, enrollments: `/v1/enrollments?workflowId=${job.workflowId}` },
  };
}

/** Checks a batch and stores its rows, then the job (a job found always has all its chunks); the same key finds the same job. */
async function acceptBatch(c: ApiClients, options: EnrollmentBatchOptions, req: RouteRequest): Promise<{ job: JobDoc; created: boolean }> {
  const { store } = options;
  const workflowId = req.params.id!;
  await c.workflows.getWorkflow({ tenantId: req.tenantId, workflowId, version: 0 }); // 404 for another tenant's
  const key = req.headers['idempotency-key'] ?? '';
  if (key.length > 200) throw new ValidationError('Idempotency-Key must be at most 200 characters', { field: 'Idempotency-Key' });
  const jobId = key ? deterministicId('bat', req.tenantId, workflowId, key) : newId('bat');
  const mine = tenantScoped(store, req.tenantId);
  const known = await mine.get<JobDoc>(JOBS, jobId);
  if (known) return { job: known.doc, created: false };
  const text = typeof req.body === 'string' ? req.body : '';
  if (!text.trim()) throw new ValidationError('the body is empty: send a JSON array of objects, or NDJSON (one {"objectId": …} per line)');
  const parsed = parseBatch(text, jobId);
  const { policy } = await options.limitsOf(req.tenantId);
  const chunks = Math.ceil(parsed.rows.length / CHUNK_ROWS);
  // The rows first, then the job: a job found always has all its chunks.
  for (let i = 0; i < chunks; i++) await mine.put<ChunkDoc>(CHUNKS, `${jobId}#${i}`, { jobId, index: i, rows: parsed.rows.slice(i * CHUNK_ROWS, (i + 1) * CHUNK_ROWS) });
  const job: JobDoc = {
    jobId,
    workflowId,
    format: parsed.format,
    total: parsed.total,
    accepted: parsed.rows.length,
    chunks,
    rowErrors: parsed.errors.slice(0, MAX_KEPT_ERRORS),
    rowErrorCount: parsed.errors.length,
    limits: policy ?? null,
    createdAt: options.clock(),
  };
  if (!(await mine.insertIfAbsent<JobDoc>(JOBS, jobId, job))) return { job: (await mine.get<JobDoc>(JOBS, jobId))!.doc, created: false };
  return { job, created: true };
}

/** Enrolls one row: undefined when enrolled, its error when refused, 'stopped' when the gateway stopped first (the row stays to do). */
async function enrollRow(c: ApiClients, stopped: () => boolean, tenantId: string, job: JobDoc, row: BatchRow, prepare?: () => Promise<Prepared>): Promise<RowError | undefined | 'stopped'> {
  let prepared: Prepared | undefined;
  for (let attempt = 1; ; attempt++) {
    if (stopped()) return 'stopped';
    try {
      prepared ??= prepare ? await prepare() : { object: row.object };
      const { object, crmRead } = prepared;
      await c.enrollments.enroll({ tenantId, workflowId: job.workflowId, object, crmRead, requestId: row.key, portalId: 0, trigger: undefined, limits: job.limits ?? undefined });
      return undefined;
    } catch (error) {
      const code = isCodestepError(error) ? error.code : 'INTERNAL';
      const transient = ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'STORE_UNAVAILABLE', 'EVENT_LOG_UNAVAILABLE', 'CONFLICT', 'ABORTED'].includes(code);
      if (!transient || attempt >= TRANSIENT_TRIES) return { line: row.line, reason: `${code}: ${error instanceof Error ? error.message : String(error)}` };
      await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * attempt)));
    }
  }
}

export function enrollmentBatches(c: ApiClients, options: EnrollmentBatchOptions): EnrollmentBatches {
  const { store } = options;
  const running = new Map<string, Promise<void>>();
  let stopped = false;

  /** Enrolls the rows of each chunk not done yet, recording progress per slice of the chunk. */
  function work(tenantId: string, job: JobDoc): Promise<void> {
    if (running.has(job.jobId)) return running.get(job.jobId)!;
    const mine = tenantScoped(store, tenantId);
    const run = (async () => {
      for (let index = 0; index < job.chunks; index++) {
        const chunkId = `${job.jobId}#${index}`;
        const [rows, stored] = await Promise.all([mine.get<ChunkDoc>(CHUNKS, chunkId), mine.get<ProgressDoc>(PROGRESS, chunkId)]);
        if (!rows) continue;
        const progress: ProgressDoc = stored?.doc ?? { jobId: job.jobId, done: 0, enrolled: 0, refused: [] };
        let block: CrmBlock | undefined;
        while (progress.done < rows.doc.rows.length) {
          if (options.crm && (!block || progress.done >= block.to)) block = await crmBlock(c, options.crm, tenantId, job.workflowId, rows.doc.rows, progress.done);
          const slice = rows.doc.rows.slice(progress.done, Math.min(progress.done + CONCURRENCY, block?.to ?? Infinity));
          const at = progress.done;
          const current = block;
          const outcomes = await Promise.all(slice.map((row, k) => enrollRow(c, () => stopped, tenantId, job, row, current && (() => current.prepare(at + k)))));
          // Stopping: this slice is recorded by nobody and done again at the next start (the keys make that safe).
          if (outcomes.includes('stopped')) return;
          const results = outcomes as Array<RowError | undefined>;
          for (const r of results) if (r) progress.refused.push(r);
          progress.enrolled += results.filter((r) => !r).length;
          progress.done += slice.length;
          await mine.put<ProgressDoc>(PROGRESS, chunkId, progress);
        }
      }
    })()
      .catch((error: unknown) => options.logger.error({ jobId: job.jobId, error }, 'enrollment batch stopped; it resumes at the next start'))
      .finally(() => running.delete(job.jobId));
    running.set(job.jobId, run);
    return run;
  }

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/v1/workflows/:id/enrollments:batch',
      auth: 'tenant',
      rawBody: { maxBytes: MAX_BATCH_BYTES },
      handle: async (req) => {
        const { job, created } = await acceptBatch(c, options, req);
        // The job outlives the request: its calls keep their own deadlines, not the caller's (public gRPC API).
        if (created) withoutCallDeadline(() => void work(req.tenantId, job));
        return { status: 202, body: await batchView(store, req.tenantId, job) };
      },
    },
    {
      method: 'GET',
      path: '/v1/enrollment-batches/:id',
      auth: 'tenant',
      handle: async (req) => {
        const found = await tenantScoped(store, req.tenantId).get<JobDoc>(JOBS, req.params.id!);
        if (!found) throw new NotFoundError(`enrollment batch ${req.params.id} not found`);
        return { status: 200, body: await batchView(store, req.tenantId, found.doc) };
      },
    },
  ];

  return {
    routes,
    async start() {
      await store.ensureCollection(JOBS, [{ fields: ['tenantId', 'createdAt'] }]);
      await store.ensureCollection(CHUNKS, [{ fields: ['tenantId', 'jobId'] }]);
      await store.ensureCollection(PROGRESS, [{ fields: ['tenantId', 'jobId'] }]);
      for (const { doc } of await store.find<JobDoc & { tenantId: string }>(JOBS, { limit: 100_000 })) {
        const v = await batchView(store, doc.tenantId, doc);
        if (v.status === 'running') void work(doc.tenantId, doc);
      }
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running.values()]);
    },
    async stop() {
      stopped = true;
      await Promise.allSettled([...running.values()]);
    },
  };
}
