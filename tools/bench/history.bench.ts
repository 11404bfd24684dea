/**
 * History list benchmark: one workflow with 100,000 enrollments (and 20,000 of another workflow),
 * projected by the history projection itself (EnrollmentStarted, then Completed or Failed), then
 * GET /v1/enrollments over HTTP through the gateway's own route, a page of 50 at a time with the
 * console's filters: none, the workflow, its failures, an object id, a time range, and deep pages
 * reached with the console's paging (lib/history-query.ts). The history queries run in process (no
 * gRPC hop: that is the same few milliseconds whatever the history holds). Reports the median and
 * p95 ms per page against the issue's budget of 200 ms.
 *   node tools/bench/history.bench.ts [enrollments=100000] [requests per case=20]
 * SQLite (embedded mode) always; MongoDB too when MONGODB_URI is set (eval "$(bash infra/local/up.sh)").
 * BENCH_OLD_INDEXES=1 builds the indexes the history had before the filters (for comparison).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@codestep/core';
import { Topics, envelope, toRecord, type EventBody } from '@codestep/events';
import { apiRoutes, startGateway, type ApiClients, type TenantLimitsOf, type Tenants } from '@codestep/gateway-service';
import { HISTORY_COLLECTIONS, applyToHistory, createHistoryQueries, ensureHistoryCollections } from '@codestep/history-service';
import type { DocumentStore, ProjectedRecord } from '@codestep/store';
import { MongoStore } from '@codestep/store-mongodb';
import { SqliteStore } from '@codestep/store-sqlite';
import { listQuery, takePage, type HistoryFilters, type PageCursor } from '../../apps/console/src/web/lib/history-query.ts';

const N = Number(process.argv[2] ?? 100_000);
const REQUESTS = Number(process.argv[3] ?? 20);
const OTHER = Math.round(N / 5);
const PAGE = 50;
const BUDGET_MS = 200;
const TENANT = 'tnt_bench';
const WF = 'wf_bench';
const DAY = 24 * 3600_000;
const NOW = Date.parse('2026-12-07T12:00:00Z');
/** Enrollments over 30 days, newest last; every 11th fails, the last 100 still run; objects repeat (5 enrollments each). */
const startedAt = (i: number, n: number) => NOW - 30 * DAY + Math.floor((i * 30 * DAY) / n);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function fill(store: DocumentStore): Promise<number> {
  if (process.env.BENCH_OLD_INDEXES) {
    await store.ensureCollection(HISTORY_COLLECTIONS.enrollments, [{ fields: ['tenantId', 'startedAt'] }, { fields: ['tenantId', 'workflowId'] }, { fields: ['tenantId', 'status'] }]);
  } else await ensureHistoryCollections(store);
  const t0 = performance.now();
  let offset = 0;
  const record = (aggregateId: string, occurredAt: number, body: EventBody): ProjectedRecord => ({
    ...toRecord(envelope({ eventId: `e${offset}`, tenantId: TENANT, aggregateId, correlationId: aggregateId, occurredAt }, body)),
    topic: Topics.enrollments,
    partition: 0,
    offset: offset++,
  });
  const runs = [
    { workflowId: WF, n: N },
    { workflowId: 'wf_other', n: OTHER },
  ];
  for (const { workflowId, n } of runs) {
    for (let from = 0; from < n; from += 2000) {
      const batch: ProjectedRecord[] = [];
      for (let i = from; i < Math.min(n, from + 2000); i++) {
        const id = `enr_${workflowId}_${i}`;
        const at = startedAt(i, n);
        const object = { objectType: 'CONTACT', objectId: String(Math.floor(i / 5)), properties: { email: `c${i}@example.com` } };
        batch.push(record(id, at, { $case: 'enrollmentStarted', value: { enrollmentId: id, workflowId, workflowVersion: 1, object, actionCount: 2, trigger: undefined } }));
        if (i >= n - 100) continue;
        if (i % 11 === 0)
          batch.push(
            record(id, at + 40, {
              $case: 'enrollmentFailed',
              value: { enrollmentId: id, failedActionId: 'two', error: { code: 'RATE_LIMITED', message: '429 from the CRM', retryable: true, retryAfterMs: 0 } },
            }),
          );
        else batch.push(record(id, at + 40, { $case: 'enrollmentCompleted', value: { enrollmentId: id, outputs: {} } }));
      }
      await applyToHistory(store, batch);
    }
  }
  return Math.round(performance.now() - t0);
}

