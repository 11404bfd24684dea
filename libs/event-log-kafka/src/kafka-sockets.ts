/**
 * The sockets kafkajs opens for one event log, so that `close()` can end the ones kafkajs
 * forgets. After a broker restart, a consumer group can keep a broker object that the client's
 * broker pool has since replaced; its next request reconnects that stale object, and
 * `disconnect()` never reaches it — one idle socket (and kafkajs timers) keeping the process alive.
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/** What kafkajs's own factory sets, ms. */
const KEEP_ALIVE_DELAY_MS = 60_000;

export class SocketTracker {
  private readonly open = new Set<Socket>();

  /** A kafkajs `socketFactory` equal to its default one, recording every socket. */
  readonly factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    const socket = ssl ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    return socket;
  };

  /** Sockets not closed yet. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Half-closes every socket still open; returns how many there were. The broker answers by
   * closing its side, and kafkajs's own handler for that tears the connection down, timers
   * included — destroying the socket here would leave kafkajs believing it connected, with its
   * request-timeout interval running forever.
   */
  endAll(): number {
    const count = this.open.size;
    for (const socket of this.open) socket.end();
    return count;
  }
}
