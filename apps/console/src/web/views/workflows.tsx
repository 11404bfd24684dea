/** The tenant's workflows: each with its version, its last run and its failures in the last 24 hours. */
import type { Json } from '../api.ts';
import { useLoad, useSession, when } from '../hooks.ts';
import { hoursAgo } from '../lib/history-query.ts';
import { hrefOf } from '../lib/routes.ts';
import { ErrorNote, Link, Loading, Status } from '../widgets.tsx';

export interface WorkflowSummary {
  id: string;
  version: number;
  name: string;
  objectType: string;
  createdAt: string;
  status?: string;
  actions: Json[];
}

interface EnrollmentSummary {
  id: string;
  status: string;
  startedAt: string | null;
}

const DAY_MS = 24 * 3600 * 1000;
/** Failures counted per workflow (shown as "500+" past it). */
const FAILURES_CAP = 500;

export function WorkflowsView() {
  const { api } = useSession();
  const list = useLoad(() => api.get<{ workflows: WorkflowSummary[] }>('/v1/workflows'), []);
  const workflows = list.data?.workflows ?? [];
  return (
    <>
      <div class="row" style="justify-content: space-between">
        <h1>Workflows</h1>
        <Link href="/workflows/new" class="button">
          New workflow
        </Link>
      </div>
      <ErrorNote error={list.error} what="Could not list the workflows" />
      <Loading loading={list.loading && !list.data} />
      {list.data && workflows.length === 0 ? <p>No workflows yet. Create one with “New workflow”.</p> : null}
      {workflows.length > 0 ? (
        <table>
          <caption class="sr-only">Workflows</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Object</th>
              <th scope="col">Status</th>
              <th scope="col">Version</th>
              <th scope="col">Actions</th>
              <th scope="col">Last run</th>
              <th scope="col">Failures (24 h)</th>
              <th scope="col">History</th>
            </tr>
          </thead>
          <tbody>
            {workflows.map((w) => (
              <WorkflowRow key={w.id} workflow={w} />
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function WorkflowRow(props: { workflow: WorkflowSummary }) {
  const { api } = useSession();
  const w = props.workflow;
  const runs = useLoad(async () => {
    const q = `workflowId=${encodeURIComponent(w.id)}`;
    const since = new Date(Date.now() - DAY_MS).toISOString();
    const [last, failed] = await Promise.all([
      api.get<{ enrollments: EnrollmentSummary[] }>(`/v1/enrollments?${q}&limit=1`),
      api.get<{ enrollments: EnrollmentSummary[] }>(`/v1/enrollments?${q}&status=failed&startedAfter=${encodeURIComponent(since)}&limit=${FAILURES_CAP}`),
    ]);
    return { last: last.enrollments[0], failures: failed.enrollments.length, capped: failed.enrollments.length === FAILURES_CAP };
  }, [w.id]);
  const last = runs.data?.last;
  return (
    <tr>
      <td>
        <Link href={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link>
        <div class="muted">
          <code>{w.id}</code>
        </div>
      </td>
      <td>{w.objectType}</td>
      <td>
        <Status value={w.status ?? 'enabled'} />
      </td>
      <td>
        <Link href={`/workflows/${encodeURIComponent(w.id)}/versions`}>{w.version}</Link>
      </td>
      <td>{w.actions.length}</td>
      <td>
        {runs.error ? <span class="status failed">unavailable: {runs.error.message}</span> : null}
        {last ? (
          <>
            <Status value={last.status} /> <Link href={`/enrollments/${encodeURIComponent(last.id)}`}>{when(last.startedAt)}</Link>
          </>
        ) : runs.data ? (
          <span class="muted">never run</span>
        ) : null}
      </td>
      <td>
        {runs.data ? (
          runs.data.failures ? (
            <Link href={hrefOf({ name: 'history', workflowId: w.id, status: 'failed', since: hoursAgo(24), until: '', objectId: '' })}>{`${runs.data.failures}${runs.data.capped ? '+' : ''}`}</Link>
          ) : (
            '0'
          )
        ) : (
          ''
        )}
      </td>
      <td>
        <Link href={`/history?workflowId=${encodeURIComponent(w.id)}`}>Runs</Link>
      </td>
    </tr>
  );
}
