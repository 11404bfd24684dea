/**
 * The account's API keys: listed with GET /v1/api-keys (name, prefix, dates, status; never a
 * value), a page at a time by its `nextCursor`; created with POST /v1/api-keys, whose answer is
 * the only place the new key's value is ever shown (here once, with a copy button); revoked with
 * DELETE /v1/api-keys/{id}, refused at once by every gateway.
 */
import { useEffect, useState } from 'preact/hooks';
import { Notice, TextField } from '../fields.tsx';
import { useSession, when } from '../hooks.ts';
import { ErrorNote, Loading, Status } from '../widgets.tsx';

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  createdAt: string | null;
  revokedAt: string | null;
  status: string;
}

/** Keys read per page. */
const PAGE = 50;

const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

/** The pages of GET /v1/api-keys read so far, and the cursor of the next one. */
function useKeyPages() {
  const { api } = useSession();
  const [keys, setKeys] = useState<ApiKeyInfo[] | undefined>();
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<Error | undefined>();
  const [loading, setLoading] = useState(false);
  const load = async (cursor: string | null) => {
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.get<{ apiKeys: ApiKeyInfo[]; nextCursor: string | null }>(`/v1/api-keys?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      setKeys((k) => (cursor ? [...(k ?? []), ...page.apiKeys] : page.apiKeys));
      setNext(page.nextCursor);
    } catch (e) {
      setError(asError(e));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(null), []);
  return { keys, next, error, loading, reload: () => load(null), more: () => load(next) };
}

export function ApiKeysView() {
  const { api, signedInWith } = useSession();
  const pages = useKeyPages();
  const [created, setCreated] = useState<(ApiKeyInfo & { key: string }) | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const revoke = async (k: ApiKeyInfo) => {
    const own = signedInWith(k.prefix) ? ' This console signed in with it: you will be signed out.' : '';
    if (!confirm(`Revoke the API key "${k.name}" (${k.prefix}…)? Every request made with it is refused from now on.${own}`)) return;
    setError(undefined);
    try {
      await api.send('DELETE', `/v1/api-keys/${encodeURIComponent(k.id)}`);
      setNotice(`Revoked ${k.name}.`);
      if (created?.id === k.id) setCreated(undefined);
      await pages.reload();
    } catch (e) {
      setError(asError(e));
    }
  };
  return (
    <>
      <h1>API keys</h1>
      <p class="muted">Each key signs in to the API, the CLI and this console as this account. A key's value is shown once, when it is created; the list shows its first characters only.</p>
      <KeyForm
        onCreated={(k) => {
          setCreated(k);
          setNotice('');
          void pages.reload();
        }}
      />
      {created ? <NewKey created={created} onDone={() => setCreated(undefined)} /> : null}
      <Notice message={notice} />
      <ErrorNote error={error} what="Not revoked" />
      <ErrorNote error={pages.error} what="API keys" />
      <Loading loading={pages.loading && !pages.keys} />
      {pages.keys && pages.keys.length === 0 ? <p>No API keys.</p> : null}
      {pages.keys && pages.keys.length ? <KeyTable keys={pages.keys} onRevoke={revoke} /> : null}
      {pages.next ? (
        <button type="button" class="secondary" onClick={pages.more} disabled={pages.loading}>
          {pages.loading ? 'Loading…' : 'More keys'}
        </button>
      ) : null}
    </>
  );
}

function KeyTable(props: { keys: ApiKeyInfo[]; onRevoke(k: ApiKeyInfo): void }) {
  const { signedInWith } = useSession();
  return (
    <table>
      <caption class="sr-only">API keys</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Prefix</th>
          <th scope="col">Created</th>
          <th scope="col">Status</th>
          <th scope="col">Revoke</th>
        </tr>
      </thead>
      <tbody>
        {props.keys.map((k) => (
          <tr key={k.id}>
            <td>
              {k.name}
              {signedInWith(k.prefix) ? <span class="muted"> (this console's key)</span> : null}
            </td>
            <td>{k.prefix ? <code>{k.prefix}…</code> : <span class="muted">—</span>}</td>
            <td>{when(k.createdAt)}</td>
            <td>
              <Status value={k.status} />
              {k.revokedAt ? <span class="muted"> {when(k.revokedAt)}</span> : null}
            </td>
            <td>
              {k.status === 'active' ? (
                <button type="button" class="danger" onClick={() => props.onRevoke(k)} aria-label={`Revoke API key ${k.name}`}>
                  Revoke
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function KeyForm(props: { onCreated(k: ApiKeyInfo & { key: string }): void }) {
  const { api } = useSession();
  const [name, setName] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const k = await api.send<ApiKeyInfo & { key: string }>('POST', '/v1/api-keys', { name });
      setName('');
      props.onCreated(k);
    } catch (err) {
      setError(asError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} class="card" aria-label="Create an API key" noValidate>
      <div class="row">
        <TextField id="key-name" label="Name" value={name} maxLength={100} onInput={setName} hint='What the key is for, like "ci deploys".' error={error?.message} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create API key'}
        </button>
      </div>
    </form>
  );
}

/** The value of a key just created: shown here once, never again. */
function NewKey(props: { created: ApiKeyInfo & { key: string }; onDone(): void }) {
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.created.key);
      setCopied('Copied.');
    } catch {
      setCopied('The browser did not allow copying: select the key and copy it by hand.');
    }
  };
  return (
    <section class="card notice" aria-labelledby="new-key-title">
      <h2 id="new-key-title">New API key "{props.created.name}"</h2>
      <p>
        <strong>Shown once:</strong> copy it now and keep it somewhere safe. The API never shows it again; if it is lost, create another and revoke this one.
      </p>
      <div class="row">
        <label for="new-key-value" class="sr-only">
          Value of the new API key
        </label>
        <input id="new-key-value" readOnly value={props.created.key} size={Math.min(70, props.created.key.length + 2)} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          Copy key
        </button>
        <button type="button" class="secondary" onClick={props.onDone}>
          I have kept it
        </button>
      </div>
      <p role="status" class="muted">
        {copied}
      </p>
    </section>
  );
}
