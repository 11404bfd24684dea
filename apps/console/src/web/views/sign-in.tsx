/** Sign-in: the key is checked against the API (GET /v1/workflows) before it is kept. */
import { useState } from 'preact/hooks';
import { createApi } from '../api.ts';
import { ErrorNote } from '../widgets.tsx';

export function SignIn(props: { notice: string; onSignedIn(key: string): void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) return setError(new Error('Enter an API key: embedded mode prints one on first start ("API key (shown once, keep it)").'));
    setBusy(true);
    setError(undefined);
    try {
      await createApi(k, () => undefined).get('/v1/workflows');
      props.onSignedIn(k);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="content">
      <h1>Sign in to codestep</h1>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autoComplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} aria-describedby="api-key-help" />
        <p id="api-key-help" class="muted">
          The key of your account (tenant). It is kept for this browser tab only, until you sign out or close it.
        </p>
        <ErrorNote error={error} what="Could not sign in" />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
