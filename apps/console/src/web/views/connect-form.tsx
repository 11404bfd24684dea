/** Connecting a new OAuth connection: a handle, a provider, and its permission presets (resource × operation, with their scopes). */
import { useState } from 'preact/hooks';
import { SelectField, TextField } from '../fields.tsx';
import { useSession } from '../hooks.ts';
import { authorizeInPopup } from './oauth-popup.ts';

export interface Provider {
  id: string;
  displayName: string;
  grantType: string;
  defaultScopes: string[];
  permissions: { id: string; resource: string; operation: string; scopes: string[] }[];
}

export function ConnectForm(props: { providers: Provider[]; onConnect(what: string, run: () => Promise<unknown>): Promise<void> }) {
  const { api } = useSession();
  const [handle, setHandle] = useState('');
  const [providerId, setProviderId] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const provider = props.providers.find((p) => p.id === (providerId || props.providers[0]?.id));
  if (props.providers.length === 0) return <p class="muted">No OAuth provider is configured on this server (GET /v1/oauth-providers is empty).</p>;
  const submit = (e: Event) => {
    e.preventDefault();
    void props.onConnect(`Connecting ${handle}`, async () => {
      const out = await api.send<{ authorizeUrl: string | null }>('POST', '/v1/connections', { handle: handle.trim(), provider: provider?.id ?? '', permissions: chosen });
      if (out.authorizeUrl) await authorizeInPopup(api, handle.trim(), out.authorizeUrl);
    });
  };
  return (
    <form class="card" onSubmit={submit} aria-label="Connect an account">
      <h2>Connect</h2>
      <div class="row">
        <TextField id="conn-handle" label="Handle" value={handle} onInput={setHandle} hint="lowercase letters, digits and -, e.g. my-hubspot" />
        <SelectField
          id="conn-provider"
          label="Provider"
          value={provider?.id ?? ''}
          options={props.providers.map((p) => [p.id, p.displayName || p.id] as const)}
          onChange={(id) => {
            setProviderId(id);
            setChosen([]);
          }}
        />
      </div>
      {provider && provider.permissions.length ? <Permissions provider={provider} chosen={chosen} setChosen={setChosen} /> : null}
      <p>
        <button type="submit">Connect (opens the provider's consent page)</button>
      </p>
    </form>
  );
}

function Permissions(props: { provider: Provider; chosen: string[]; setChosen(next: string[]): void }) {
  const { provider, chosen, setChosen } = props;
  return (
    <table>
      <caption>Permissions of {provider.displayName || provider.id}</caption>
      <thead>
        <tr>
          <th scope="col">Grant</th>
          <th scope="col">Resource</th>
          <th scope="col">Operation</th>
          <th scope="col">Scopes</th>
        </tr>
      </thead>
      <tbody>
        {provider.permissions.map((p) => (
          <tr key={p.id}>
            <td>
              <input
                type="checkbox"
                id={`perm-${p.id}`}
                checked={chosen.includes(p.id)}
                onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, p.id] : chosen.filter((c) => c !== p.id))}
                aria-label={`${p.resource}: ${p.operation}`}
              />
            </td>
            <td>{p.resource}</td>
            <td>{p.operation}</td>
            <td>
              <code>{p.scopes.join(' ')}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
