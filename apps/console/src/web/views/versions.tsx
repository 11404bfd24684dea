/**
 * A workflow's versions (GET /v1/workflows/{id}/versions, newest first): two picked versions
 * compared side by side (GET /v1/workflows/{id}/diff: the fields that changed, actions added,
 * removed, moved or changed, and each action's code with the old version on the left), a rollback
 * to an older version (POST …/rollback: a new version equal to it), and enabling or disabling the
 * workflow (POST …/enable, …/disable) with an optional reason.
 */
import { useState } from 'preact/hooks';
import { Notice, TextField } from '../fields.tsx';
import { useLoad, useSession, when } from '../hooks.ts';
import { hrefOf } from '../lib/routes.ts';
import { sideBySide, type SideLine } from '../lib/side-by-side.ts';
import { ErrorNote, Link, Loading, Status } from '../widgets.tsx';

interface VersionSummary {
  version: number;
  name: string;
  objectType: string;
  createdAt: string;
  rolledBackFrom: number | null;
  actions: { id: string; runtime: string; codeBytes: number }[];
}

interface WorkflowHead {
  id: string;
  name: string;
  version: number;
  status?: string;
  statusChangedAt?: string | null;
}

interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

interface WorkflowDiff {
  from: number;
  to: number;
  identical: boolean;
  changes: FieldChange[];
  actions: { actionId: string; change: 'added' | 'removed' | 'changed'; fromIndex: number | null; toIndex: number | null; fields: FieldChange[]; codeDiff: string }[];
}

