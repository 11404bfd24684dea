/**
 * Settings: the account's execution limits (GET/PUT /v1/tenant/limits: defaults and ceilings
 * within the operator's bounds), and this browser's link to the tracing UI.
 */
import { useState } from 'preact/hooks';
import { Notice, TextField } from '../fields.tsx';
import { useClientConfig, useLoad, useSession } from '../hooks.ts';
import { loadTraceTemplate, saveTraceTemplate } from '../lib/trace-url.ts';
import { ErrorNote, Loading } from '../widgets.tsx';

const FIELDS = [
  ['defaultTimeoutMs', 'Default time limit, ms'],
  ['maxTimeoutMs', 'Most time an action may ask for, ms'],
  ['defaultMemoryMb', 'Default memory, MB'],
  ['maxMemoryMb', 'Most memory an action may ask for, MB'],
] as const;
type Field = (typeof FIELDS)[number][0];
type Limits = Record<Field, number | null> & { effective: Record<Field, number>; operator: Record<string, number> };

export function SettingsView() {
  return (
    <>
      <h1>Settings</h1>
      <LimitsForm />
      <TraceForm />
    </>
  );
}

function LimitsForm() {
  const { api } = useSession();
  const loaded = useLoad(() => api.get<Limits>('/v1/tenant/limits'), []);
  const [edits, setEdits] = useState<Partial<Record<Field, string>>>({});
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const d = loaded.data;
  const valueOf = (f: Field) => edits[f] ?? (d?.[f] == null ? '' : String(d[f]));
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const body = Object.fromEntries(FIELDS.map(([f]) => [f, valueOf(f).trim() === '' ? null : /^\d+$/.test(valueOf(f).trim()) ? Number(valueOf(f)) : valueOf(f)]));
    try {
      await api.send('PUT', '/v1/tenant/limits', body);
      setEdits({});
      setNotice('Limits saved.');
      loaded.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <form class="card" onSubmit={save} aria-labelledby="limits-title">
      <h2 id="limits-title">Execution limits of this account</h2>
      <ErrorNote error={loaded.error} what="Could not read the limits" />
      <Loading loading={loaded.loading && !d} />
      {d ? (
        <>
          <p class="muted">
            Blank: the operator's default. The operator's bounds: at most {d.operator.maxTimeoutMs} ms and {d.operator.maxMemoryMb} MB.
          </p>
          <div class="row">
            {FIELDS.map(([f, label]) => (
              <TextField key={f} id={`limit-${f}`} label={label} value={valueOf(f)} onInput={(v) => setEdits({ ...edits, [f]: v })} hint={`in effect: ${d.effective[f]}`} />
            ))}
          </div>
        </>
      ) : null}
      <ErrorNote error={error} what="Not saved" />
      <Notice message={notice} />
      <p>
        <button type="submit">Save limits</button>
      </p>
    </form>
  );
}

function TraceForm() {
  const operator = useClientConfig()?.traceUrlTemplate;
  const [template, setTemplate] = useState(() => loadTraceTemplate(localStorage));
  const [problem, setProblem] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  return (
    <form
      class="card"
      aria-labelledby="trace-title"
      onSubmit={(e) => {
        e.preventDefault();
        const p = saveTraceTemplate(localStorage, template);
        setProblem(p);
        setSaved(!p);
      }}
    >
      <h2 id="trace-title">Tracing UI</h2>
      <p>
        The operator's template: {operator ? <code>{operator}</code> : <span class="muted">none (the operator sets CODESTEP_TRACE_URL_TEMPLATE)</span>}. A template set here, in this browser only,
        takes its place.
      </p>
      <TextField
        id="trace-template"
        label="This browser's trace URL template"
        value={template}
        onInput={(v) => {
          setTemplate(v);
          setSaved(false);
        }}
        error={problem}
        hint="With {traceId}, e.g. http://localhost:16686/trace/{traceId} (Jaeger). Each execution in a timeline then links to its trace."
      />
      <Notice message={saved ? 'Saved.' : ''} />
      <p>
        <button type="submit">Save template</button>
      </p>
    </form>
  );
}
