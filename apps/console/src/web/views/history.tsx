/**
 * History: enrollments newest first (GET /v1/enrollments) filtered by workflow, status, object id
 * and when they started, a page at a time; and, for one workflow's failures, a bulk retry
 * (POST /v1/workflows/{id}/retries) whose progress is followed (GET /v1/retries/{id}).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Json } from '../api.ts';
import { useLoad, useSession, when } from '../hooks.ts';
import { hoursAgo, listQuery, localToIso, takePage, type HistoryFilters, type PageCursor } from '../lib/history-query.ts';
import { hrefOf } from '../lib/routes.ts';
import { ErrorNote, Link, Loading, Status } from '../widgets.tsx';
import type { WorkflowSummary } from './workflows.tsx';

export interface LogLine {
  level: string;
  message: string;
  at: string | null;
}

export interface Execution {
  id: string;
  actionId: string;
  step: number;
  attempt: number;
  status: string;
  inputFields: Json;
  outputFields: Json;
  returnValue?: unknown;
  logs: LogLine[];
  logsTotal: number;
  nextLinesAfter: number | null;
  error: { code: string; message: string; retryable: boolean } | null;
  durationMs: number;
  traceId: string | null;
  requestedAt: string | null;
  finishedAt: string | null;
  retryDueAt?: string | null;
  /** JsWorkflows: the step (method) this execution ran, its branch and chain depth, and when it was due. */
  workflowStep?: { name: string; branch: string; depth: number; scheduledBy: string | null; dueAt: string | null };
  /** JsWorkflows: the wait for a resume URL this step started (waiting, resumed or timed out). */
  wait?: { state: string; timeoutAt: string | null; endedAt: string | null; resumedBy: string | null; redirectUrl: string | null };
  /** A dry run: its writes held back (null when the platform ended the action). */
  dryRun?: boolean;
  dryRunLedger?: { writes: unknown[]; dropped: number } | null;
}

export interface Enrollment {
  id: string;
  workflowId: string;
  workflowVersion: number;
  object: { objectType: string; objectId: string; properties: Json } | null;
  status: string;
  error: { code: string; message: string; actionId: string } | null;
  startedAt: string | null;
  finishedAt: string | null;
  dryRun?: boolean;
  executions: Execution[];
}

export type { HistoryFilters };

const PAGE = 50;

const QUICK_RANGES: [string, number][] = [
  ['Last hour', 1],
  ['Last 24 hours', 24],
  ['Last 7 days', 24 * 7],
];

export function HistoryView(props: HistoryFilters) {
  const { api, navigate } = useSession();
  const workflows = useLoad(() => api.get<{ workflows: WorkflowSummary[] }>('/v1/workflows'), []);
  const names = new Map((workflows.data?.workflows ?? []).map((w) => [w.id, w.name]));
  const filter = (patch: Partial<HistoryFilters>) => navigate(hrefOf({ name: 'history', ...props, ...patch }));
  const list = usePages(props);
  const problem = props.since && !localToIso(props.since) ? 'Started after is not a time.' : props.until && !localToIso(props.until) ? 'Started before is not a time.' : '';
  return (
    <>
      <h1>History</h1>
      <Filters filters={props} workflows={workflows.data?.workflows ?? []} onFilter={filter} onRefresh={list.reload} />
      {problem ? (
        <p class="alert" role="alert">
          {problem}
        </p>
      ) : null}
      <ErrorNote error={list.error} what="Could not list the enrollments" />
      <Loading loading={list.loading && list.rows.length === 0} />
      {!list.loading && !list.error && list.rows.length === 0 ? <p>No enrollments match.</p> : null}
      {list.rows.length ? <EnrollmentTable rows={list.rows} names={names} /> : null}
      {list.more ? (
        <p class="row">
          <button type="button" class="secondary" onClick={list.loadMore} disabled={list.loading}>
            {list.loading ? 'Loading…' : `Show ${PAGE} older`}
          </button>
          <span class="muted">
            {list.rows.length} shown{list.lastMs !== undefined ? ` · page read in ${list.lastMs} ms` : ''}
          </span>
        </p>
      ) : list.rows.length ? (
        <p class="muted">
          All {list.rows.length} shown{list.lastMs !== undefined ? ` · last page read in ${list.lastMs} ms` : ''}.
        </p>
      ) : null}
      {props.workflowId && props.status === 'failed' ? (
        <BulkRetry key={props.workflowId} workflowId={props.workflowId} name={names.get(props.workflowId) ?? props.workflowId} filters={props} onProgress={list.reload} />
      ) : null}
    </>
  );
}

