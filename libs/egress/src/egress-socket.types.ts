/**
 * The shapes of sandbox TCP/TLS egress (`net`/`tls` in the context): what the code asks for,
 * the caps of one execution, and the events that come back. Everything crossing the sandbox
 * bridge is a primitive or JSON of these.
 */
import type { Logger } from '@codestep/core';
import type { EgressErrorCode, EgressLookup, ResolvedAddress } from './egress.types.ts';

/** Caps for one execution's sockets; every {@link SocketEgress} counts against its own. */
export interface SocketLimits {
  /** Connections opened over the execution (refused ones included). @default 50 */
  maxConnections: number;
  /** Connections open at once; one more fails at once with EGRESS_LIMIT. @default 20 */
  maxOpen: number;
  /** Bytes received, summed over the execution's sockets. @default 33554432 (32 MiB) */
  maxBytesIn: number;
  /** Bytes sent, summed over the execution's sockets. @default 16777216 (16 MiB) */
  maxBytesOut: number;
  /** DNS + TCP connect + TLS handshake of one connection, ms. @default 10000 */
  connectTimeoutMs: number;
  /** How long one connection may stay open, ms (a trickling server cannot hold it longer). @default 300000 */
  maxConnectionMs: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  maxConnections: 50,
  maxOpen: 20,
  maxBytesIn: 32 * 1024 * 1024,
  maxBytesOut: 16 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  maxConnectionMs: 300_000,
};

/** What `net.connect` / `tls.connect` in the context ask for. */
export interface SocketRequest {
  host: string;
  port: number;
  /** Present for `tls.connect`. */
  tls?: {
    /** SNI and the name the certificate must match. @default host (when it is a name) */
    servername?: string;
    /** @default true */
    rejectUnauthorized?: boolean;
    /** Extra trusted CAs, PEM (the code's own `ca` option). */
    ca?: string[];
    alpnProtocols?: string[];
  };
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelayMs?: number;
}

/** The peer's certificate as the context sees it (`getPeerCertificate()`, minimal). */
export interface PeerCertificate {
  subject: Record<string, string>;
  issuer: Record<string, string>;
  valid_from: string;
  valid_to: string;
  fingerprint256: string;
  serialNumber: string;
  subjectaltname: string;
}

/** Where the connection went, for `remoteAddress` and friends. */
export interface SocketConnectInfo {
  remoteAddress: string;
  remotePort: number;
  remoteFamily: 'IPv4' | 'IPv6';
  localAddress: string;
  localPort: number;
}

export interface SocketSecureInfo {
  authorized: boolean;
  authorizationError: string | null;
  protocol: string | null;
  alpnProtocol: string | false;
  cert: PeerCertificate | null;
}

/** Stable failure codes of a socket: the egress ones, as for fetch (never `EGRESS_REDIRECT`). */
export type SocketErrorCode = EgressErrorCode;

/** What one socket reports, in order: connect (secure), data…, end, close; error before close. */
export interface SocketEvents {
  connect(info: SocketConnectInfo): void;
  secure(info: SocketSecureInfo): void;
  data(chunk: Buffer): void;
  end(): void;
  /** `code` is an egress code or the system's (`ECONNREFUSED`, `ECONNRESET`, …) under `EGRESS_NETWORK`. */
  error(code: SocketErrorCode, message: string, systemCode: string | null): void;
  close(hadError: boolean): void;
}

/** One socket, as the host holds it for the context. Every call after close is ignored. */
export interface EgressSocket {
  /** Sends bytes; false when refused (closed, or over `maxBytesOut`, which also destroys it). */
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(): void;
  /** Stops (and restarts) reading from the network: backpressure from the context. */
  pause(): void;
  resume(): void;
  setNoDelay(noDelay: boolean): void;
  setKeepAlive(enable: boolean, initialDelayMs: number): void;
}

export interface SocketStats {
  opened: number;
  open: number;
  bytesIn: number;
  bytesOut: number;
  blocked: number;
}

export interface SocketEgressOptions {
  /** DNS resolution; tests inject one. @default dns.lookup with `all: true` */
  lookup?: EgressLookup;
  /**
   * Called just before each connection with the address that was checked and will be dialled.
   * Throwing refuses the connection with EGRESS_BLOCKED; tests use it to guarantee nothing
   * but loopback is ever dialled.
   */
  beforeConnect?: (target: { host: string; port: number } & ResolvedAddress) => void;
  logger?: Logger;
  /**
   * A dry run: no socket is opened (EGRESS_BLOCKED), since what a raw protocol reads and what it
   * writes cannot be told apart from outside.
   */
  dryRun?: boolean;
}

/** The sockets of one execution. */
export interface SocketEgress {
  /** Starts a connection; its outcome and traffic come back through `events`. */
  open(request: SocketRequest, events: SocketEvents): EgressSocket;
  /** Destroys every socket still open (the execution ended). Idempotent; later opens are refused. */
  closeAll(): void;
  stats(): SocketStats;
}
