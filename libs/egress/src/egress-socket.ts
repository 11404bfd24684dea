/**
 * The host side of sandbox sockets (`net`/`tls` in the context): opens real TCP and TLS
 * connections for one execution under the operator's egress policy and caps.
 *
 * - The target is checked like an HTTP request (`socket-target.policy.ts`): public addresses
 *   only, unless `allowSockets` lists the host and port; DNS is resolved once and the socket
 *   dials the checked address (no rebinding). TLS verifies the certificate against the name
 *   the code used (SNI included), not the address.
 * - Caps per execution: connections opened and open at once, bytes in and out over all
 *   sockets, connect time and each connection's lifetime. Passing one ends that socket with
 *   `EGRESS_LIMIT` / `EGRESS_TIMEOUT`.
 * - `closeAll()` destroys every socket (the execution ended); a worker that is terminated
 *   closes its sockets with its event loop.
 */
import net from 'node:net';
import tls from 'node:tls';
import { silentLogger } from '@codestep/core';
import { defaultLookup } from './egress-fetch.ts';
import { EgressError } from './egress.error.ts';
import type { EgressPolicy } from './egress.types.ts';
import {
  DEFAULT_SOCKET_LIMITS,
  type EgressSocket,
  type PeerCertificate,
  type SocketEgress,
  type SocketEgressOptions,
  type SocketEvents,
  type SocketLimits,
  type SocketRequest,
  type SocketStats,
} from './egress-socket.types.ts';
import { compileSocketAllowList, resolveSocketTarget, type SocketTargetContext } from './socket-target.policy.ts';

function certificateOf(socket: tls.TLSSocket): PeerCertificate | null {
  const cert = socket.getPeerCertificate();
  if (Object.keys(cert).length === 0) return null;
  const flat = (value: unknown): Record<string, string> => {
    const out: Record<string, string> = {};
    if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
    return out;
  };
  return {
    subject: flat(cert.subject),
    issuer: flat(cert.issuer),
    valid_from: cert.valid_from,
    valid_to: cert.valid_to,
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    subjectaltname: cert.subjectaltname ?? '',
  };
}

interface Tracked {
  socket: net.Socket | null;
  closed: boolean;
  timers: NodeJS.Timeout[];
}

/** What the sockets of one execution share: caps, counters, the policy, the live set. */
interface Shared {
  caps: SocketLimits;
  stats: SocketStats;
  target: SocketTargetContext;
  options: SocketEgressOptions;
  live: Set<Tracked>;
  ended: boolean;
}

/** Sockets for one execution; `policy.allowSockets` is parsed once here. */
export function createSocketEgress(policy: Pick<EgressPolicy, 'allowSockets'>, limits: Partial<SocketLimits> = {}, options: SocketEgressOptions = {}): SocketEgress {
  const logger = options.logger ?? silentLogger;
  const stats: SocketStats = { opened: 0, open: 0, bytesIn: 0, bytesOut: 0, blocked: 0 };
  const shared: Shared = {
    caps: capsOf(limits),
    stats,
    target: {
      allow: compileSocketAllowList(policy.allowSockets ?? []),
      lookup: options.lookup ?? defaultLookup,
      onBlocked: (where, rule) => {
        stats.blocked++;
        logger.warn({ target: where, rule }, 'egress socket blocked');
      },
    },
    options,
    live: new Set(),
    ended: false,
  };
  return {
    open: (request, events) => openSocket(shared, request, events),
    closeAll: () => {
      shared.ended = true;
      for (const tracked of shared.live) {
        tracked.closed = true;
        for (const t of tracked.timers) clearTimeout(t);
        tracked.socket?.destroy();
      }
      shared.live.clear();
      stats.open = 0;
    },
    stats: () => ({ ...stats }),
  };
}

function openSocket(shared: Shared, request: SocketRequest, events: SocketEvents): EgressSocket {
  const { caps, stats } = shared;
  const tracked: Tracked = { socket: null, closed: false, timers: [] };
  let paused = false;
  const finish = (hadError: boolean): void => {
    if (tracked.closed) return;
    tracked.closed = true;
    for (const t of tracked.timers) clearTimeout(t);
    if (shared.live.delete(tracked)) stats.open--;
    tracked.socket?.destroy();
    events.close(hadError);
  };
  const fail = (error: unknown): void => {
    if (tracked.closed) return;
    if (error instanceof EgressError) events.error(error.code, error.message, null);
    else {
      const systemCode = (error as { code?: unknown }).code;
      const code = typeof systemCode === 'string' ? systemCode : null;
      events.error('EGRESS_NETWORK', `Connection to ${request.host}:${request.port} failed: ${(error as Error).message ?? String(error)}`, code);
    }
    finish(true);
  };
  const handle: EgressSocket = {
    write: (chunk) => {
      const socket = tracked.socket;
      if (tracked.closed || socket === null) return false;
      if (stats.bytesOut + chunk.length > caps.maxBytesOut) {
        fail(new EgressError('EGRESS_LIMIT', `Too much data sent: this execution's sockets may send ${caps.maxBytesOut} bytes in all. Send less, or ask the operator to raise the socket byte limit.`));
        return false;
      }
      stats.bytesOut += chunk.length;
      socket.write(chunk);
      return true;
    },
    end: () => void tracked.socket?.end(),
    destroy: () => finish(false),
    pause: () => {
      paused = true;
      tracked.socket?.pause();
    },
    resume: () => {
      paused = false;
      tracked.socket?.resume();
    },
    setNoDelay: (noDelay) => void tracked.socket?.setNoDelay(noDelay),
    setKeepAlive: (enable, delay) => void tracked.socket?.setKeepAlive(enable, delay),
  };
  const refusal = refusalOf(shared);
  if (refusal !== null) {
    queueMicrotask(() => fail(refusal));
    return handle;
  }
  stats.opened++;
  stats.open++;
  shared.live.add(tracked);
  const where = `${request.host}:${request.port}`;
  tracked.timers.push(
    setTimeout(() => fail(new EgressError('EGRESS_TIMEOUT', `Connecting to ${where} took more than ${caps.connectTimeoutMs} ms`)), caps.connectTimeoutMs),
    setTimeout(() => fail(new EgressError('EGRESS_TIMEOUT', `The connection to ${where} was open for ${caps.maxConnectionMs} ms, the most one connection may stay open`)), caps.maxConnectionMs),
  );
  resolveSocketTarget(shared.target, request.host, request.port)
    .then((resolved) => {
      if (tracked.closed) return;
      try {
        shared.options.beforeConnect?.({ host: resolved.host, port: request.port, address: resolved.address, family: resolved.family });
      } catch (error) {
        throw new EgressError('EGRESS_BLOCKED', `Connection to ${where} was refused: ${(error as Error).message}`);
      }
      const socket = dial(request, resolved);
      tracked.socket = socket;
      if (paused) socket.pause();
      wire(socket, request, events, { caps, stats, fail, finish, connected: () => clearTimeout(tracked.timers[0]) });
    })
    .catch(fail);
  return handle;
}

