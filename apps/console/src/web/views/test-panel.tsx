/**
 * The editor's Test button for one action of a saved workflow: a test event (a sample made from
 * the action's inputs, the last enrolled object, or any JSON typed), optionally a dry run, sent to
 * POST /v1/workflows/{id}/actions/{actionId}/test; the answer shown as it came: status, duration,
 * outputs, console lines with levels and times, the error at the user's line, and a dry run's
 * write ledger. A test still running after the API's wait is followed on GET /v1/executions/{id}.
 * The event typed is kept in localStorage, like the editor's drafts.
 */
import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../hooks.ts';
import { failureLine, sampleTestBody, testRequestBody, type ActionTestResult } from '../lib/action-test.ts';
import type { ActionForm } from '../lib/workflow-form.ts';
import { ErrorNote, Status } from '../widgets.tsx';
import { Fields, Ledger, LogList } from './enrollment.tsx';

export interface TestTarget {
  workflowId: string;
  savedVersion: number;
  /** The saved action differs from what the form shows: the test runs the saved one. */
  unsaved: boolean;
}

/** How long a test still running after the API's wait is followed, ms. */
const FOLLOW_MS = 5 * 60_000;

const eventKey = (workflowId: string, actionId: string) => `codestep.testEvent.${workflowId}.${actionId}`;

function storedEvent(key: string): string | undefined {
  try {
    return localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

export function TestPanel(props: { target: TestTarget; action: ActionForm; objectType: string; prefix: string; onFailureLine(line: ReturnType<typeof failureLine>): void }) {
  const { api } = useSession();
  const { workflowId } = props.target;
  const a = props.action;
  const key = eventKey(workflowId, a.id);
  const sample = () => JSON.stringify(sampleTestBody(a, props.objectType), null, 2);
  const [text, setText] = useState(() => storedEvent(key) ?? sample());
  const [dryRun, setDryRun] = useState(false);
  const { result, error, setError, state, run } = useTestRun(workflowId, a.id);
  const edit = (t: string) => {
    setText(t);
    try {
      localStorage.setItem(key, t);
    } catch {
      // Storage full or off: the event lives in the page.
    }
  };
  useEffect(() => props.onFailureLine(result ? failureLine(result) : undefined), [result]);
  const lastObject = async () => {
    setError(undefined);
    try {
      const out = await api.get<{ enrollments: { object: { objectType: string; objectId: string; properties: Record<string, unknown> } | null }[] }>(
        `/v1/enrollments?workflowId=${encodeURIComponent(workflowId)}&limit=1`,
      );
      const o = out.enrollments[0]?.object;
      if (!o) return setError(new Error('No enrollment of this workflow yet: enroll an object first, or edit the sample.'));
      const current = testRequestBody(text, false);
      edit(JSON.stringify({ ...('body' in current ? current.body : {}), object: o }, null, 2));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const p = `${props.prefix}-test`;
  return (
    <details class="test-panel" aria-labelledby={`${p}-title`}>
      <summary id={`${p}-title`}>Test action {a.id}</summary>
      <p class="muted">
        Runs <code>{a.id}</code> of saved version {props.target.savedVersion} with this account's secrets and connections; it is in no enrollment's history and nothing runs after it.
        {props.target.unsaved ? <strong> Unsaved changes are not tested: save a new version first.</strong> : null}
      </p>
      <label for={`${p}-event`}>Test event (JSON: {a.runtime === 'jsworkflows' ? 'data and headers' : 'object and inputFields'})</label>
      <textarea id={`${p}-event`} rows={5} style="width: 100%" value={text} onInput={(e) => edit(e.currentTarget.value)} spellcheck={false} />
      <div class="row">
        <button type="button" class="secondary" onClick={() => edit(sample())}>
          Sample event
        </button>
        <button type="button" class="secondary" onClick={lastObject}>
          Last enrolled object
        </button>
        <label class="inline">
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} /> Dry run (writes are recorded, not sent)
        </label>
        <button type="button" onClick={() => run(text, dryRun)} disabled={state !== 'idle'}>
          {state === 'running' ? 'Testing…' : state === 'following' ? 'Still running…' : 'Run test'}
        </button>
      </div>
      <ErrorNote error={error} what="Test not run" />
      {result ? <TestResult result={result} actionId={a.id} /> : null}
    </details>
  );
}

/** Runs a test and, when the API answers that it is still running, follows its execution. */
function useTestRun(workflowId: string, actionId: string) {
  const { api } = useSession();
  const [result, setResult] = useState<ActionTestResult | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [state, setState] = useState<'idle' | 'running' | 'following'>('idle');
  /** Reads the execution until it finishes (or FOLLOW_MS pass: then says it is still running). */
  const follow = async (started: ActionTestResult): Promise<ActionTestResult> => {
    const deadline = Date.now() + FOLLOW_MS;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const x = await api.get<ActionTestResult & { id: string }>(`/v1/executions/${encodeURIComponent(started.executionId)}`);
      if (x.status === 'succeeded' || x.status === 'failed') return { ...started, ...x, executionId: started.executionId };
    }
    throw new Error(`The test is still running after ${FOLLOW_MS / 60_000} minutes (execution ${started.executionId}); its result will be at GET /v1/executions/${started.executionId}.`);
  };
  const run = async (text: string, dryRun: boolean) => {
    setError(undefined);
    setResult(undefined);
    const req = testRequestBody(text, dryRun);
    if ('problem' in req) return setError(new Error(req.problem));
    setState('running');
    try {
      let out = await api.send<ActionTestResult>('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/actions/${encodeURIComponent(actionId)}/test`, req.body);
      if (out.status !== 'succeeded' && out.status !== 'failed' && out.links?.execution) {
        setState('following');
        out = await follow(out);
      }
      setResult(out);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setState('idle');
    }
  };
  return { result, error, setError, state, run };
}

function TestResult(props: { result: ActionTestResult; actionId: string }) {
  const r = props.result;
  const line = failureLine(r);
  return (
    <section class="test-result" aria-label={`Test result of ${props.actionId}`} role="status">
      <p>
        <Status value={r.status} /> in {r.durationMs ?? '—'} ms{r.workflowVersion ? ` · version ${r.workflowVersion}` : ''} · execution <code>{r.executionId}</code>
      </p>
      {r.error ? (
        <p class="alert">
          {line ? <strong>Line {line.line}: </strong> : null}
          {r.error.message} <span class="muted">({r.error.code})</span>
        </p>
      ) : null}
      <div class="row">
        <Fields title="Outputs" value={(r.outputFields ?? {}) as Record<string, unknown>} />
        {r.returnValue !== undefined ? (
          <div>
            <strong>Returned</strong>
            <pre>{JSON.stringify(r.returnValue, null, 2)}</pre>
          </div>
        ) : null}
      </div>
      <h4>Console</h4>
      <LogList logs={r.logs ?? []} label={`Console of the test of ${props.actionId}`} />
      {r.dryRun ? <Ledger entries={r.dryRunLedger?.writes ?? []} dropped={r.dryRunLedger?.dropped ?? 0} lost={r.dryRunLedger === null} /> : null}
    </section>
  );
}
