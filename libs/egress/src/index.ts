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
export { createSocketEgress } from './egress-socket.ts';
export {
  DEFAULT_SOCKET_LIMITS,
  type EgressSocket,
  type PeerCertificate,
  type SocketConnectInfo,
  type SocketEgress,
  type SocketEgressOptions,
  type SocketErrorCode,
  type SocketEvents,
  type SocketLimits,
  type SocketRequest,
  type SocketSecureInfo,
  type SocketStats,
} from './egress-socket.types.ts';
export { compileSocketAllowList, normaliseSocketHost } from './socket-target.policy.ts';
export { createEgressDns, DNS_CAPS, type EgressDns, type EgressDnsOptions } from './egress-dns.ts';
export { DRY_RUN_BODY_CHARS, DRY_RUN_MAX_ENTRIES, DRY_RUN_REDACTED, DryRunLedger, dryRunResponse, dryRunStatus, type DryRunWrite } from './dry-run.ledger.ts';
