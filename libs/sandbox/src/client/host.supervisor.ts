/**
 * Keeps one sandbox host process: started on first use, restarted when it dies (at once, but
 * not more often than once a second), stopped on close.
 */
import type { Logger } from '@codestep/core';
import type { HostSettings } from '../protocol.ts';
import { HostConnection } from './host-connection.ts';
import type { OAuthRequestHandler, RunStateRequestHandler } from './oauth-token.relay.ts';

/** A crashed host is restarted at once, but not more often than this. */
const MIN_RESTART_INTERVAL_MS = 1000;

/** What every host process is started with. */
export interface HostSupervisorOptions {
  hostSource: string;
  gcHeadroomMb: number;
  settings: HostSettings;
  logger: Logger;
  /** The OAuth handler of a host process, given a way to reach that process once it is up. */
  onOAuth: (connection: () => HostConnection | undefined) => OAuthRequestHandler;
  onRunState: (connection: () => HostConnection | undefined) => RunStateRequestHandler;
  /** A library's source for the host (see `HostConnectionOptions.librarySource`). */
  librarySource: (name: string) => string | null;
}

/** The current host process, and the supervisor's state. */
export interface HostSupervisor {
  /** The running host, or the one starting (started now if there is none). */
  connection(): Promise<HostConnection>;
  /** `close()` was called. */
  readonly closed: boolean;
  /** Host processes started so far, restarts included. */
  readonly hostStarts: number;
  /** Stops the host at once and starts no other. */
  close(): Promise<void>;
}

/** Supervise a host process; none is started until {@link HostSupervisor.connection} is called. */
export function superviseHost(options: HostSupervisorOptions): HostSupervisor {
  const { logger } = options;
  let closed = false;
  let hostStarts = 0;
  let lastStart = 0;
  let host: Promise<HostConnection> | undefined;

  const start = (): Promise<HostConnection> => {
    hostStarts++;
    lastStart = Date.now();
    let current: HostConnection | undefined;
    const starting = HostConnection.start({
      hostSource: options.hostSource,
      gcHeadroomMb: options.gcHeadroomMb,
      settings: options.settings,
      logger,
      onOAuth: options.onOAuth(() => current),
      onRunState: options.onRunState(() => current),
      librarySource: options.librarySource,
      onExit: (description) => {
        logger.error({ description }, 'sandbox host process exited; starting a new one');
        if (host === starting) host = undefined;
        if (!closed) scheduleRestart();
      },
    }).then((connection) => {
      current = connection;
      return connection;
    });
    starting.catch(() => {
      if (host === starting) host = undefined;
    });
    return starting;
  };
  const scheduleRestart = () => {
    const wait = Math.max(0, lastStart + MIN_RESTART_INTERVAL_MS - Date.now());
    setTimeout(() => {
      if (!closed && !host) {
        host = start();
        host.catch((error: unknown) => logger.error({}, `sandbox host restart failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    }, wait).unref();
  };
  const connection = (): Promise<HostConnection> => {
    host ??= start();
    return host;
  };

  return {
    connection,
    get closed() {
      return closed;
    },
    get hostStarts() {
      return hostStarts;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const current = host;
      host = undefined;
      const conn = await current?.catch(() => undefined);
      await conn?.stop();
    },
  };
}
