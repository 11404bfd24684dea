/**
 * The policy check of each request (each redirect hop included): the scheme, then every address
 * the host resolves to, unless the host is allowed or mapped. The address it returns is the one
 * the connection is pinned to, so what was checked is what is dialled.
 */
import { blockRequest, type EgressContext } from './egress.context.ts';
import { EgressError } from './egress.error.ts';
import type { ResolvedAddress } from './egress.types.ts';
import { applyMap, isAllowed, mapFor } from './host-rules.policy.ts';
import { classifyAddress, ipLiteralOf } from './ip-address.policy.ts';

/** The URL to dial for `url` (after `mapHosts`) and the checked address to connect to. */
export async function resolveTarget(ctx: EgressContext, url: URL): Promise<{ target: URL; pinned: ResolvedAddress }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    blockRequest(ctx, url, `the ${url.protocol.replace(/:$/, '')} scheme is not allowed (only http and https)`);
  }
  const map = mapFor(ctx.rules, url);
  const target = applyMap(url, map);
  const exempt = map !== undefined || isAllowed(ctx.rules, url);
  const literal = ipLiteralOf(target.hostname);
  let addresses: ResolvedAddress[];
  if (literal !== null) {
    addresses = [literal];
  } else {
    try {
      addresses = await ctx.lookup(target.hostname);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new EgressError('EGRESS_NETWORK', `Could not resolve ${target.hostname}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
    if (addresses.length === 0) throw new EgressError('EGRESS_NETWORK', `Could not resolve ${target.hostname} (no addresses)`);
  }
  if (!exempt) {
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (!verdict.public) {
        blockRequest(ctx, url, literal !== null ? `${address} is a ${verdict.reason}` : `it resolves to ${address}, a ${verdict.reason}`);
      }
    }
  }
  const pinned = addresses[0];
  if (pinned === undefined) throw new EgressError('EGRESS_NETWORK', `Could not resolve ${target.hostname}`);
  return { target, pinned };
}
