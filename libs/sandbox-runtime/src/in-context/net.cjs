'use strict';
// Node's `net` and `tls` inside a sandbox context, over host-provided sockets. The host (the
// worker thread) opens the real connection under the egress policy and caps; here a socket is
// a readable-stream Duplex (Node's own stream code) whose bytes cross the bridge as base64:
//   bridge.socket(op, id, arg)     open (JSON request), write (base64), end, destroy, pause,
//                                  resume, ref, unref, nodelay, keepalive → true when accepted
//   bridge.onSocketEvent(handler)  handler(id, '<type>\n<data>'): connect, secure, data, end,
//                                  error, close
// Received bytes become Buffers here, so they count against the execution's memory budget.
// Evaluated in a context only when its code first requires `net` or `tls`.

const { Duplex } = require('readable-stream');
const { Buffer } = require('buffer');
const { isIP, isIPv4, isIPv6 } = require('./net-address.cjs');

function featureUnavailable(what) {
  const error = new Error(`${what} is not available in the codestep sandbox: actions may open outbound connections only (net.connect, tls.connect)`);
  error.code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
  return error;
}

function socketError(code, message, systemCode) {
  const error = new Error(message);
  // Clients branch on the system code (ECONNREFUSED, ECONNRESET, …); the egress code stays readable.
  error.code = systemCode || code;
  error.egressCode = code;
  if (systemCode) error.syscall = 'connect';
  return error;
}

/** PEM strings from a `ca` option (string, Buffer, or an array of them). */
function pemList(ca) {
  if (ca === undefined || ca === null) return undefined;
  const list = Array.isArray(ca) ? ca : [ca];
  return list.map((c) => (typeof c === 'string' ? c : Buffer.isBuffer(c) || c instanceof Uint8Array ? Buffer.from(c).toString('utf8') : String(c)));
}

/** `(port, host, cb)`, `(options, cb)`, `(path, cb)` → `[options, cb]`, as Node normalises them. */
function normaliseArgs(args) {
  let options = {};
  let i = 0;
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    options = { ...first };
    i = 1;
  } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
    options = { path: first };
    i = 1;
  } else if (first !== undefined && typeof first !== 'function') {
    options = { port: first };
    i = 1;
    if (typeof args[1] === 'string') {
      options.host = args[1];
      i = 2;
    }
  }
  if (typeof args[i] === 'object' && args[i] !== null) {
    options = { ...args[i], ...options };
    i++;
  }
  const cb = typeof args[i] === 'function' ? args[i] : undefined;
  return [options, cb];
}

