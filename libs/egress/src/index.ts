export { createEgressFetch, defaultLookup, type EgressOptions } from './egress-fetch.ts';
export {
  DEFAULT_EGRESS_LIMITS,
  type EgressErrorCode,
  type EgressFetch,
  type EgressLimits,
  type EgressLookup,
  type EgressPolicy,
  type EgressRequest,
  type EgressResponse,
  type EgressStats,
  type RedirectMode,
  type ResolvedAddress,
} from './egress.types.ts';
export { classifyAddress, ipLiteralOf, parseIPv4, parseIPv6, type AddressVerdict } from './ip-address.policy.ts';