/** The list a page at a time: the first page when the filters change, older pages appended on demand. */
function usePages(filters: HistoryFilters) {
  const { api } = useSession();
  const [rows, setRows] = useState<Enrollment[]>([]);
  const [cursor, setCursor] = useState<PageCursor | undefined>();
  const [state, setState] = useState<{ loading: boolean; error: Error | undefined; lastMs: number | undefined }>({ loading: true, error: undefined, lastMs: undefined });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  const load = async (after: PageCursor | undefined, append: boolean) => {
    const mine = ++run.current;
    setState((s) => ({ ...s, loading: true }));
    const started = performance.now();
    try {
      const out = await api.get<{ enrollments: Enrollment[] }>(`/v1/enrollments?${listQuery(filters, PAGE, after)}`);
      if (mine !== run.current) return;
      const page = takePage(out.enrollments, PAGE, after);
      setRows((r) => (append ? [...r, ...page.rows] : page.rows));
      setCursor(page.next);
      setState({ loading: false, error: undefined, lastMs: Math.round(performance.now() - started) });
    } catch (e) {
      if (mine !== run.current) return;
      setState((s) => ({ ...s, loading: false, error: e instanceof Error ? e : new Error(String(e)) }));
    }
  };
  const filterKey = [filters.workflowId, filters.status, filters.objectId, filters.since, filters.until].join('\u0000');
  // Other filters: the rows of the last ones go at once (a refresh keeps them until the answer).
  useEffect(() => {
    setRows([]);
    setCursor(undefined);
  }, [filterKey]);
  useEffect(() => {
    void load(undefined, false);
  }, [filterKey, tick]);
  return { rows, ...state, more: cursor !== undefined, loadMore: () => void load(cursor, true), reload: () => setTick((t) => t + 1) };
}

