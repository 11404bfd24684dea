/**
 * The host side of one execution's sockets (`net`/`tls` in its context): the context's
 * `call('socket', id, op, arg)` lands here, the real socket is opened by `@codestep/egress`
 * under the egress policy and caps, and each of its events goes back to the context as a
 * `socket` dispatch (`<type>\n<data>`, primitives only; bytes as base64).
 *
 * A socket the context has not `unref`'d counts as pending work (as it keeps a Node process
 * alive), so a callback-style action waits for its connections to close; `end()` destroys
 * every socket when the execution ends, however it ends.
 */
import type { EgressSocket, SocketEgress, SocketEvents, SocketRequest } from '@codestep/egress';
import type { SocketEventType } from '../bridge.protocol.ts';

/** The most sockets one context may name at once (ids in use); egress caps come first. */
const MAX_IDS = 1000;
const MAX_REQUEST_CHARS = 1 << 20;

interface Entry {
  socket: EgressSocket;
  ref: boolean;
}

export class ExecutionSockets {
  readonly #create: () => SocketEgress;
  readonly #deliver: (id: number, payload: string) => void;
  readonly #changed: () => void;
  #egress: SocketEgress | undefined;
  readonly #sockets = new Map<number, Entry>();
  #ended = false;

  /**
   * `create` makes the execution's socket egress on first use; `deliver` dispatches one event to
   * the context; `changed` is called when a socket closes (pending work may have drained).
   */
  constructor(create: () => SocketEgress, deliver: (id: number, payload: string) => void, changed: () => void) {
    this.#create = create;
    this.#deliver = deliver;
    this.#changed = changed;
  }

  /** Sockets that keep the execution alive (open and not `unref`'d). */
  get pending(): number {
    let count = 0;
    for (const entry of this.#sockets.values()) if (entry.ref) count++;
    return count;
  }

  /** One operation from the context; false when refused at once. */
  call(id: number, op: string, arg: string): boolean {
    if (this.#ended || !Number.isSafeInteger(id)) return false;
    if (op === 'open') return this.#open(id, arg);
    const entry = this.#sockets.get(id);
    if (entry === undefined) return false;
    const socket = entry.socket;
    switch (op) {
      case 'write':
        return socket.write(Buffer.from(arg, 'base64'));
      case 'end':
        socket.end();
        return true;
      case 'destroy':
        socket.destroy();
        return true;
      case 'pause':
        socket.pause();
        return true;
      case 'resume':
        socket.resume();
        return true;
      case 'ref':
      case 'unref':
        entry.ref = op === 'ref';
        this.#changed();
        return true;
      case 'nodelay':
        socket.setNoDelay(arg !== '0');
        return true;
      case 'keepalive': {
        const [enable, delay] = arg.split(':');
        socket.setKeepAlive(enable === '1', Math.max(0, Number(delay) || 0));
        return true;
      }
      default:
        return false;
    }
  }

  /** Destroys every socket (the execution ended). Idempotent. */
  end(): void {
    this.#ended = true;
    this.#sockets.clear();
    this.#egress?.closeAll();
  }

  #open(id: number, requestJson: string): boolean {
    if (this.#sockets.has(id) || this.#sockets.size >= MAX_IDS || requestJson.length > MAX_REQUEST_CHARS) return false;
    let request: SocketRequest;
    try {
      request = parseRequest(JSON.parse(requestJson) as Record<string, unknown>);
    } catch {
      return false;
    }
    this.#egress ??= this.#create();
    const emit = (type: SocketEventType, data: string): void => {
      if (!this.#ended) this.#deliver(id, `${type}\n${data}`);
    };
    const events: SocketEvents = {
      connect: (info) => emit('connect', JSON.stringify(info)),
      secure: (info) => emit('secure', JSON.stringify(info)),
      data: (chunk) => emit('data', chunk.toString('base64')),
      end: () => emit('end', ''),
      error: (code, message, systemCode) => emit('error', JSON.stringify({ code, message, systemCode })),
      close: (hadError) => {
        this.#sockets.delete(id);
        emit('close', hadError ? '1' : '0');
        this.#changed();
      },
    };
    this.#sockets.set(id, { socket: this.#egress.open(request, events), ref: true });
    return true;
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The context's request, reduced to the fields and types egress reads. */
function parseRequest(raw: Record<string, unknown>): SocketRequest {
  const request: SocketRequest = { host: str(raw.host) ?? 'localhost', port: Number(raw.port) };
  if (raw.noDelay === true) request.noDelay = true;
  if (raw.keepAlive === true) request.keepAlive = true;
  if (typeof raw.keepAliveInitialDelayMs === 'number') request.keepAliveInitialDelayMs = raw.keepAliveInitialDelayMs;
  const tlsRaw = raw.tls;
  if (tlsRaw !== null && typeof tlsRaw === 'object') {
    const t = tlsRaw as Record<string, unknown>;
    const tls: NonNullable<SocketRequest['tls']> = { rejectUnauthorized: t.rejectUnauthorized !== false };
    const servername = str(t.servername);
    if (servername !== undefined && servername !== '') tls.servername = servername;
    if (Array.isArray(t.ca)) tls.ca = t.ca.filter((c): c is string => typeof c === 'string');
    if (Array.isArray(t.alpnProtocols)) tls.alpnProtocols = t.alpnProtocols.filter((c): c is string => typeof c === 'string');
    request.tls = tls;
  }
  return request;
}
