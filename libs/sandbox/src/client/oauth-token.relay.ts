/**
 * Answers the OAuth token requests of running code through `SandboxOptions.hostApi`: the
 * request is mapped to the execution it came from (tenant, execution id), bounded by the
 * runtime's OAuth timeout, and only a token string or an error message goes back.
 */
import type { Logger } from '@codestep/core';
import { RUNTIME_CAPS } from '../limits.ts';
import type { SandboxHostApi } from '../sandbox.types.ts';
import type { HostConnection } from './host-connection.ts';

/** Who an execution in flight belongs to, by its host-side id. */
export interface RunningExecution {
  tenantId: string;
  executionId: string;
}

/** An OAuth request from the host: the execution's id, the call's id and the connection handle. */
export type OAuthRequestHandler = (id: number, callId: number, handle: string) => void;

/**
 * The OAuth handler for the host process `connection()` returns (the answer goes to that process).
 * `running` maps the host's execution ids to their tenant and execution.
 */
export function relayOAuthRequests(
  running: ReadonlyMap<number, RunningExecution>,
  hostApi: SandboxHostApi | undefined,
  logger: Logger,
): (connection: () => HostConnection | undefined) => OAuthRequestHandler {
  return (connection) => (id, callId, handle) => {
    const execution = running.get(id);
    const answer = (result: { token?: string; error?: string }) => connection()?.oauthResult(id, callId, result);
    const getToken = hostApi?.getOAuthToken;
    if (!execution || !getToken) {
      answer({ error: 'OAuth connections are not available in this environment' });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ token?: string; error?: string }>((resolve) => {
      timer = setTimeout(() => resolve({ error: `getOAuthToken timed out after ${RUNTIME_CAPS.oauthTimeoutMs} ms` }), RUNTIME_CAPS.oauthTimeoutMs);
    });
    Promise.race([getToken.call(hostApi, { tenantId: execution.tenantId, executionId: execution.executionId, handle }), timeout])
      .then((result) => {
        const token = typeof result?.token === 'string' ? result.token : undefined;
        const error = typeof result?.error === 'string' ? result.error : undefined;
        answer(token !== undefined ? { token } : { error: error ?? `No token for connection "${handle}"` });
      })
      .catch((error: unknown) => {
        logger.warn({ executionId: execution.executionId, handle }, `getOAuthToken failed: ${error instanceof Error ? error.message : String(error)}`);
        answer({ error: `Could not get a token for connection "${handle}"` });
      })
      .finally(() => clearTimeout(timer));
  };
}
