/** Running a saved workflow: enroll an object (POST /v1/workflows/{id}/enrollments, optionally as a dry run), or get its webhook URL to copy. */
import { useState } from 'preact/hooks';
import { Field, TextField } from '../fields.tsx';
import { useSession } from '../hooks.ts';
import { ErrorNote, Link } from '../widgets.tsx';

export function RunPanel(props: { workflowId: string; objectType: string }) {
  return (
    <section class="card" aria-labelledby="run-title">
      <h2 id="run-title">Run it</h2>
      <Enroll {...props} />
      <Webhook workflowId={props.workflowId} />
    </section>
  );
}

function Enroll(props: { workflowId: string; objectType: string }) {
  const { api } = useSession();
  const [objectId, setObjectId] = useState('');
  const [properties, setProperties] = useState('{\n  "email": "ada@example.com"\n}');
  const [error, setError] = useState<Error | undefined>();
  const [propertiesError, setPropertiesError] = useState<string | undefined>();
  const [enrolled, setEnrolled] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const enroll = async () => {
    setError(undefined);
    setPropertiesError(undefined);
    let props2: unknown;
    try {
      props2 = properties.trim() ? JSON.parse(properties) : {};
    } catch (e) {
      return setPropertiesError(`The properties are not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    setBusy(true);
    const query = dryRun ? '?dryRun=true' : '';
    try {
      const out = await api.send<{ id: string }>('POST', `/v1/workflows/${encodeURIComponent(props.workflowId)}/enrollments${query}`, {
        object: { objectType: props.objectType, objectId, properties: props2 },
      });
      setEnrolled((xs) => [out.id, ...xs].slice(0, 5));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <h3>Enroll an object</h3>
      <div class="row">
        <TextField id="enroll-object-id" label="Object id" value={objectId} onInput={setObjectId} />
        <div style="flex: 1">
          <Field id="enroll-properties" label="Properties (JSON)" error={propertiesError}>
            {(control) => <textarea {...control} rows={3} style="width: 100%" value={properties} onInput={(e) => setProperties(e.currentTarget.value)} spellcheck={false} />}
          </Field>
        </div>
      </div>
      <ErrorNote error={error} what="Not enrolled" />
      <p class="row">
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} /> Dry run (reads go out; writes are held back and listed in each step's write ledger)
        </label>
      </p>
      <p>
        <button type="button" onClick={enroll} disabled={busy}>
          {busy ? 'Enrolling…' : 'Enroll'}
        </button>
      </p>
      {enrolled.length ? (
        <ul aria-label="Enrolled">
          {enrolled.map((id) => (
            <li key={id}>
              Enrolled <Link href={`/enrollments/${encodeURIComponent(id)}`}>{id}</Link> · <Link href={`/tail?enrollmentId=${encodeURIComponent(id)}`}>watch live</Link>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function Webhook(props: { workflowId: string }) {
  const { api } = useSession();
  const [url, setUrl] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const [copied, setCopied] = useState(false);
  const show = async () => {
    setError(undefined);
    try {
      const out = await api.send<{ path: string }>('POST', `/v1/workflows/${encodeURIComponent(props.workflowId)}/webhook`);
      setUrl(new URL(out.path, location.origin).toString());
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <div>
      <h3>Webhook trigger</h3>
      <p class="muted">A POST to this URL (no key needed: the URL is the secret) enrolls its JSON body's object and answers with the last action's result.</p>
      {url ? (
        <div class="row">
          <div style="flex: 1">
            <label for="webhook-url">Webhook URL</label>
            <input id="webhook-url" readOnly value={url} style="width: 100%" onFocus={(e) => e.currentTarget.select()} />
          </div>
          <button
            type="button"
            class="secondary"
            onClick={() =>
              navigator.clipboard?.writeText(url).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      ) : (
        <button type="button" class="secondary" onClick={show}>
          Show webhook URL
        </button>
      )}
      <ErrorNote error={error} what="No webhook URL" />
    </div>
  );
}