function Filters(props: { filters: HistoryFilters; workflows: WorkflowSummary[]; onFilter(patch: Partial<HistoryFilters>): void; onRefresh(): void }) {
  const f = props.filters;
  const [objectId, setObjectId] = useState(f.objectId);
  const [since, setSince] = useState(f.since);
  const [until, setUntil] = useState(f.until);
  useEffect(() => {
    setObjectId(f.objectId);
    setSince(f.since);
    setUntil(f.until);
  }, [f.objectId, f.since, f.until]);
  return (
    <form
      class="filters"
      role="search"
      aria-label="Filter enrollments"
      onSubmit={(e) => {
        e.preventDefault();
        props.onFilter({ objectId: objectId.trim(), since, until });
      }}
    >
      <div class="row">
        <div>
          <label for="history-workflow">Workflow</label>
          <select id="history-workflow" value={f.workflowId} onChange={(e) => props.onFilter({ workflowId: e.currentTarget.value })}>
            <option value="">All workflows</option>
            {props.workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="history-status">Status</label>
          <select id="history-status" value={f.status} onChange={(e) => props.onFilter({ status: e.currentTarget.value })}>
            <option value="">Any status</option>
            <option value="running">running</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div>
          <label for="history-object">Object id</label>
          <input id="history-object" value={objectId} onInput={(e) => setObjectId(e.currentTarget.value)} size={12} />
        </div>
        <div>
          <label for="history-since">Started after</label>
          <input id="history-since" type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
        </div>
        <div>
          <label for="history-until">Started before</label>
          <input id="history-until" type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
        </div>
        <button type="submit">Apply</button>
        <button type="button" class="secondary" onClick={props.onRefresh}>
          Refresh
        </button>
      </div>
      <p class="row quick" aria-label="Quick time ranges">
        {QUICK_RANGES.map(([label, hours]) => (
          <button key={label} type="button" class="secondary" onClick={() => props.onFilter({ since: hoursAgo(hours), until: '', objectId: objectId.trim() })}>
            {label}
          </button>
        ))}
        <button type="button" class="secondary" onClick={() => props.onFilter({ since: '', until: '', objectId: '' })} disabled={!f.since && !f.until && !f.objectId}>
          Clear object and time
        </button>
        <Link href={hrefOf({ name: 'tail', enrollmentId: '', workflowId: f.workflowId })}>Watch live</Link>
      </p>
    </form>
  );
}

function EnrollmentTable(props: { rows: Enrollment[]; names: Map<string, string> }) {
  const { rows, names } = props;
  return (
    <table>
      <caption class="sr-only">Enrollments, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Enrollment</th>
          <th scope="col">Workflow</th>
          <th scope="col">Object</th>
          <th scope="col">Status</th>
          <th scope="col">Started</th>
          <th scope="col">Finished</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => (
          <tr key={e.id}>
            <td>
              <Link href={hrefOf({ name: 'enrollment', id: e.id })}>{e.id}</Link>
            </td>
            <td>
              {names.get(e.workflowId) ?? e.workflowId} <span class="muted">v{e.workflowVersion}</span>
            </td>
            <td>{e.object ? `${e.object.objectType} ${e.object.objectId}` : '—'}</td>
            <td>
              <Status value={e.status} />
            </td>
            <td>{when(e.startedAt)}</td>
            <td>{when(e.finishedAt)}</td>
            <td>{e.error ? e.error.message : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface RetryJob {
  jobId: string;
  total: number;
  matched: number;
  retried: number;
  refused: number;
  completed: number;
  failed: number;
  running: number;
  items: { enrollmentId: string; status: string; message?: string }[];
}

/** Done when every enrollment of the job has an outcome: completed, failed again, or refused. */
export const retryJobDone = (j: RetryJob) => j.completed + j.failed + j.refused >= j.total;

/** Retry the failed enrollments of one workflow (those that failed within the time range shown), as a job, with its progress. */
function BulkRetry(props: { workflowId: string; name: string; filters: HistoryFilters; onProgress(): void }) {
  const { api } = useSession();
  const [limit, setLimit] = useState('100');
  const [version, setVersion] = useState<'original' | 'latest'>('latest');
  const [job, setJob] = useState<RetryJob | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const since = localToIso(props.filters.since);
  const until = localToIso(props.filters.until);
  useEffect(() => {
    if (!job || retryJobDone(job)) return;
    const t = setTimeout(async () => {
      try {
        setJob(await api.get<RetryJob>(`/v1/retries/${encodeURIComponent(job.jobId)}`));
        props.onProgress();
      } catch (e) {
        setError(e instanceof Error ? e : new Error(String(e)));
      }
    }, 1000);
    return () => clearTimeout(t);
  }, [job]);
  const start = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body: Record<string, unknown> = { version, limit: /^\d+$/.test(limit.trim()) ? Number(limit) : limit };
      if (since) body.failedAfter = since;
      if (until) body.failedBefore = until;
      setJob(await api.send<RetryJob>('POST', `/v1/workflows/${encodeURIComponent(props.workflowId)}/retries`, body));
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={start} aria-labelledby="bulk-retry-title">
      <h2 id="bulk-retry-title">Retry the failures of {props.name}</h2>
      <p class="muted">
        Re-runs each failed enrollment from its failed step (earlier outputs kept), newest failures first
        {since || until ? `, of those that failed ${since ? `after ${when(since)}` : ''}${since && until ? ' and ' : ''}${until ? `before ${when(until)}` : ''}` : ''}.
      </p>
      <div class="row">
        <div>
          <label for="bulk-limit">At most</label>
          <input id="bulk-limit" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} size={6} inputMode="numeric" />
        </div>
        <div>
          <label for="bulk-version">On</label>
          <select id="bulk-version" value={version} onChange={(e) => setVersion(e.currentTarget.value as 'original' | 'latest')}>
            <option value="latest">the latest version</option>
            <option value="original">the version each failed on</option>
          </select>
        </div>
        <button type="submit" disabled={busy || (job !== undefined && !retryJobDone(job))}>
          {busy ? 'Starting…' : 'Retry failed enrollments'}
        </button>
      </div>
      <ErrorNote error={error} what="Retry not started" />
      {job ? <RetryProgress job={job} /> : null}
    </form>
  );
}

function RetryProgress(props: { job: RetryJob }) {
  const job = props.job;
  const done = job.completed + job.failed + job.refused;
  return (
    <div role="status" aria-live="polite" class="progress">
      <label for="bulk-progress">
        {retryJobDone(job) ? 'Done' : 'Retrying'}: {done} of {job.total}
        {job.matched > job.total ? ` (${job.matched} matched; the first ${job.total} taken)` : ''}
      </label>
      <progress id="bulk-progress" max={Math.max(1, job.total)} value={done} />
      <p>
        <span class={job.completed ? 'status completed' : ''}>{job.completed} completed</span> · <span class={job.failed ? 'status failed' : ''}>{job.failed} failed again</span> · {job.running}{' '}
        running · {job.refused} refused
      </p>
      {job.items.length ? (
        <ul class="compact" aria-label="Enrollments of the retry">
          {job.items.slice(0, 20).map((i) => (
            <li key={i.enrollmentId}>
              <Link href={hrefOf({ name: 'enrollment', id: i.enrollmentId })}>{i.enrollmentId}</Link> <Status value={i.status} />
              {i.message ? <span class="muted"> {i.message}</span> : null}
            </li>
          ))}
          {job.items.length > 20 ? <li class="muted">and {job.items.length - 20} more</li> : null}
        </ul>
      ) : null}
    </div>
  );
}
