/**
 * History: enrollments filtered by workflow and status (GET /v1/enrollments, newest first), and
 * one enrollment's timeline (GET /v1/enrollments/{id}): each step's attempts, their retries and
 * reasons, inputs, outputs, console logs (more pages from GET /v1/executions/{id}), errors.
 */
import { useState } from 'preact/hooks';
import type { Json } from '../api.ts';
import { useLoad, useSession, when } from '../hooks.ts';
import { hrefOf, type View } from '../lib/routes.ts';
import { loadTraceTemplate, traceUrl } from '../lib/trace-url.ts';
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
  executions: Execution[];
}

const PAGE = 50;

/** The history's filters, as its URL carries them. */
export type HistoryFilters = Omit<Extract<View, { name: 'history' }>, 'name'>;

export function HistoryView(props: HistoryFilters) {
  const { api, navigate } = useSession();
  const [limit, setLimit] = useState(PAGE);
  const workflows = useLoad(() => api.get<{ workflows: WorkflowSummary[] }>('/v1/workflows'), []);
  const list = useLoad(() => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (props.workflowId) q.set('workflowId', props.workflowId);
    if (props.status) q.set('status', props.status);
    return api.get<{ enrollments: Enrollment[] }>(`/v1/enrollments?${q}`);
  }, [props.workflowId, props.status, limit]);
  const names = new Map((workflows.data?.workflows ?? []).map((w) => [w.id, w.name]));
  const filter = (patch: Partial<HistoryFilters>) => navigate(hrefOf({ name: 'history', ...props, ...patch }));
  const rows = list.data?.enrollments ?? [];
  return (
    <>
      <h1>History</h1>
      <div class="row" role="search" aria-label="Filter enrollments">
        <div>
          <label for="history-workflow">Workflow</label>
          <select id="history-workflow" value={props.workflowId} onChange={(e) => filter({ workflowId: e.currentTarget.value })}>
            <option value="">All workflows</option>
            {(workflows.data?.workflows ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="history-status">Status</label>
          <select id="history-status" value={props.status} onChange={(e) => filter({ status: e.currentTarget.value })}>
            <option value="">Any status</option>
            <option value="running">running</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <button type="button" class="secondary" onClick={list.reload}>
          Refresh
        </button>
        <Link href={hrefOf({ name: 'tail', enrollmentId: '' })}>Live tail</Link>
      </div>
      <ErrorNote error={list.error} what="Could not list the enrollments" />
      <Loading loading={list.loading} />
      {list.data && rows.length === 0 ? <p>No enrollments match.</p> : null}
      {rows.length ? <EnrollmentTable rows={rows} names={names} /> : null}
      {rows.length === limit ? (
        <p>
          <button type="button" class="secondary" onClick={() => setLimit((l) => Math.min(5000, l + PAGE))}>
            Show more
          </button>
        </p>
      ) : null}
    </>
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
          <th scope="col">Steps</th>
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
            <td>{e.executions.length}</td>
            <td>{e.error ? e.error.message : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function EnrollmentView(props: { id: string }) {
  const { api } = useSession();
  const e = useLoad(() => api.get<Enrollment>(`/v1/enrollments/${encodeURIComponent(props.id)}`), [props.id]);
  const d = e.data;
  return (
    <>
      <h1>Enrollment {props.id}</h1>
      <ErrorNote error={e.error} what="Could not load the enrollment" />
      <Loading loading={e.loading && !d} />
      {d ? (
        <>
          <p>
            <Status value={d.status} /> · workflow <Link href={`/workflows/${encodeURIComponent(d.workflowId)}`}>{d.workflowId}</Link> version {d.workflowVersion} · started {when(d.startedAt)}
            {d.finishedAt ? ` · finished ${when(d.finishedAt)}` : ''} ·{' '}
            <button type="button" class="secondary" onClick={e.reload}>
              Refresh
            </button>{' '}
            <Link href={hrefOf({ name: 'tail', enrollmentId: d.id })}>Watch live</Link>
          </p>
          {d.error ? (
            <p class="alert">
              Failed at <code>{d.error.actionId}</code>: {d.error.message} <span class="muted">({d.error.code})</span>
            </p>
          ) : null}
          {d.object ? (
            <details>
              <summary>
                Object {d.object.objectType} {d.object.objectId}
              </summary>
              <pre>{JSON.stringify(d.object.properties, null, 2)}</pre>
            </details>
          ) : null}
          <h2>Timeline</h2>
          <ol class="timeline" aria-label="Executions in order">
            {d.executions.map((x) => (
              <ExecutionItem key={x.id} execution={x} />
            ))}
          </ol>
          {d.executions.length === 0 ? <p class="muted">No step has run yet.</p> : null}
        </>
      ) : null}
    </>
  );
}

function ExecutionItem(props: { execution: Execution }) {
  const { api } = useSession();
  const x = props.execution;
  const [logs, setLogs] = useState<LogLine[]>(x.logs);
  const [next, setNext] = useState<number | null>(x.nextLinesAfter);
  const [error, setError] = useState<Error | undefined>();
  const more = async () => {
    try {
      const page = await api.get<Execution>(`/v1/executions/${encodeURIComponent(x.id)}?linesAfter=${next ?? 0}`);
      setLogs((l) => [...l, ...page.logs]);
      setNext(page.nextLinesAfter);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <li>
      <h3>
        Step {x.step + 1}: <code>{x.actionId}</code> · attempt {x.attempt} · <Status value={x.status} />
      </h3>
      <p class="muted">
        requested {when(x.requestedAt)} · finished {when(x.finishedAt)} · {x.durationMs} ms{x.retryDueAt ? ` · retry due ${when(x.retryDueAt)}` : ''}
        {x.traceId ? <TraceLink traceId={x.traceId} /> : null}
      </p>
      {x.error ? (
        <p class="alert">
          {x.error.message}{' '}
          <span class="muted">
            ({x.error.code}
            {x.error.retryable ? ', will be retried' : ''})
          </span>
        </p>
      ) : null}
      <div class="row">
        <Fields title="Inputs" value={x.inputFields} />
        <Fields title="Outputs" value={x.outputFields} />
      </div>
      <h4>
        Console ({x.logsTotal} {x.logsTotal === 1 ? 'line' : 'lines'})
      </h4>
      {logs.length ? (
        <ul class="logs" aria-label={`Console of step ${x.step + 1}, attempt ${x.attempt}`}>
          {logs.map((l, i) => (
            <li key={i} class={`level-${l.level}`}>
              <span class="muted">{l.at ? new Date(l.at).toLocaleTimeString() : ''}</span> [{l.level}] {l.message}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No console output.</p>
      )}
      {next !== null ? (
        <button type="button" class="secondary" onClick={more}>
          More console lines
        </button>
      ) : null}
      <ErrorNote error={error} />
    </li>
  );
}

function Fields(props: { title: string; value: Json }) {
  const entries = Object.entries(props.value ?? {});
  return (
    <div>
      <strong>{props.title}</strong>
      {entries.length ? <pre>{JSON.stringify(props.value, null, 2)}</pre> : <p class="muted">none</p>}
    </div>
  );
}

function TraceLink(props: { traceId: string }) {
  const url = traceUrl(loadTraceTemplate(localStorage), props.traceId);
  return (
    <>
      {' · trace '}
      {url ? (
        <a href={url} target="_blank" rel="noopener noreferrer">
          {props.traceId}
        </a>
      ) : (
        <code>{props.traceId}</code>
      )}
    </>
  );
}
