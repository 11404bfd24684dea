/**
 * Stamps an execution grant on each action request the decider produced: signed with the grant
 * key (shared with the OAuth broker only), naming the tenant, the execution, and the secrets and
 * connections the action of that workflow version selected. The decider stays pure; this runs
 * right after it, before anything is reserved or appended. The expiry counts from the request's
 * own `occurredAt`, so deciding the same request again (a retry timer fired twice) stamps the
 * same bytes.
 */
import type { WorkflowDefinition } from '@codestep/contracts';
import { HUBSPOT_TOKEN_SECRET, signGrant } from '@codestep/core';
import type { Envelope } from '@codestep/events';

/** The grant key and how long a grant lasts. */
export interface GrantSettings {
  /** 32 bytes, shared with the OAuth broker. */
  key: Uint8Array;
  /** How long after the action was requested its grant is accepted, ms. */
  ttlMs: number;
}

/** Returns the events with a grant on every `ActionRequested` of `wf`. */
export type GrantStamper = (wf: WorkflowDefinition, envs: Envelope[]) => Envelope[];

/**
 * The action's connections, plus the HubSpot connection of the portal that enrolled the object
 * when the action selects its token (`HUBSPOT_ACCESS_TOKEN`): that one the executor fetches for it.
 */
function grantedConnections(declared: readonly string[], secrets: readonly string[], hubspotHandle: string | undefined): string[] {
  return hubspotHandle && secrets.includes(HUBSPOT_TOKEN_SECRET) && !declared.includes(hubspotHandle) ? [...declared, hubspotHandle] : [...declared];
}

export function createGrantStamper(settings: GrantSettings): GrantStamper {
  return (wf, envs) =>
    envs.map((env) => {
      if (env.event.$case !== 'actionRequested') return env;
      const req = env.event.value;
      // A test of a draft carries its action: its secrets and connections are the ones granted.
      const action = req.draftAction ?? (req.context ? wf.actions[req.context.stepIndex] : undefined);
      const grant = signGrant(settings.key, {
        tenantId: env.tenantId,
        executionId: req.executionId,
        secrets: action?.secretNames ?? [],
        connections: grantedConnections(action?.connectionHandles ?? [], action?.secretNames ?? [], req.context?.hubspot?.connectionHandle),
        expiresAt: env.occurredAt + settings.ttlMs,
      });
      return { ...env, event: { $case: 'actionRequested', value: { ...req, grant } } };
    });
}
