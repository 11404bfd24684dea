/** The OAuth consent page in a pop-up, and waiting for the connection it authorizes. */
import type { Api } from '../api.ts';

export interface Connection {
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

/** Opens the consent page and waits (polling every 2 s, up to 10 min) for the connection to leave `pending`. */
export async function authorizeInPopup(api: Api, handle: string, authorizeUrl: string): Promise<Connection> {
  const popup = window.open(authorizeUrl, 'codestep-oauth', 'popup,width=640,height=760');
  if (!popup) throw new Error(`The pop-up was blocked: allow pop-ups for this page, or open ${authorizeUrl} yourself.`);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const c = await api.get<Connection>(`/v1/connections/${encodeURIComponent(handle)}`);
    if (c.status !== 'pending' && c.authorizedAt) return c;
    if (Date.now() > deadline) throw new Error('The connection was not authorized within 10 minutes; reconnect to try again.');
    if (popup.closed && c.status === 'pending') {
      await new Promise((r) => setTimeout(r, 2000));
      const last = await api.get<Connection>(`/v1/connections/${encodeURIComponent(handle)}`);
      if (last.status === 'pending') throw new Error('The pop-up was closed before the connection was authorized.');
      return last;
    }
  }
}
