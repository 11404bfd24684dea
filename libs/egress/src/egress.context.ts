/**
 * What the parts of one egress fetch share: its caps, its counters, the parsed host rules, DNS
 * and the logger, and the one way a request is refused by policy (counted and logged).
 */
import type { Logger } from '@codestep/core';
import { EgressError } from './egress.error.ts';
import type { EgressLimits, EgressLookup, EgressStats } from './egress.types.ts';
import type { HostRules } from './host-rules.policy.ts';

const ADVICE = 'Sandboxed code may only reach public internet addresses; if this host is an internal service you trust, an operator can add it to the egress allowHosts setting.';

/** The state of one egress fetch; `stats` is updated in place. */
export interface EgressContext {
  readonly caps: EgressLimits;
  readonly rules: HostRules;
  readonly lookup: EgressLookup;
  readonly logger: Logger;
  readonly stats: EgressStats;
}

/** Refuse the request to `url` by policy: counted, logged (host and rule only) and thrown as EGRESS_BLOCKED. */
export function blockRequest(ctx: EgressContext, url: URL, rule: string): never {
  ctx.stats.blocked++;
  ctx.logger.warn({ host: url.host, rule }, 'egress blocked');
  throw new EgressError('EGRESS_BLOCKED', `Request to ${url.host} was blocked: ${rule}. ${ADVICE}`);
}
