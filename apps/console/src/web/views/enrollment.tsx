/**
 * One enrollment's timeline (GET /v1/enrollments/{id}, refreshed while it runs): each step's
 * attempts, their retries and reasons, inputs, outputs, console logs (more pages from
 * GET /v1/executions/{id}), errors, and links to the traces in the operator's tracing UI. A failed
 * enrollment can be re-run from its failed step (POST /v1/enrollments/{id}/retry), on the version
 * it failed on or the latest, with that step's inputs edited.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Json } from '../api.ts';
import { Field, SelectField, TextField } from '../fields.tsx';
import { useLoad, useSession, useTraceTemplate, when } from '../hooks.ts';
import { failureLine } from '../lib/action-test.ts';
import { hrefOf } from '../lib/routes.ts';
import { hasWorkflowSteps } from '../lib/run-tree.ts';
import { traceUrl } from '../lib/trace-url.ts';
import { ErrorNote, Link, Loading, Status } from '../widgets.tsx';
import type { Enrollment, Execution, LogLine } from './history.tsx';
import { RunTree } from './run-tree.tsx';

/** How often a running enrollment's timeline is read again, ms. */
const REFRESH_MS = 1500;

export function EnrollmentView(props: { id: string }) {
  const { api } = useSession();
  const e = useLoad(() => api.get<Enrollment>(`/v1/enrollments/${encodeURIComponent(props.id)}`), [props.id]);
  const d = e.data;
  useEffect(() => {
    if (d?.status !== 'running' || e.loading) return;
    const t = setTimeout(e.reload, REFRESH_MS);
    return () => clearTimeout(t);
  }, [d, e.loading]);
  const traced = d?.executions.find((x) => x.traceId);
  return (
    <>
      <h1>Enrollment {props.id}</h1>
      <ErrorNote error={e.error} what="Could not load the enrollment" />
      <Loading loading={e.loading && !d} />
      {d ? (
        <>
          <p>
            <Status value={d.status} />
            {d.dryRun ? <span class="badge dry-run"> dry run (writes held back)</span> : null} · workflow <Link href={hrefOf({ name: 'workflow', id: d.workflowId })}>{d.workflowId}</Link> version{' '}
            {d.workflowVersion} · started {when(d.startedAt)}
            {d.finishedAt ? ` · finished ${when(d.finishedAt)}` : ''}
            {traced?.traceId ? <TraceLink traceId={traced.traceId} label="Its trace" /> : null} ·{' '}
            <button type="button" class="secondary" onClick={e.reload}>
              Refresh
            </button>{' '}
            <Link href={hrefOf({ name: 'tail', enrollmentId: d.id, workflowId: '' })}>Watch live</Link>
            {d.status === 'running' ? <span class="muted"> (refreshing while it runs)</span> : null}
          </p>
          {d.error ? (
            <p class="alert">
              Failed at <code>{d.error.actionId}</code>: {d.error.message} <span class="muted">({d.error.code})</span>
            </p>
          ) : null}
          {d.status === 'failed' ? <RetryPanel enrollment={d} onRetried={e.reload} /> : null}
          {d.object ? (
            <details>
              <summary>
                Object {d.object.objectType} {d.object.objectId}
              </summary>
              <pre>{JSON.stringify(d.object.properties, null, 2)}</pre>
            </details>
          ) : null}
          <Steps executions={d.executions} />
          {d.executions.length === 0 ? <p class="muted">No step has run yet.</p> : null}
        </>
      ) : null}
    </>
  );
}

/** The steps as a tree (a JsWorkflows run's default: its branches and waits nested) or as a flat timeline in the order they ran. */
function Steps(props: { executions: Execution[] }) {
  const [picked, setPicked] = useState<'tree' | 'timeline' | undefined>();
  const shape = picked ?? (hasWorkflowSteps(props.executions) ? 'tree' : 'timeline');
  return (
    <>
      <div class="row" style="justify-content: space-between">
        <h2>{shape === 'tree' ? 'Run tree' : 'Timeline'}</h2>
        <div class="row" role="group" aria-label="Show the steps as">
          <button type="button" class="secondary" aria-pressed={shape === 'tree'} onClick={() => setPicked('tree')}>
            Tree
          </button>
          <button type="button" class="secondary" aria-pressed={shape === 'timeline'} onClick={() => setPicked('timeline')}>
            Timeline
          </button>
        </div>
      </div>
      {shape === 'tree' ? (
        <RunTree executions={props.executions} details={(x) => <ExecutionItem key={x.id} execution={x} waitShown />} waitNote={(x) => (x.wait ? <WaitNote wait={x.wait} /> : null)} />
      ) : (
        <ol class="timeline" aria-label="Executions in order">
          {props.executions.map((x) => (
            <ExecutionItem key={x.id} execution={x} />
          ))}
        </ol>
      )}
    </>
  );
}