/** One case: `pages` pages in a row from the first, the console's way; the time of each request of the last page. */
async function pagesOf(url: string, filters: HistoryFilters, pages: number): Promise<{ ms: number[]; rows: number }> {
  const ms: number[] = [];
  let rows = 0;
  for (let r = 0; r < REQUESTS; r++) {
    let cursor: PageCursor | undefined;
    for (let p = 0; p < pages; p++) {
      const t = performance.now();
      const res = await fetch(`${url}/v1/enrollments?${listQuery(filters, PAGE, cursor)}`, { headers: { authorization: 'Bearer csk_bench' }, signal: AbortSignal.timeout(60_000) });
      const body = (await res.json()) as { enrollments: { id: string; startedAt: string | null }[]; error?: { message: string } };
      if (!res.ok) throw new Error(`GET /v1/enrollments answered ${res.status}: ${body.error?.message}`);
      const page = takePage(body.enrollments, PAGE, cursor);
      if (p === pages - 1) {
        ms.push(performance.now() - t);
        rows = page.rows.length;
      }
      cursor = page.next;
      if (!cursor) break;
    }
  }
  return { ms, rows };
}

const local = (ms: number) => {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

async function measure(name: string, store: DocumentStore): Promise<Record<string, unknown>> {
  const fillMs = await fill(store);
  const history = createHistoryQueries(store);
  const tenants = { authenticate: async () => TENANT } as unknown as Tenants;
  const limitsOf = (async () => ({ bounds: undefined, policy: undefined })) as unknown as TenantLimitsOf;
  const gateway = await startGateway({ host: '127.0.0.1', port: 0, routes: apiRoutes({ history } as unknown as ApiClients, limitsOf), tenants, logger: silentLogger });
  const none: HistoryFilters = { workflowId: '', status: '', objectId: '', since: '', until: '' };
  const wf = { ...none, workflowId: WF };
  const cases: [string, HistoryFilters, number][] = [
    ['all workflows, page 1', none, 1],
    ['the workflow, page 1', wf, 1],
    ['the workflow, page 20 (1,000 rows in)', wf, 20],
    ['the workflow, failed, page 1', { ...wf, status: 'failed' }, 1],
    ['the workflow, failed, page 20', { ...wf, status: 'failed' }, 20],
    ['the workflow, running (100 of 100,000), page 1', { ...wf, status: 'running' }, 1],
    ['an object id (5 enrollments)', { ...wf, objectId: '4242' }, 1],
    ['the workflow, one day 10 days ago, page 1', { ...wf, since: local(NOW - 10 * DAY), until: local(NOW - 9 * DAY) }, 1],
    ['the workflow, failed, last 7 days, page 5', { ...wf, status: 'failed', since: local(NOW - 7 * DAY) }, 5],
  ];
  const out: Record<string, unknown> = {
    store: name,
    enrollments: N + OTHER,
    ofTheWorkflow: N,
    fillSeconds: Math.round(fillMs / 100) / 10,
    indexes: process.env.BENCH_OLD_INDEXES ? 'old' : 'current',
  };
  try {
    await pagesOf(gateway.url, wf, 1); // warm-up
    const results: Record<string, unknown>[] = [];
    for (const [label, filters, pages] of cases) {
      const r = await pagesOf(gateway.url, filters, pages);
      const p50 = Math.round(pct(r.ms, 50) * 10) / 10;
      const p95 = Math.round(pct(r.ms, 95) * 10) / 10;
      results.push({ case: label, rows: r.rows, p50Ms: p50, p95Ms: p95, withinBudget: p95 < BUDGET_MS });
    }
    out.pages = results;
    out.allWithinBudget = results.every((r) => r.withinBudget);
  } finally {
    await gateway.close();
  }
  return out;
}

/** Each store's report as soon as it is done (a store that fails says why; the others still report). */
async function report(name: string, run: () => Promise<Record<string, unknown>>): Promise<boolean> {
  let out: Record<string, unknown>;
  try {
    out = await run();
  } catch (error) {
    out = { store: name, failed: error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error) };
  }
  process.stdout.write(JSON.stringify({ budgetMsPerPage: BUDGET_MS, pageSize: PAGE, requestsPerCase: REQUESTS, ...out }, null, 2) + '\n');
  return out.allWithinBudget === true;
}

const dir = mkdtempSync(join(tmpdir(), 'history-bench-'));
let ok = true;
try {
  ok = await report('sqlite', async () => {
    const sqlite = new SqliteStore({ path: join(dir, 'history.db') });
    try {
      return await measure('sqlite', sqlite);
    } finally {
      await sqlite.close();
    }
  });
  const uri = process.env.MONGODB_URI;
  if (uri) {
    const database = `codestep_bench_${randomUUID().slice(0, 8)}`;
    ok =
      (await report('mongodb', async () => {
        const mongo = new MongoStore({ uri, database });
        try {
          return await measure('mongodb', mongo);
        } finally {
          await mongo.close();
          const { MongoClient } = await import('mongodb');
          const admin = new MongoClient(uri);
          await admin.db(database).dropDatabase();
          await admin.close();
        }
      })) && ok;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (!ok) process.exitCode = 1;
