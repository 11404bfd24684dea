/**
 * The account's secrets: names and dates only (values are never shown or sent back), set or
 * replaced with PUT /v1/secrets/{name}, deleted with DELETE; each with the workflows whose actions
 * select it (from GET /v1/workflows).
 */
import { useState } from 'preact/hooks';
import { Field, Notice, TextField } from '../fields.tsx';
import { useLoad, useSession, when } from '../hooks.ts';
import { ErrorNote, Link, Loading } from '../widgets.tsx';
import type { WorkflowSummary } from './workflows.tsx';

export function SecretsView() {
  const { api } = useSession();
  const list = useLoad(() => api.get<{ secrets: { name: string; updatedAt: string | null }[] }>('/v1/secrets'), []);
  const workflows = useLoad(() => api.get<{ workflows: WorkflowSummary[] }>('/v1/workflows'), []);
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const usedBy = (name: string) => (workflows.data?.workflows ?? []).filter((w) => w.actions.some((a) => Array.isArray(a.secrets) && (a.secrets as string[]).includes(name)));
  const remove = async (name: string) => {
    if (!confirm(`Delete the secret ${name}? Actions that use it will fail until it is set again.`)) return;
    setError(undefined);
    try {
      await api.send('DELETE', `/v1/secrets/${encodeURIComponent(name)}`);
      setNotice(`Deleted ${name}.`);
      list.reload();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <>
      <h1>Secrets</h1>
      <p class="muted">Values are write-only: the console, like the API, only ever shows names and dates.</p>
      <SecretForm
        onSaved={(name) => {
          setNotice(`Saved ${name}.`);
          list.reload();
        }}
      />
      <Notice message={notice} />
      <ErrorNote error={error ?? list.error} what="Secrets" />
      <Loading loading={list.loading && !list.data} />
      {list.data && list.data.secrets.length === 0 ? <p>No secrets yet.</p> : null}
      {list.data && list.data.secrets.length ? (
        <table>
          <caption class="sr-only">Secrets</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Updated</th>
              <th scope="col">Used by</th>
              <th scope="col">Delete</th>
            </tr>
          </thead>
          <tbody>
            {list.data.secrets.map((s) => (
              <tr key={s.name}>
                <td>
                  <code>{s.name}</code>
                </td>
                <td>{when(s.updatedAt)}</td>
                <td>
                  {usedBy(s.name).map((w) => (
                    <span key={w.id}>
                      <Link href={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link>{' '}
                    </span>
                  ))}
                </td>
                <td>
                  <button type="button" class="danger" onClick={() => remove(s.name)} aria-label={`Delete secret ${s.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

function SecretForm(props: { onSaved(name: string): void }) {
  const { api } = useSession();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api.send('PUT', `/v1/secrets/${encodeURIComponent(name.trim())}`, { value });
      setValue('');
      setName('');
      props.onSaved(name.trim());
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <form onSubmit={submit} class="card" aria-label="Set or replace a secret">
      <div class="row">
        <TextField id="secret-name" label="Name" value={name} onInput={setName} hint="Letters, digits and _; an existing name is replaced." />
        <Field id="secret-value" label="Value">
          {(control) => <input {...control} type="password" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />}
        </Field>
        <button type="submit">Save secret</button>
      </div>
      <ErrorNote error={error} what="Not saved" />
    </form>
  );
}