/** The failed step's last attempt: the one a retry starts again. */
function failedExecution(d: Enrollment): Execution | undefined {
  const failed = d.executions.filter((x) => x.status === 'failed' && (!d.error || x.actionId === d.error.actionId));
  return failed[failed.length - 1];
}

function RetryPanel(props: { enrollment: Enrollment; onRetried(): void }) {
  const { api } = useSession();
  const d = props.enrollment;
  const failed = failedExecution(d);
  const original = JSON.stringify(failed?.inputFields ?? {}, null, 2);
  const [inputs, setInputs] = useState(original);
  const [version, setVersion] = useState<'latest' | 'original'>('latest');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const [inputsError, setInputsError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const retry = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setInputsError(undefined);
    const body: Record<string, unknown> = { version };
    if (reason.trim()) body.reason = reason.trim();
    if (inputs.trim() !== original.trim()) {
      try {
        body.inputFields = JSON.parse(inputs) as Json;
      } catch (err) {
        return setInputsError(`The inputs are not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    setBusy(true);
    try {
      await api.send('POST', `/v1/enrollments/${encodeURIComponent(d.id)}/retry`, body);
      props.onRetried();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={retry} aria-labelledby="retry-title">
      <h2 id="retry-title">Re-run from the failed step</h2>
      <p class="muted">
        Runs <code>{d.error?.actionId ?? failed?.actionId}</code> again, then the steps after it; the outputs of the steps before it are kept. The new attempt is added to this timeline.
      </p>
      <div class="row">
        <SelectField<'latest' | 'original'>
          id="retry-version"
          label="On"
          value={version}
          options={[
            ['latest', 'the latest version (with your fix)'],
            ['original', `version ${d.workflowVersion}, the one it failed on`],
          ]}
          onChange={setVersion}
        />
        <TextField id="retry-reason" label="Reason (optional)" value={reason} maxLength={500} onInput={setReason} />
      </div>
      <Field id="retry-inputs" label="Inputs of the failed step (JSON; edit to run it with other values)" error={inputsError}>
        {(control) => (
          <textarea {...control} rows={Math.min(10, original.split('\n').length + 1)} style="width: 100%" value={inputs} onInput={(ev) => setInputs(ev.currentTarget.value)} spellcheck={false} />
        )}
      </Field>
      <ErrorNote error={error} what="Not re-run" />
      <p>
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Re-run from the failed step'}
        </button>
      </p>
    </form>
  );
}

/** One execution's details; `waitShown`: its wait is shown already (on its node of the run tree). */
function ExecutionItem(props: { execution: Execution; waitShown?: boolean }) {
  const { api } = useSession();
  const x = props.execution;
  const [logs, setLogs] = useState<LogLine[]>(x.logs);
  const [next, setNext] = useState<number | null>(x.nextLinesAfter);
  const [error, setError] = useState<Error | undefined>();
  const line = failureLine({ executionId: x.id, status: x.status, error: x.error, logs: x.logs });
  // A running step's console grows: take what a refresh brings, unless more pages were read by hand.
  useEffect(() => {
    if (logs.length <= x.logs.length) {
      setLogs(x.logs);
      setNext(x.nextLinesAfter);
    }
  }, [x.logs.length, x.nextLinesAfter]);
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
        Step {x.step + 1}: <code>{x.actionId}</code>
        {x.workflowStep ? (
          <>
            {' '}
            → <code>{x.workflowStep.name}</code>
          </>
        ) : null}{' '}
        · attempt {x.attempt} · <Status value={x.status} />
        {x.dryRun ? <span class="badge dry-run"> dry run</span> : null}
      </h3>
      <p class="muted">
        requested {when(x.requestedAt)} · finished {when(x.finishedAt)} · {x.durationMs} ms{x.retryDueAt ? ` · retry due ${when(x.retryDueAt)}` : ''}
        {x.traceId ? <TraceLink traceId={x.traceId} label="trace" /> : null}
      </p>
      {x.workflowStep ? (
        <p class="muted">
          branch {x.workflowStep.branch} · depth {x.workflowStep.depth}
          {x.workflowStep.scheduledBy ? ` · scheduled by ${x.workflowStep.scheduledBy}` : ''}
          {x.workflowStep.dueAt ? ` · due ${when(x.workflowStep.dueAt)}` : ''}
        </p>
      ) : null}
      {x.wait && !props.waitShown ? <WaitNote wait={x.wait} /> : null}
      {x.error ? (
        <p class="alert">
          {line ? <strong>Line {line.line}: </strong> : null}
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
      {x.dryRun ? <Ledger entries={x.dryRunLedger?.writes ?? []} dropped={x.dryRunLedger?.dropped ?? 0} lost={x.dryRunLedger === null} /> : null}
      <h4>
        Console ({x.logsTotal} {x.logsTotal === 1 ? 'line' : 'lines'})
      </h4>
      <LogList logs={logs} label={`Console of step ${x.step + 1}, attempt ${x.attempt}`} />
      {next !== null ? (
        <button type="button" class="secondary" onClick={more}>
          More console lines
        </button>
      ) : null}
      <ErrorNote error={error} />
    </li>
  );
}

const WAIT_STATES: Record<string, string> = { waiting: 'Waiting for its resume URL', resumed: 'Resumed', timed_out: 'Timed out' };

/** A JsWorkflows wait: its state, when it times out, and how (and when) it ended. */
function WaitNote(props: { wait: NonNullable<Execution['wait']> }) {
  const w = props.wait;
  return (
    <p class={`wait ${w.state}`} role="note" aria-label="Wait">
      <strong>{WAIT_STATES[w.state] ?? w.state}</strong>
      {w.state === 'waiting' ? ` · times out ${when(w.timeoutAt)}` : ` · timeout was ${when(w.timeoutAt)}`}
      {w.endedAt ? ` · ended ${when(w.endedAt)}` : ''}
      {w.resumedBy ? ` · resumed by a ${w.resumedBy} to its resume URL` : ''}
      {w.redirectUrl ? (
        <>
          {' '}
          · redirects to <code>{w.redirectUrl}</code>
        </>
      ) : null}
    </p>
  );
}

/** Console lines with their level and time. */
export function LogList(props: { logs: { level: string; message: string; at?: string | null }[]; label: string }) {
  if (!props.logs.length) return <p class="muted">No console output.</p>;
  return (
    <ul class="logs" aria-label={props.label}>
      {props.logs.map((l, i) => (
        <li key={i} class={`level-${l.level}`}>
          <span class="muted">{l.at ? new Date(l.at).toLocaleTimeString() : ''}</span> [{l.level}] {l.message}
        </li>
      ))}
    </ul>
  );
}

export function Fields(props: { title: string; value: Json }) {
  const entries = Object.entries(props.value ?? {});
  return (
    <div>
      <strong>{props.title}</strong>
      {entries.length ? <pre>{JSON.stringify(props.value, null, 2)}</pre> : <p class="muted">none</p>}
    </div>
  );
}

/** The trace in the tracing UI when a template is set (this browser's, else the operator's), else its id. */
function TraceLink(props: { traceId: string; label: string }) {
  const url = traceUrl(useTraceTemplate(), props.traceId);
  return (
    <>
      {` · ${props.label} `}
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

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** A dry run's write ledger: the requests that would have written, none of them sent. */
export function Ledger(props: { entries: unknown[]; dropped: number; lost: boolean }) {
  return (
    <>
      <h4>Write ledger ({props.lost ? 'lost: the platform ended the action' : props.entries.length === 0 ? 'no writes' : `${props.entries.length + props.dropped} not sent`})</h4>
      {props.entries.length ? (
        <table class="ledger">
          <caption class="sr-only">Writes of the dry run, in order</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Method</th>
              <th scope="col">URL</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e, i) => {
              const { method, url, ...rest } = (typeof e === 'object' && e !== null ? e : { details: e }) as Record<string, unknown>;
              return (
                <tr key={i}>
                  <td>{i + 1}</td>
                  <td>{str(method)}</td>
                  <td>
                    <code>{str(url)}</code>
                  </td>
                  <td>
                    <pre>{JSON.stringify(rest, null, 2)}</pre>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
