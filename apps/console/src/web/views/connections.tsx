/**
 * The account's OAuth connections: listed with their status (and why), connected through the
 * provider's consent page in a pop-up (POST /v1/connections, then the page polls the connection
 * until it leaves `pending`), reconnected (POST /v1/connections/{handle}/authorize) and revoked
 * (DELETE). The providers' permission presets (HubSpot's) are shown as a table to pick from.
 */
import { useState } from 'preact/hooks';
import { Notice } from '../fields.tsx';
import { useLoad, useSession, when } from '../hooks.ts';
import { ErrorNote, Loading, Status } from '../widgets.tsx';
import { ConnectForm, type Provider } from './connect-form.tsx';
import { authorizeInPopup, type Connection } from './oauth-popup.ts';

export function ConnectionsView() {
  const { api } = useSession();
  const list = useLoad(() => api.get<{ connections: Connection[] }>('/v1/connections'), []);
  const providers = useLoad(() => api.get<{ providers: Provider[] }>('/v1/oauth-providers'), []);
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const act = async (what: string, run: () => Promise<unknown>) => {
    setError(undefined);
    setNotice(`${what}…`);
    try {
      await run();
      setNotice(`${what}: done.`);
    } catch (e) {
      setNotice('');
      setError(e instanceof Error ? e : new Error(String(e)));
    }
    list.reload();
  };
  const reconnect = (handle: string) =>
    act(`Reconnecting ${handle}`, async () => {
      const out = await api.send<{ authorizeUrl: string | null }>('POST', `/v1/connections/${encodeURIComponent(handle)}/authorize`);
      if (out.authorizeUrl) await authorizeInPopup(api, handle, out.authorizeUrl);
    });
  const revoke = (handle: string) => {
    if (confirm(`Revoke ${handle}? Actions that use it fail until it is connected again.`)) void act(`Revoking ${handle}`, () => api.send('DELETE', `/v1/connections/${encodeURIComponent(handle)}`));
  };
  return (
    <>
      <h1>Connections</h1>
      <ConnectForm providers={providers.data?.providers ?? []} onConnect={act} />
      <Notice message={notice} />
      <ErrorNote error={error ?? list.error ?? providers.error} what="Connections" />
      <Loading loading={list.loading && !list.data} />
      {list.data && list.data.connections.length === 0 ? <p>No connections yet.</p> : null}
      {list.data?.connections.length ? <ConnectionTable rows={list.data.connections} onReconnect={reconnect} onRevoke={revoke} /> : null}
    </>
  );
}

function ConnectionTable(props: { rows: Connection[]; onReconnect(handle: string): void; onRevoke(handle: string): void }) {
  return (
    <table>
      <caption class="sr-only">Connections</caption>
      <thead>
        <tr>
          <th scope="col">Handle</th>
          <th scope="col">Provider</th>
          <th scope="col">Status</th>
          <th scope="col">Permissions / scopes</th>
          <th scope="col">Authorized</th>
          <th scope="col">Expires</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((c) => (
          <tr key={c.handle}>
            <td>
              <code>{c.handle}</code>
            </td>
            <td>{c.provider}</td>
            <td>
              <Status value={c.status} />
              {c.statusReason ? <div class="muted">{c.statusReason}</div> : null}
            </td>
            <td>{[...c.permissions, ...c.scopes].join(', ') || '—'}</td>
            <td>{when(c.authorizedAt)}</td>
            <td>{when(c.expiresAt)}</td>
            <td class="row">
              {c.grantType !== 'client_credentials' ? (
                <button type="button" class="secondary" onClick={() => props.onReconnect(c.handle)} aria-label={`Reconnect ${c.handle}`}>
                  Reconnect
                </button>
              ) : null}
              {c.status !== 'revoked' ? (
                <button type="button" class="danger" onClick={() => props.onRevoke(c.handle)} aria-label={`Revoke ${c.handle}`}>
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
