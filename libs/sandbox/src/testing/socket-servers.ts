/**
 * Local servers for the socket tests: a TCP echo server, a TLS echo server with a test CA made
 * on the spot (openssl), a trickling ("slow-loris") server, a server that sends a flood of
 * bytes. Each counts its connections and the closes it saw, so a test can check that the
 * sandbox closed what it opened. Loopback only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export interface SocketServer {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections the server saw closed so far. */
  readonly closed: number;
  /** Resolves once at least `count` connections were closed (polls; no timing assertion). */
  waitForClosed(count: number): Promise<void>;
  /** A loopback port nothing listens on. */
  unusedPort(): Promise<number>;
  close(): Promise<void>;
}

function track(server: net.Server, onSocket: (socket: net.Socket) => void): Promise<SocketServer> {
  let accepted = 0;
  let closed = 0;
  const open = new Set<net.Socket>();
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    accepted++;
    open.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      closed++;
      open.delete(socket);
    });
    onSocket(socket);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        get accepted() {
          return accepted;
        },
        get closed() {
          return closed;
        },
        waitForClosed: async (count) => {
          while (closed < count) await new Promise((r) => setTimeout(r, 20));
        },
        unusedPort: () =>
          new Promise((done) => {
            const probe = net.createServer().listen(0, '127.0.0.1', () => {
              const unused = (probe.address() as net.AddressInfo).port;
              probe.close(() => done(unused));
            });
          }),
        close: () =>
          new Promise((done) => {
            for (const socket of open) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Echoes every byte back; ends when the client ends. */
export function startEchoServer(): Promise<SocketServer> {
  return track(net.createServer({ allowHalfOpen: false }), (socket) => socket.pipe(socket));
}

/** Sends one byte every `everyMs` and never finishes (a slow-loris peer). */
export function startTrickleServer(everyMs = 20): Promise<SocketServer> {
  return track(net.createServer(), (socket) => {
    const timer = setInterval(() => socket.write('.'), everyMs);
    socket.on('close', () => clearInterval(timer));
  });
}

/** Sends `bytes` bytes as fast as the client reads them, then ends. */
export function startFloodServer(bytes: number): Promise<SocketServer> {
  return track(net.createServer(), (socket) => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  });
}

export interface TlsTestServer extends SocketServer {
  /** The test CA's certificate (PEM) that signed the server's `localhost` certificate. */
  caPem: string;
}

/** A test CA and a certificate for `localhost` / 127.0.0.1 signed by it (openssl, in a temp dir). */
export function makeTestCertificates(): { caPem: string; keyPem: string; certPem: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'codestep-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=codestep test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  // The certificate names localhost and 127.0.0.1 (subjectAltName).
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
  const out = { caPem: read('ca.pem'), keyPem: read('server.key'), certPem: read('server.pem') };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** A TLS echo server on 127.0.0.1 with a certificate for `localhost` from a fresh test CA. */
export async function startTlsEchoServer(): Promise<TlsTestServer> {
  const { caPem, keyPem, certPem } = makeTestCertificates();
  const server = await track(tls.createServer({ key: keyPem, cert: certPem }), (socket) => socket.pipe(socket));
  return Object.assign(server, { caPem });
}
