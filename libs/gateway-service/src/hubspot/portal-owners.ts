/**
 * Portal → tenant for HubSpot's calls (the action URL, its options URL, the webhook receiver),
 * kept in memory per gateway process so each call does not ask the broker. The broker stays the
 * source of truth (`FindAccountConnection`: which tenant's connection is installed in the
 * portal, refusing a portal two tenants connected); this only remembers its answers, and forgets
 * all of them at every change of any connection: each gateway process follows
 * `codestep.connections.v1` with a consumer group of its own (every replica must see every
 * change), so a connection created, revoked, removed or marked `needs_reauth` is seen within the
 * log's delivery (in one process, the append wakes the consumer). The broker writes its view
 * before it appends the event, so an answer asked after the event reflects the change; an answer
 * that was being asked while a change arrived is not kept (a generation count). Refusals (no
 * connection, two tenants) are never kept: the next call asks again. A bound on how long an
 * answer is kept (`ttlMs`) covers a consumer that is stuck.
 */
import { randomUUID } from 'node:crypto';
import type { EventLog, Subscription } from '@codestep/event-log';
import { Topics } from '@codestep/events';

/** The tenant and connection that installed the app in a portal. */
export interface PortalOwner {
  tenantId: string;
  handle: string;
}

export interface PortalOwners {
  /** The portal's owner (the broker's refusal as it threw it: 404 / 409). */
  of(portalId: number): Promise<PortalOwner>;
  stop(): Promise<void>;
}

export interface PortalOwnersDeps {
  /** The broker's lookup (the gateway's credentials client). */
  findAccountConnection(req: { provider: string; accountId: string }): Promise<{ tenantId: string; handle: string }>;
  /** Where connection changes are followed; absent: nothing kept (every call asks the broker). */
  eventLog?: EventLog;
  clock: () => number;
  /** How long an answer is kept at most, ms. @default 60000 */
  ttlMs?: number;
  /** Consumer group prefix (a random suffix makes it this process's own). @default 'codestep-gateway-hubspot-portals' */
  group?: string;
  onError?(error: unknown): void;
}

export async function startPortalOwners(deps: PortalOwnersDeps): Promise<PortalOwners> {
  const ask = async (portalId: number): Promise<PortalOwner> => {
    const c = await deps.findAccountConnection({ provider: 'hubspot', accountId: String(portalId) });
    return { tenantId: c.tenantId, handle: c.handle };
  };
  if (!deps.eventLog) return { of: ask, stop: async () => undefined };
  const ttlMs = deps.ttlMs ?? 60_000;
  const kept = new Map<number, { owner: PortalOwner; at: number }>();
  /** Asked now (one broker call per portal at a time), with the generation it was asked in. */
  const asking = new Map<number, Promise<PortalOwner>>();
  let generation = 0;
  const forget = () => {
    generation++;
    kept.clear();
    asking.clear();
  };
  await deps.eventLog.ensureTopics([Topics.connections]);
  const subscription: Subscription = await deps.eventLog.consume({
    group: `${deps.group ?? 'codestep-gateway-hubspot-portals'}-${randomUUID()}`,
    topics: [Topics.connections],
    batchSize: 500,
    handle: async (batch) => {
      // Any event of any connection (a token refresh too: rare, and simpler than telling which change moves a portal).
      if (batch.length > 0) forget();
      return [];
    },
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  return {
    of(portalId) {
      const hit = kept.get(portalId);
      if (hit && deps.clock() - hit.at < ttlMs) return Promise.resolve(hit.owner);
      const pending = asking.get(portalId);
      if (pending) return pending;
      const asked = generation;
      const at = deps.clock();
      const p = ask(portalId).then(
        (owner) => {
          if (asking.get(portalId) === p) asking.delete(portalId);
          // Kept only if no connection changed while the broker was asked.
          if (generation === asked) kept.set(portalId, { owner, at });
          return owner;
        },
        (error: unknown) => {
          if (asking.get(portalId) === p) asking.delete(portalId);
          throw error;
        },
      );
      asking.set(portalId, p);
      return p;
    },
    stop: () => subscription.stop(),
  };
}