/** The defaults, with each limit given as a positive number replaced (anything else is ignored). */
function capsOf(limits: Partial<SocketLimits>): SocketLimits {
  const caps = { ...DEFAULT_SOCKET_LIMITS };
  for (const key of Object.keys(caps) as Array<keyof SocketLimits>) {
    const value = limits[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) caps[key] = value;
  }
  return caps;
}

/** Why a new connection is refused at once (ended execution, a count cap), or null. */
function refusalOf({ ended, stats, caps, options }: Shared): EgressError | null {
  if (ended) return new EgressError('EGRESS_ABORTED', 'The execution has ended; no new connections');
  if (options.dryRun) {
    return new EgressError(
      'EGRESS_BLOCKED',
      'This is a dry run: sockets (net, tls, database clients) are not opened, since their reads and writes cannot be told apart. Only HTTP requests that read go out in a dry run.',
    );
  }
  if (stats.opened >= caps.maxConnections) {
    return new EgressError(
      'EGRESS_LIMIT',
      `Too many connections: this execution already opened ${stats.opened} sockets (limit ${caps.maxConnections}). Reuse connections (one client per execution), or ask the operator to raise the socket limit.`,
    );
  }
  if (stats.open >= caps.maxOpen) {
    return new EgressError(
      'EGRESS_LIMIT',
      `Too many open connections: this execution has ${stats.open} sockets open (limit ${caps.maxOpen}). Close connections you no longer need, or use a smaller pool.`,
    );
  }
  return null;
}

function dial(request: SocketRequest, resolved: { host: string; address: string; family: 4 | 6 }): net.Socket {
  const base = {
    host: resolved.address,
    port: request.port,
    family: resolved.family,
    noDelay: request.noDelay === true,
    keepAlive: request.keepAlive === true,
    keepAliveInitialDelay: request.keepAliveInitialDelayMs ?? 0,
  };
  if (request.tls === undefined) return net.connect(base);
  const isName = net.isIP(resolved.host) === 0;
  const servername = request.tls.servername ?? (isName ? resolved.host : undefined);
  const checkedName = servername ?? resolved.host;
  return tls.connect({
    ...base,
    ...(servername !== undefined && net.isIP(servername) === 0 ? { servername } : {}),
    rejectUnauthorized: request.tls.rejectUnauthorized !== false,
    ...(request.tls.ca !== undefined && request.tls.ca.length > 0 ? { ca: [...tls.rootCertificates, ...request.tls.ca] } : {}),
    ...(request.tls.alpnProtocols !== undefined ? { ALPNProtocols: request.tls.alpnProtocols } : {}),
    // The certificate must match the name the code asked for, not the pinned address.
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(checkedName, cert),
  });
}

interface WireState {
  caps: SocketLimits;
  stats: SocketStats;
  fail: (error: unknown) => void;
  finish: (hadError: boolean) => void;
  connected: () => void;
}

function wire(socket: net.Socket, request: SocketRequest, events: SocketEvents, state: WireState): void {
  const { caps, stats } = state;
  const isTls = socket instanceof tls.TLSSocket;
  socket.once('connect', () => {
    if (!isTls) state.connected();
    events.connect({
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? request.port,
      remoteFamily: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4',
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
    });
  });
  if (isTls) {
    socket.once('secureConnect', () => {
      state.connected();
      const authorizationError = socket.authorizationError;
      const alpn = socket.alpnProtocol;
      events.secure({
        authorized: socket.authorized,
        authorizationError: authorizationError === undefined || authorizationError === null ? null : String(authorizationError as unknown),
        protocol: socket.getProtocol(),
        alpnProtocol: typeof alpn === 'string' ? alpn : false,
        cert: certificateOf(socket),
      });
    });
  }
  socket.on('data', (chunk: Buffer) => {
    stats.bytesIn += chunk.length;
    if (stats.bytesIn > caps.maxBytesIn) {
      state.fail(
        new EgressError(
          'EGRESS_LIMIT',
          `Too much data received: this execution's sockets may receive ${caps.maxBytesIn} bytes in all. Ask for less data, or ask the operator to raise the socket byte limit.`,
        ),
      );
      return;
    }
    events.data(chunk);
  });
  socket.on('end', () => events.end());
  socket.on('error', (error) => state.fail(error));
  socket.on('close', (hadError) => state.finish(hadError));
}
