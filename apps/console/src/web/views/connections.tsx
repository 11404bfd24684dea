/** The account's OAuth connections (GET /v1/connections): provider, status (and why), scopes, dates. */
import { useLoad, useSession, when } from '../hooks.ts';
import { ErrorNote, Loading, Status } from '../widgets.tsx';

interface Connection {
  handle: string;
  provider: string;
  status: string;
  statusReason: string | null;
  grantType: string;
  scopes: string[];
  permissions: string[];
  createdAt: string | null;
  authorizedAt: string | null;
  expiresAt: string | null;
}

export function ConnectionsView() {
  const { api } = useSession();
  const list = useLoad(() => api.get<{ connections: Connection[] }>('/v1/connections'), []);
  const rows = list.data?.connections ?? [];
  return (
    <>
      <h1>Connections</h1>
      <p class="muted">
        OAuth connections that actions use by handle. Create one with <code>POST /v1/connections</code> (see /openapi.json); its status shows here.
      </p>
      <ErrorNote error={list.error} what="Could not list the connections" />
      <Loading loading={list.loading && !list.data} />
      {list.data && rows.length === 0 ? <p>No connections yet.</p> : null}
      {rows.length ? (
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
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
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
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
