/**
 * `net` and `tls` inside the sandbox, against real local servers (a TCP echo server, a TLS
 * echo server with a test CA made here), allow-listed by the operator's `allowSockets`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest } from './testing/sandbox-test-kit.ts';
import { startEchoServer, startTlsEchoServer, type SocketServer, type TlsTestServer } from './testing/socket-servers.ts';

let sandbox: SandboxHandle;
let echo: SocketServer;
let tlsEcho: TlsTestServer;

before(async () => {
  echo = await startEchoServer();
  tlsEcho = await startTlsEchoServer();
  sandbox = await createSandbox({
    poolSize: 1,
    egress: { allowHosts: [], mapHosts: {}, allowSockets: [`127.0.0.1:${echo.port}`, `localhost:${tlsEcho.port}`] },
  });
});

after(async () => {
  await sandbox.close();
  await echo.close();
  await tlsEcho.close();
});

const run = (code: string, timeoutMs = 5000) => sandbox.execute(hubspotRequest(code, { limits: { timeoutMs, memoryMb: 128 } }));

describe('net in the sandbox', () => {
  it('connects, writes, reads the echo, ends; the events come in Node order and the socket is a Duplex', async () => {
    const result = await run(`
      const net = require('net');
      exports.main = async () => {
        const events = [];
        const socket = net.connect(${echo.port}, '127.0.0.1');
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 1000);
        const received = [];
        socket.on('connect', () => events.push('connect'));
        socket.on('ready', () => events.push('ready'));
        socket.on('data', (d) => { received.push(d); if (Buffer.concat(received).length >= 11) socket.end(); });
        socket.on('end', () => events.push('end'));
        socket.write('hello ');
        socket.write(Buffer.from('world'));
        await new Promise((resolve, reject) => { socket.on('close', resolve); socket.on('error', reject); });
        events.push('close');
        return { outputFields: {
          text: Buffer.concat(received).toString(),
          events: events.join(),
          isBuffer: Buffer.isBuffer(received[0]),
          pipe: typeof socket.pipe === 'function' && typeof socket.setTimeout === 'function',
          remote: socket.remoteAddress + ':' + (socket.remotePort === ${echo.port}),
          counts: socket.bytesRead + '/' + socket.bytesWritten,
          ip: [net.isIP('127.0.0.1'), net.isIP('::1'), net.isIP('x'), net.isIPv4('1.2.3.4'), net.isIPv6('fe80::1%eth0')].join(),
        } };
      };`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, {
      text: 'hello world',
      events: 'connect,ready,end,close',
      isBuffer: true,
      pipe: true,
      remote: '127.0.0.1:true',
      counts: '11/11',
      ip: '4,6,0,true,true',
    });
  });

  it('setTimeout emits timeout on an idle socket; destroy closes it and the server sees the close', async () => {
    const closedBefore = echo.closed;
    const result = await run(`
      const net = require('net');
      exports.main = async () => {
        const socket = new net.Socket();
        const returned = socket.connect({ port: ${echo.port}, host: '127.0.0.1' });
        if (returned !== socket || socket.readyState !== 'opening') throw new Error('connect did not return the opening socket');
        await new Promise((resolve) => socket.once('connect', resolve));
        const fired = await new Promise((resolve) => socket.setTimeout(50, () => resolve('timeout')));
        socket.destroy();
        await new Promise((resolve) => socket.once('close', resolve));
        return { outputFields: { fired, destroyed: socket.destroyed } };
      };`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { fired: 'timeout', destroyed: true });
    await echo.waitForClosed(closedBefore + 1);
  });

  it('a refused connection is an error with the system code', async () => {
    const closedPort = await echo.unusedPort();
    const sb = await createSandbox({ poolSize: 1, egress: { allowHosts: [], mapHosts: {}, allowSockets: [`127.0.0.1:${closedPort}`] } });
    try {
      const result = await sb.execute(
        hubspotRequest(`
        exports.main = async () => {
          const socket = require('net').connect(${closedPort}, '127.0.0.1');
          const error = await new Promise((resolve) => socket.on('error', resolve));
          return { outputFields: { code: error.code, egress: error.egressCode } };
        };`),
      );
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
      assert.deepEqual(result.outputFields, { code: 'ECONNREFUSED', egress: 'EGRESS_NETWORK' });
    } finally {
      await sb.close();
    }
  });

  it('callback-style actions wait for open sockets (as Node does); an unref-ed socket does not hold them', async () => {
    const result = await run(`
      const net = require('net');
      exports.main = (event, callback) => {
        const kept = net.connect(${echo.port}, '127.0.0.1');
        kept.on('data', () => kept.end());
        kept.on('close', () => callback({ outputFields: { closed: 'yes' } }));
        kept.write('x');
        net.connect(${echo.port}, '127.0.0.1').unref();
      };`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { closed: 'yes' });
  });
});

describe('net in the sandbox: streams, errors, what is not given', () => {
  it('a large echo with the reader paused arrives whole and in order (backpressure pauses the host socket)', async () => {
    const result = await run(`
      const net = require('net');
      exports.main = async () => {
        const socket = net.connect(${echo.port}, '127.0.0.1');
        const sent = Buffer.alloc(3 * 1024 * 1024);
        for (let i = 0; i < sent.length; i++) sent[i] = i % 251;
        socket.pause();
        socket.end(sent);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const chunks = [];
        for await (const chunk of socket) chunks.push(chunk);
        const got = Buffer.concat(chunks);
        return { outputFields: { length: got.length, same: got.equals(sent), chunks: chunks.length > 1 } };
      };`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { length: 3 * 1024 * 1024, same: true, chunks: true });
  });

  it('an exception thrown in a data listener fails the execution, as it crashes a Node process', async () => {
    const result = await run(`
      exports.main = async () => {
        const socket = require('net').connect(${echo.port}, '127.0.0.1');
        socket.on('data', () => { throw new Error('boom in data'); });
        socket.write('x');
        await new Promise(() => {});
      };`);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.match(result.error?.message ?? '', /boom in data/);
  });

  it('servers, Unix sockets and TLS upgrades say they are not available; bad ports throw as in Node', async () => {
    const result = await run(`
      const net = require('net'), tls = require('tls');
      const codeOf = (fn) => { try { fn(); return 'no error'; } catch (e) { return e.code; } };
      exports.main = async () => ({ outputFields: {
        server: codeOf(() => net.createServer()),
        unix: codeOf(() => net.connect('/var/run/docker.sock')),
        upgrade: codeOf(() => tls.connect({ socket: new net.Socket() })),
        badPort: codeOf(() => net.connect(70000, 'example.com')),
      } });`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, {
      server: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
      unix: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
      upgrade: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
      badPort: 'ERR_SOCKET_BAD_PORT',
    });
  });
});

describe('tls in the sandbox', () => {
  it('connects with servername and the user CA, verifies the certificate, echoes', async () => {
    const result = await run(`
      const tls = require('tls');
      exports.main = async () => {
        const socket = tls.connect({ host: 'localhost', port: ${tlsEcho.port}, servername: 'localhost', ca: ${JSON.stringify(tlsEcho.caPem)} });
        await new Promise((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject); });
        socket.write('secret');
        const data = await new Promise((resolve) => socket.once('data', resolve));
        const cert = socket.getPeerCertificate();
        socket.end();
        return { outputFields: { data: data.toString(), authorized: socket.authorized, cn: cert.subject.CN, encrypted: socket.encrypted, protocol: socket.getProtocol() } };
      };`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.equal(result.outputFields.data, 'secret');
    assert.equal(result.outputFields.authorized, true);
    assert.equal(result.outputFields.cn, 'localhost');
    assert.equal(result.outputFields.encrypted, true);
    assert.match(String(result.outputFields.protocol), /^TLSv1\.[23]$/);
  });

  it('an untrusted certificate fails unless rejectUnauthorized is false', async () => {
    const result = await run(`
      const tls = require('tls');
      const attempt = (options) => new Promise((resolve) => {
        const socket = tls.connect({ host: 'localhost', port: ${tlsEcho.port}, ...options }, () => { const a = socket.authorized; socket.destroy(); resolve('connected:' + a); });
        socket.on('error', (e) => resolve('error:' + e.code + ':' + /certificate/i.test(e.message)));
      });
      exports.main = async () => ({ outputFields: {
        strict: await attempt({}),
        lax: await attempt({ rejectUnauthorized: false }),
        wrongName: await attempt({ servername: 'other.example', ca: ${JSON.stringify(tlsEcho.caPem)} }),
      } });`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.match(String(result.outputFields.strict), /^error:.*:true$/);
    assert.equal(result.outputFields.lax, 'connected:false');
    assert.match(String(result.outputFields.wrongName), /^error:/);
  });
});
