/**
 * Portal → tenant for HubSpot's calls (the action URL, its options URL, the webhook receiver),
 * kept in memory per gateway process so each call does not ask the broker. The broker stays the
 * source of truth (`FindAccountConnection`: which tenant's connection is installed in the
 * portal, refusing a portal two tenants connected); this only remembers its answers for a
 * short while (`ttlMs`, 5 s), and forgets a portal's answer at every change of a HubSpot
 * connection of that portal: each gateway process follows `codestep.connections.v1` (a consumer
 * group per process), reading each `ConnectionChanged` (the connection's view after the change:
 * its portal, status and sequence). Per portal it remembers which connections the stream says
 * are not active (revoked, `needs_reauth`, pending) as of their latest sequence, and:
 * - never gives an answer naming one of those (the broker's view may lag the stream the
 *   gateway has read: the call is refused as unavailable, 503, and HubSpot retries it);
 * - keeps no answer asked before the portal's last change, nor any within `settleMs` of it
 *   (the broker's view may still be settling), so a re-ask right after a change is not kept.
 * So an answer is never older than the changes this gateway has read, and at most `ttlMs`
 * older than the broker's view whatever this gateway's consumer lags. Refusals (no connection,
 * two tenants) are never kept: the next call asks again.
 */
import { hostname } from 'node:os';
import { CodestepError } from '@codestep/core';
import type { EventLog, Subscription } from '@codestep/event-log';
import { Topics, fromRecord } from '@codestep/events';

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
  /** How long an answer is kept at most, ms. @default 5000 */
  ttlMs?: number;
  /** How long after a change of a portal's connection no answer for it is kept, ms. @default 1000 */
  settleMs?: number;
  /** Consumer group prefix. @default 'codestep-gateway-hubspot-portals' */
  group?: string;
  /**
   * This gateway process among those sharing the log: unique among the running ones, the same
   * across its restarts (the group is `<group>-<replicaId>`, `-<n>` added while others of that
   * name run in this process). @default `<hostname>-<pid>`
   */
  replicaId?: string;
  onError?(error: unknown): void;
}

/** The groups of those running in this process (each has its own). */
const running = new Set<string>();

/**
 * Every replica must see every change, so each has a group of its own: stable across its
 * restarts (a group per replica left behind in the log, not one per start). It resumes where it
 * stopped, or reads from the beginning the first time: the cache starts empty, so that only costs
 * the reading (and what it learns of revoked connections is kept).
 */
function ownGroup(deps: PortalOwnersDeps): string {
  const base = `${deps.group ?? 'codestep-gateway-hubspot-portals'}-${deps.replicaId ?? `${hostname()}-${process.pid}`}`;
  let group = base;
  for (let n = 2; running.has(group); n++) group = `${base}-${n}`;
  running.add(group);
  return group;
}

const pairOf = (tenantId: string, handle: string) => `${tenantId}\u0000${handle}`;

/** Forgets what a HubSpot connection's `ConnectionChanged` makes stale, and marks its portal changed. */
function readChange(value: Uint8Array, kept: Map<number, { owner: PortalOwner }>, changedPortal: (portalId: number) => { connections: Map<string, { sequence: number; active: boolean }> }): void {
  const env = fromRecord(value);
  if (env?.event.$case !== 'connectionChanged' || env.event.value.provider !== 'hubspot') return;
  const { handle, sequence, status, accountId } = env.event.value;
  const pair = pairOf(env.tenantId, handle);
  // Wherever this connection was kept as the owner (its portal may have changed), forget it.
  for (const [portalId, k] of kept) if (pairOf(k.owner.tenantId, k.owner.handle) === pair) changedPortal(portalId);
  const portalId = Number(accountId);
  if (!accountId || !Number.isSafeInteger(portalId)) return;
  const p = changedPortal(portalId);
  const known = p.connections.get(pair);
  if (!known || sequence >= known.sequence) p.connections.set(pair, { sequence, active: status === 'active' });
}

export async function startPortalOwners(deps: PortalOwnersDeps): Promise<PortalOwners> {
  const ask = async (portalId: number): Promise<PortalOwner> => {
    const c = await deps.findAccountConnection({ provider: 'hubspot', accountId: String(portalId) });
    return { tenantId: c.tenantId, handle: c.handle };
  };
  if (!deps.eventLog) return { of: ask, stop: async () => undefined };
  const ttlMs = deps.ttlMs ?? 5_000;
  const settleMs = deps.settleMs ?? 1_000;
  const kept = new Map<number, { owner: PortalOwner; at: number }>();
  /** Asked now (one broker call per portal at a time). */
  const asking = new Map<number, Promise<PortalOwner>>();
  /** Changes read (a count), and per portal: its last change (count, time) and its connections by latest sequence. */
  let changes = 0;
  const portals = new Map<number, { change: number; at: number; connections: Map<string, { sequence: number; active: boolean }> }>();
  const changedPortal = (portalId: number) => {
    let p = portals.get(portalId);
    if (!p) portals.set(portalId, (p = { change: 0, at: 0, connections: new Map() }));
    p.change = ++changes;
    p.at = deps.clock();
    kept.delete(portalId);
    asking.delete(portalId);
    return p;
  };
  const notActive = (portalId: number, owner: PortalOwner) => portals.get(portalId)?.connections.get(pairOf(owner.tenantId, owner.handle))?.active === false;

  await deps.eventLog.ensureTopics([Topics.connections]);
  const group = ownGroup(deps);
  const subscription: Subscription = await deps.eventLog
    .consume({
      group,
      topics: [Topics.connections],
      batchSize: 500,
      handle: async (batch) => {
        for (const record of batch) readChange(record.value, kept, changedPortal);
        return [];
      },
      ...(deps.onError ? { onError: deps.onError } : {}),
    })
    .catch((error: unknown) => {
      running.delete(group);
      throw error;
    });
  return {
    of(portalId) {
      const hit = kept.get(portalId);
      if (hit && deps.clock() - hit.at < ttlMs) return Promise.resolve(hit.owner);
      const pending = asking.get(portalId);
      if (pending) return pending;
      const asked = changes;
      const at = deps.clock();
      const p = ask(portalId).then(
        (owner) => {
          if (asking.get(portalId) === p) asking.delete(portalId);
          if (notActive(portalId, owner)) {
            throw new CodestepError('UNAVAILABLE', `the HubSpot connection of account ${portalId} changed just now; retry shortly`, { details: { portalId } });
          }
          // Kept only if the portal's connections did not change while the broker was asked, nor just before.
          const last = portals.get(portalId);
          if (!last || (last.change <= asked && deps.clock() - last.at >= settleMs)) kept.set(portalId, { owner, at });
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
    stop: async () => {
      await subscription.stop();
      running.delete(group);
    },
  };
}