function createNet(bridge) {
  const sockets = new Map();
  let nextId = 1;
  bridge.onSocketEvent((id, payload) => {
    const socket = sockets.get(id);
    if (socket === undefined) return;
    const text = String(payload);
    const cut = text.indexOf('\n');
    socket._hostEvent(cut < 0 ? text : text.slice(0, cut), cut < 0 ? '' : text.slice(cut + 1));
  });

  class Socket extends Duplex {
    constructor(options = {}) {
      if (options && (options.fd !== undefined || options.handle !== undefined)) throw featureUnavailable('A socket from a file descriptor or handle');
      super({ allowHalfOpen: Boolean(options && options.allowHalfOpen), emitClose: true, autoDestroy: true, decodeStrings: true });
      this._id = null;
      this._ready = false;
      this._queued = [];
      this._hostPaused = false;
      this._hostClosed = false;
      this._gotEnd = false;
      this._timeoutMs = 0;
      this._timer = null;
      this._noDelay = false;
      this._keepAlive = null;
      this._refed = true;
      this.connecting = false;
      this.bytesRead = 0;
      this._bytesWritten = 0;
      this.remoteAddress = undefined;
      this.remotePort = undefined;
      this.remoteFamily = undefined;
      this.localAddress = undefined;
      this.localPort = undefined;
      this.encrypted = undefined;
    }

    get pending() {
      return !this._ready;
    }
    get bytesWritten() {
      return this._bytesWritten;
    }
    get readyState() {
      if (this.connecting) return 'opening';
      if (this.readable && this.writable) return 'open';
      if (this.readable && !this.writable) return 'readOnly';
      if (!this.readable && this.writable) return 'writeOnly';
      return 'closed';
    }
    get bufferSize() {
      return this.writableLength;
    }
    get timeout() {
      return this._timeoutMs || undefined;
    }

    connect(...args) {
      const [options, cb] = normaliseArgs(args);
      return this._open(options, cb, undefined);
    }

    _open(options, cb, tlsRequest) {
      if (this._id !== null) throw Object.assign(new Error('Socket is already connected or connecting'), { code: 'ERR_SOCKET_CONNECTION_IN_PROGRESS' });
      if (options.path !== undefined) throw featureUnavailable('A Unix domain socket or named pipe (path option)');
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535 || options.port === '' || options.port === null) {
        const error = new RangeError(`Port should be >= 0 and < 65536. Received ${String(options.port)}.`);
        error.code = 'ERR_SOCKET_BAD_PORT';
        throw error;
      }
      const host = options.host === undefined || options.host === null || options.host === '' ? 'localhost' : String(options.host);
      if (cb) this.once(tlsRequest ? 'secureConnect' : 'connect', cb);
      if (options.timeout) this.setTimeout(options.timeout);
      if (options.noDelay) this._noDelay = true;
      if (options.keepAlive) this._keepAlive = [true, Number(options.keepAliveInitialDelay) || 0];
      this._id = nextId++;
      this.connecting = true;
      this._host = host;
      sockets.set(this._id, this);
      const request = { host, port, noDelay: this._noDelay, keepAlive: Boolean(this._keepAlive && this._keepAlive[0]) };
      if (this._keepAlive) request.keepAliveInitialDelayMs = this._keepAlive[1];
      if (tlsRequest) request.tls = tlsRequest;
      if (!bridge.socket('open', this._id, JSON.stringify(request))) {
        sockets.delete(this._id);
        this._hostClosed = true;
        queueMicrotask(() => this.destroy(socketError('EGRESS_LIMIT', `The sandbox refused a connection to ${host}:${port} (the execution has ended or has too many sockets)`)));
        return this;
      }
      if (!this._refed) bridge.socket('unref', this._id, '');
      this._touch();
      return this;
    }

    _hostEvent(type, data) {
      switch (type) {
        case 'connect': {
          const info = JSON.parse(data);
          this.remoteAddress = info.remoteAddress;
          this.remotePort = info.remotePort;
          this.remoteFamily = info.remoteFamily;
          this.localAddress = info.localAddress;
          this.localPort = info.localPort;
          this._touch();
          if (this.encrypted) return; // ready once the handshake is done ('secure')
          this.connecting = false;
          this._becomeReady();
          this.emit('connect');
          this.emit('ready');
          return;
        }
        case 'secure':
          this._secure(JSON.parse(data));
          return;
        case 'data': {
          const chunk = Buffer.from(data, 'base64');
          this.bytesRead += chunk.length;
          this._touch();
          if (!this.push(chunk) && !this._hostPaused) {
            this._hostPaused = true;
            bridge.socket('pause', this._id, '');
          }
          return;
        }
        case 'end':
          this._gotEnd = true;
          this.push(null);
          return;
        case 'error': {
          const e = JSON.parse(data);
          this._hostClosed = true;
          this.destroy(socketError(e.code, e.message, e.systemCode));
          return;
        }
        case 'close':
          this._hostClosed = true;
          sockets.delete(this._id);
          if (!this._gotEnd) this.destroy();
          else if (!this.writableEnded) this.end();
          return;
      }
    }

    _secure() {}

    _becomeReady() {
      this._ready = true;
      const queued = this._queued;
      this._queued = [];
      for (const [chunk, cb] of queued) this._write(chunk, null, cb);
    }

    _touch() {
      if (this._timer !== null) {
        clearTimeout(this._timer);
        this._timer = null;
      }
      if (this._timeoutMs > 0 && !this.destroyed) this._timer = setTimeout(() => this.emit('timeout'), this._timeoutMs);
    }

    _read() {
      if (this._hostPaused && this._id !== null && !this._hostClosed) {
        this._hostPaused = false;
        bridge.socket('resume', this._id, '');
      }
    }

    _write(chunk, _encoding, cb) {
      if (!this._ready) {
        if (this._id === null) {
          cb(Object.assign(new Error('This socket is not connected'), { code: 'ERR_SOCKET_CLOSED' }));
          return;
        }
        this._queued.push([chunk, cb]);
        return;
      }
      if (this._hostClosed || !bridge.socket('write', this._id, Buffer.from(chunk).toString('base64'))) {
        cb(Object.assign(new Error('This socket has been ended by the other party or by the sandbox'), { code: 'EPIPE' }));
        return;
      }
      this._bytesWritten += chunk.length;
      this._touch();
      cb();
    }

    _final(cb) {
      if (this._id !== null && !this._hostClosed) {
        if (this._ready) bridge.socket('end', this._id, '');
        else this.once('ready', () => bridge.socket('end', this._id, ''));
      }
      cb();
    }

    _destroy(error, cb) {
      if (this._timer !== null) clearTimeout(this._timer);
      this._timer = null;
      this.connecting = false;
      for (const [, queuedCb] of this._queued) queuedCb(error || Object.assign(new Error('The socket was destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
      this._queued = [];
      if (this._id !== null) {
        sockets.delete(this._id);
        if (!this._hostClosed) bridge.socket('destroy', this._id, '');
        this._hostClosed = true;
      }
      cb(error);
    }

    setTimeout(ms, cb) {
      this._timeoutMs = Math.max(0, Number(ms) || 0);
      if (cb) {
        if (this._timeoutMs === 0) this.removeListener('timeout', cb);
        else this.once('timeout', cb);
      }
      this._touch();
      return this;
    }
    setNoDelay(noDelay = true) {
      this._noDelay = Boolean(noDelay);
      if (this._id !== null) bridge.socket('nodelay', this._id, this._noDelay ? '1' : '0');
      return this;
    }
    setKeepAlive(enable = false, initialDelay = 0) {
      this._keepAlive = [Boolean(enable), Number(initialDelay) || 0];
      if (this._id !== null) bridge.socket('keepalive', this._id, `${enable ? '1' : '0'}:${this._keepAlive[1]}`);
      return this;
    }
    ref() {
      this._refed = true;
      if (this._id !== null) bridge.socket('ref', this._id, '');
      return this;
    }
    unref() {
      this._refed = false;
      if (this._id !== null) bridge.socket('unref', this._id, '');
      return this;
    }
    address() {
      if (this.localAddress === undefined) return {};
      return { address: this.localAddress, family: this.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4', port: this.localPort };
    }
    resetAndDestroy() {
      return this.destroy();
    }
  }

  const connect = (...args) => {
    const [options, cb] = normaliseArgs(args);
    const socket = new Socket(options);
    return socket._open(options, cb, undefined);
  };
  const unavailableServer = () => {
    throw featureUnavailable('A server (net.createServer / net.Server)');
  };
  const net = {
    Socket,
    Stream: Socket,
    connect,
    createConnection: connect,
    createServer: unavailableServer,
    Server: unavailableServer,
    isIP,
    isIPv4,
    isIPv6,
    getDefaultAutoSelectFamily: () => false,
    setDefaultAutoSelectFamily: () => {},
    getDefaultAutoSelectFamilyAttemptTimeout: () => 250,
    setDefaultAutoSelectFamilyAttemptTimeout: () => {},
  };
  return { net, tls: require('./tls.cjs').createTls(Socket, normaliseArgs, pemList, featureUnavailable) };
}

module.exports = { createNet };
