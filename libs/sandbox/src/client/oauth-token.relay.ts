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

/** A run-state request from the host: the execution's id, the call's id and the operation (JSON). */
export type RunStateRequestHandler = (id: number, callId: number, requestJson: string) => void;

/**
 * The run-state handler (JsWorkflows' `api.runStore`, `api.dedupe`) for the host process
 * `connection()` returns: mapped to the execution it came from, bounded by the runtime's
 * run-state timeout; only `{ value }` or `{ error }` goes back.
 */
export function relayRunStateRequests(
  running: ReadonlyMap<number, RunningExecution>,
  hostApi: SandboxHostApi | undefined,
  logger: Logger,
): (connection: () => HostConnection | undefined) => RunStateRequestHandler {
  return (connection) => (id, callId, requestJson) => {
    const execution = running.get(id);
    const answer = (result: { value?: unknown; error?: string }) => {
      let json: string;
      try {
        json = JSON.stringify(result.error !== undefined ? { error: result.error } : { value: result.value ?? null });
      } catch {
        json = JSON.stringify({ error: 'the run state answered with a value that is not JSON' });
      }
      connection()?.runStateResult(id, callId, json);
    };
    const runState = hostApi?.runState;
    if (!execution || !runState) {
      answer({ error: 'api.runStore and api.dedupe are not available here (they need a workflow run)' });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ error: string }>((resolve) => {
      timer = setTimeout(() => resolve({ error: `the run state did not answer within ${RUNTIME_CAPS.runStateTimeoutMs} ms; try again` }), RUNTIME_CAPS.runStateTimeoutMs);
    });
    Promise.race([runState.call(hostApi, { tenantId: execution.tenantId, executionId: execution.executionId, requestJson }), timeout])
      .then((result) => answer(typeof result?.error === 'string' ? { error: result.error } : { value: (result as { value?: unknown }).value }))
      .catch((error: unknown) => {
        logger.warn({ executionId: execution.executionId }, `run state failed: ${error instanceof Error ? error.message : String(error)}`);
        answer({ error: 'the run state could not be reached; try again' });
      })
      .finally(() => clearTimeout(timer));
  };
}
