/** What a connection's status means to an action asking for its token. */
import type { ConnectionDoc } from './connection.model.ts';
import type { TokenOutcome } from './credentials.types.ts';

export function needsReauthMessage(handle: string, reason: string): string {
  return `OAuth connection "${handle}" needs to be reconnected: ${reason || 'its authorization is no longer valid'}. Reconnect it under OAuth Connections.`;
}

/** The outcome for a connection that cannot serve a token in its status; undefined when active. */
export function statusOutcome(doc: ConnectionDoc): TokenOutcome | undefined {
  switch (doc.status) {
    case 'active':
      return undefined;
    case 'pending':
      return {
        ok: false,
        errorCode: 'NOT_AUTHORIZED',
        error: `OAuth connection "${doc.handle}" has not been authorized yet. Finish connecting it under OAuth Connections (sign in and grant access).`,
      };
    case 'needs_reauth':
      return { ok: false, errorCode: 'NEEDS_REAUTH', error: needsReauthMessage(doc.handle, doc.statusReason) };
    case 'revoked':
      return { ok: false, errorCode: 'REVOKED', error: `OAuth connection "${doc.handle}" was revoked. Reconnect it under OAuth Connections to use it again.` };
  }
}