export function VersionsView(props: { id: string; from: number; to: number }) {
  const { api, navigate } = useSession();
  const path = `/v1/workflows/${encodeURIComponent(props.id)}`;
  const head = useLoad(() => api.get<WorkflowHead>(path), [props.id]);
  const list = useLoad(() => api.get<{ versions: VersionSummary[] }>(`${path}/versions`), [props.id]);
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const versions = list.data?.versions ?? [];
  const latest = versions[0]?.version ?? 0;
  const to = props.to || latest;
  const from = props.from || (to > 1 ? to - 1 : 0);
  const pick = (patch: { from?: number; to?: number }) => navigate(hrefOf({ name: 'versions', id: props.id, from, to, ...patch }));
  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    setNotice('');
    try {
      await what();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const rollback = (toVersion: number) =>
    act(async () => {
      const out = await api.send<{ version: number }>('POST', `${path}/rollback`, { toVersion });
      setNotice(`Rolled back: version ${out.version} is a copy of version ${toVersion}.`);
      head.reload();
      list.reload();
      navigate(hrefOf({ name: 'versions', id: props.id, from: latest, to: out.version }));
    });
  const name = head.data?.name ?? props.id;
  return (
    <>
      <h1>Versions of {name}</h1>
      <ErrorNote error={head.error ?? list.error} what="Could not load the versions" />
      <Loading loading={list.loading && !list.data} />
      {head.data ? (
        <Lifecycle
          workflow={head.data}
          busy={busy}
          onChange={(status, reason) =>
            act(async () => {
              await api.send('POST', `${path}/${status === 'enabled' ? 'enable' : 'disable'}`, reason ? { reason } : undefined);
              setNotice(status === 'enabled' ? 'Enabled: enrollments and webhook calls are accepted.' : 'Disabled: new enrollments are refused; running ones finish.');
              head.reload();
            })
          }
        />
      ) : null}
      <ErrorNote error={error} what="Not done" />
      <Notice message={notice} />
      {versions.length ? <VersionTable versions={versions} from={from} to={to} busy={busy} onPick={pick} onRollback={rollback} /> : null}
      {from && to && from !== to ? <DiffSection workflowId={props.id} from={from} to={to} /> : versions.length === 1 ? <p class="muted">Only one version so far: save a change to compare.</p> : null}
    </>
  );
}

function Lifecycle(props: { workflow: WorkflowHead; busy: boolean; onChange(status: 'enabled' | 'disabled', reason: string): void }) {
  const [reason, setReason] = useState('');
  const w = props.workflow;
  const enabled = w.status === 'enabled' || w.status === undefined;
  return (
    <div class="row card">
      <p>
        Status: <Status value={w.status ?? 'enabled'} />
        {w.statusChangedAt ? <span class="muted"> since {when(w.statusChangedAt)}</span> : null} · latest version {w.version} · <Link href={hrefOf({ name: 'workflow', id: w.id })}>Edit</Link> ·{' '}
        <Link href={hrefOf({ name: 'history', workflowId: w.id, status: '', since: '', until: '', objectId: '' })}>Runs</Link>
      </p>
      <TextField id="status-reason" label="Reason (optional)" value={reason} maxLength={500} onInput={setReason} />
      <button type="button" class={enabled ? 'danger' : ''} disabled={props.busy} onClick={() => props.onChange(enabled ? 'disabled' : 'enabled', reason.trim())}>
        {enabled ? 'Disable workflow' : w.status === 'archived' ? 'Restore and enable' : 'Enable workflow'}
      </button>
    </div>
  );
}

function VersionTable(props: { versions: VersionSummary[]; from: number; to: number; busy: boolean; onPick(p: { from?: number; to?: number }): void; onRollback(v: number): void }) {
  const latest = props.versions[0]!.version;
  return (
    <table>
      <caption class="sr-only">Versions, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Compare from</th>
          <th scope="col">to</th>
          <th scope="col">Version</th>
          <th scope="col">Saved</th>
          <th scope="col">Name</th>
          <th scope="col">Actions</th>
          <th scope="col">Roll back</th>
        </tr>
      </thead>
      <tbody>
        {props.versions.map((v) => (
          <tr key={v.version}>
            <td>
              <input type="radio" name="diff-from" checked={v.version === props.from} onChange={() => props.onPick({ from: v.version })} aria-label={`Compare from version ${v.version}`} />
            </td>
            <td>
              <input type="radio" name="diff-to" checked={v.version === props.to} onChange={() => props.onPick({ to: v.version })} aria-label={`Compare to version ${v.version}`} />
            </td>
            <td>
              {v.version}
              {v.version === latest ? <span class="muted"> (latest)</span> : null}
              {v.rolledBackFrom ? <div class="muted">rollback to {v.rolledBackFrom}</div> : null}
            </td>
            <td>{when(v.createdAt)}</td>
            <td>{v.name}</td>
            <td>
              {v.actions.map((a) => (
                <div key={a.id}>
                  <code>{a.id}</code> <span class="muted">{a.runtime}</span>
                </div>
              ))}
            </td>
            <td>
              {v.version === latest ? null : (
                <button type="button" class="secondary" disabled={props.busy} onClick={() => props.onRollback(v.version)}>
                  Roll back to version {v.version}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const show = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

function DiffSection(props: { workflowId: string; from: number; to: number }) {
  const { api } = useSession();
  const diff = useLoad(() => api.get<WorkflowDiff>(`/v1/workflows/${encodeURIComponent(props.workflowId)}/diff?from=${props.from}&to=${props.to}`), [props.workflowId, props.from, props.to]);
  const d = diff.data;
  return (
    <section aria-labelledby="diff-title">
      <h2 id="diff-title">
        Version {props.from} → version {props.to}
      </h2>
      <ErrorNote error={diff.error} what="Could not compare the versions" />
      <Loading loading={diff.loading && !d} />
      {d?.identical ? <p>The two versions are identical.</p> : null}
      {d && d.changes.length ? <Changes title="Workflow" changes={d.changes} /> : null}
      {(d?.actions ?? []).map((a) => (
        <div key={a.actionId} class="card">
          <h3>
            Action <code>{a.actionId}</code>: {a.change}
            {a.change === 'changed' && a.fromIndex !== a.toIndex ? ` (moved from position ${(a.fromIndex ?? 0) + 1} to ${(a.toIndex ?? 0) + 1})` : ''}
          </h3>
          {a.fields.length ? <Changes title="Fields" changes={a.fields} /> : null}
          {a.codeDiff ? <CodeSideBySide actionId={a.actionId} from={props.from} to={props.to} unified={a.codeDiff} /> : <p class="muted">Code unchanged.</p>}
        </div>
      ))}
    </section>
  );
}

function Changes(props: { title: string; changes: FieldChange[] }) {
  return (
    <table class="changes">
      <caption>{props.title}: what changed</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {props.changes.map((c) => (
          <tr key={c.field}>
            <td>{c.field}</td>
            <td class="removed">
              <code>{show(c.from)}</code>
            </td>
            <td class="added">
              <code>{show(c.to)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Cells(props: { line: SideLine | null }) {
  const l = props.line;
  if (!l) return <td class="empty" colSpan={2} />;
  return (
    <>
      <td class={`ln ${l.kind}`}>{l.n}</td>
      <td class={`code ${l.kind}`}>
        {l.kind === 'removed' ? <span class="sr-only">removed: </span> : l.kind === 'added' ? <span class="sr-only">added: </span> : null}
        {l.text}
      </td>
    </>
  );
}

function CodeSideBySide(props: { actionId: string; from: number; to: number; unified: string }) {
  const rows = sideBySide(props.unified);
  return (
    <table class="side-by-side" aria-label={`Code of ${props.actionId}: version ${props.from} on the left, version ${props.to} on the right`}>
      <colgroup>
        <col class="ln" />
        <col />
        <col class="ln" />
        <col />
      </colgroup>
      <thead>
        <tr>
          <th scope="col" colSpan={2}>
            Version {props.from}
          </th>
          <th scope="col" colSpan={2}>
            Version {props.to}
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) =>
          r.type === 'hunk' ? (
            <tr key={i} class="hunk">
              <td colSpan={4}>{r.header}</td>
            </tr>
          ) : (
            <tr key={i}>
              <Cells line={r.left} />
              <Cells line={r.right} />
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}
