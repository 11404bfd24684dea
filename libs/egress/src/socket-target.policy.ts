/**
 * The policy check of each socket the sandbox opens (`net.connect`, `tls.connect`): the same
 * rule as for HTTP — every address the host resolves to must be public — unless the operator
 * allow-listed that host and port (`allowSockets`). DNS is resolved once, here; the connection
 * goes to the address that was checked, so a DNS answer that changes later (rebinding) is
 * never used.
 */
import { CodestepError } from '@codestep/core';
import { EgressError } from './egress.error.ts';
import type { EgressLookup, ResolvedAddress } from './egress.types.ts';
import { classifyAddress, ipLiteralOf } from './ip-address.policy.ts';

const ADVICE =
  'Sandboxed code may only open sockets to public internet addresses; if this is a database or service you trust, an operator can add its host:port to the egress allowSockets setting (CODESTEP_EGRESS_ALLOW_SOCKETS).';

/** One `allowSockets` entry: a normalised host name or address, and a port. */
export interface SocketAllowEntry {
  host: string;
  port: number;
}

/**
 * A host as the sandbox names it, normalised as a URL host would be (lower case, IPv4
 * spellings such as `127.1` or `2130706433` turned into dotted quads, IPv6 without brackets).
 * `null` when it is not a host at all.
 */
export function normaliseSocketHost(host: string): string | null {
  const text = host.trim();
  if (text === '' || /[\s/?#@\\]/.test(text)) return null;
  const bracketed = text.includes(':') && !text.startsWith('[') ? `[${text}]` : text;
  try {
    const hostname = new URL(`http://${bracketed}`).hostname;
    return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  } catch {
    return null;
  }
}

/**
 * Parse the operator's `allowSockets` (`host:port`, `[v6]:port`).
 *
 * @throws CodestepError `INVALID_ARGUMENT` naming the entry when it is not a host and a port.
 */
export function compileSocketAllowList(entries: readonly string[]): SocketAllowEntry[] {
  return entries.map((entry) => {
    const match = /^(.*):(\d{1,5})$/.exec(entry.trim());
    const host = match?.[1] === undefined ? null : normaliseSocketHost(match[1].replace(/^\[(.*)\]$/, '$1'));
    const port = Number(match?.[2]);
    if (host === null || !(port >= 1 && port <= 65535)) {
      throw new CodestepError('INVALID_ARGUMENT', `egress allowSockets entry "${entry}" is not host:port (for example 127.0.0.1:6379, db.internal:3306 or [::1]:27017)`);
    }
    return { host, port };
  });
}

const allowed = (list: readonly SocketAllowEntry[], host: string, port: number): boolean => list.some((e) => e.port === port && e.host === host);

export interface SocketTargetContext {
  allow: readonly SocketAllowEntry[];
  lookup: EgressLookup;
  /** Counts and logs a refusal (the caller's stats). */
  onBlocked: (target: string, rule: string) => void;
}

/**
 * The address to dial for `host:port`, after the policy check.
 *
 * @throws EgressError `EGRESS_INVALID_REQUEST` (bad host or port), `EGRESS_BLOCKED` (a
 * non-public address that is not allow-listed), `EGRESS_NETWORK` (DNS failure).
 */
export async function resolveSocketTarget(ctx: SocketTargetContext, rawHost: string, port: number): Promise<ResolvedAddress & { host: string }> {
  const host = normaliseSocketHost(rawHost);
  if (host === null) throw new EgressError('EGRESS_INVALID_REQUEST', `"${rawHost.slice(0, 200)}" is not a host name or address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new EgressError('EGRESS_INVALID_REQUEST', `Port ${String(port)} is not a TCP port (1-65535)`);
  const literal = ipLiteralOf(host) ?? ipLiteralOf(`[${host}]`);
  let addresses: ResolvedAddress[];
  if (literal !== null) addresses = [literal];
  else {
    try {
      addresses = await ctx.lookup(host);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new EgressError('EGRESS_NETWORK', `Could not resolve ${host}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
  }
  const pinned = addresses[0];
  if (pinned === undefined) throw new EgressError('EGRESS_NETWORK', `Could not resolve ${host} (no addresses)`);
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  // The name the code used is allow-listed, or (for each address) the address itself is.
  if (!allowed(ctx.allow, host, port)) {
    for (const { address } of addresses) {
      if (allowed(ctx.allow, address, port)) continue;
      const verdict = classifyAddress(address);
      if (!verdict.public) {
        const rule = literal !== null ? `${address} is a ${verdict.reason}` : `it resolves to ${address}, a ${verdict.reason}`;
        ctx.onBlocked(target, rule);
        throw new EgressError('EGRESS_BLOCKED', `Connection to ${target} was blocked: ${rule}. ${ADVICE}`);
      }
    }
  }
  return { host, address: pinned.address, family: pinned.family };
}
