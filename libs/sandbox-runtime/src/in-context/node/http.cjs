'use strict';
// Node's `http` and `https` clients over the sandbox's egress fetch (the bridge's `fetch`:
// the same policy, caps and accounting as `fetch`): `request`, `get`, `Agent` (accepted and
// ignored: egress manages connections), `ClientRequest` (a Writable that sends once it is
// ended), `IncomingMessage` (a Readable of the whole response body), `STATUS_CODES`, `METHODS`.
// Redirects are returned as they are (as in Node). What differs: the request body is sent
// when `end()` is called (no streaming upload), the response arrives whole, the socket is a
// stand-in (no raw bytes), `createServer` is refused.
/* global __HTTP_STATUS_CODES__, __HTTP_METHODS__ */

const { Buffer } = require('buffer');
const EventEmitter = require('events');
const { Readable, Writable } = require('stream');

const STATUS_CODES = __HTTP_STATUS_CODES__;
const METHODS = __HTTP_METHODS__;

class Agent extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = { path: null, ...options };
    this.keepAlive = options.keepAlive === true;
    this.keepAliveMsecs = options.keepAliveMsecs || 1000;
    this.maxSockets = options.maxSockets || Infinity;
    this.maxFreeSockets = options.maxFreeSockets || 256;
    this.maxTotalSockets = options.maxTotalSockets || Infinity;
    this.defaultPort = options.defaultPort;
    this.protocol = options.protocol;
    this.sockets = {};
    this.freeSockets = {};
    this.requests = {};
  }
  getName(options = {}) {
    return `${options.host || 'localhost'}:${options.port || ''}:${options.localAddress || ''}`;
  }
  destroy() {}
}

/** A stand-in for the connection: egress holds the real one. */
class Socket extends EventEmitter {
  constructor(secure, host, port) {
    super();
    this.connecting = false;
    this.encrypted = secure;
    this.authorized = secure;
    this.authorizationError = null;
    this.remoteAddress = host;
    this.remotePort = port;
    this.readable = true;
    this.writable = true;
  }
  setTimeout(ms, callback) {
    if (callback) this.once('timeout', callback);
    return this;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  address() {
    return { address: '0.0.0.0', family: 'IPv4', port: 0 };
  }
  destroy() {
    return this;
  }
  end() {
    return this;
  }
  getPeerCertificate() {
    return {};
  }
}

class IncomingMessage extends Readable {
  constructor(socket, response) {
    super();
    this.socket = socket;
    this.connection = socket;
    this.httpVersion = '1.1';
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.statusCode = response.status;
    this.statusMessage = response.statusText || STATUS_CODES[response.status] || '';
    this.rawHeaders = [];
    this.headers = {};
    this.headersDistinct = {};
    for (const [name, value] of response.headers) {
      this.rawHeaders.push(name, value);
      const key = name.toLowerCase();
      (this.headersDistinct[key] ??= []).push(value);
      if (key === 'set-cookie') (this.headers[key] ??= []).push(value);
      else if (this.headers[key] === undefined) this.headers[key] = value;
      else if (!['content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization', 'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires'].includes(key)) this.headers[key] += `, ${value}`;
    }
    this.trailers = {};
    this.rawTrailers = [];
    this.complete = false;
    this.aborted = false;
    this.url = '';
    this.method = null;
    this._body = Buffer.from(response.bodyBase64 || '', 'base64');
  }
  _read() {
    const body = this._body;
    if (body === null) return;
    this._body = null;
    if (body.length > 0) this.push(body);
    this.complete = true;
    this.push(null);
  }
  setTimeout(ms, callback) {
    if (callback) this.once('timeout', callback);
    return this;
  }
}

function parseArgs(defaultProtocol, input, options, callback) {
  let base = {};
  if (typeof input === 'string' || (input && typeof input === 'object' && typeof input.href === 'string' && typeof input.searchParams === 'object')) {
    const url = new URL(String(input));
    base = { protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: `${url.pathname}${url.search}`, auth: url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined };
  } else if (input && typeof input === 'object') {
    [callback, options] = [options, input];
  }
  if (typeof options === 'function') [callback, options] = [options, undefined];
  return { opts: { ...base, ...(options || {}) }, callback };
}

class ClientRequest extends Writable {
  constructor(defaultProtocol, input, options, callback) {
    super({ decodeStrings: true, autoDestroy: false, emitClose: false });
    const { opts, callback: cb } = parseArgs(defaultProtocol, input, options, callback);
    const protocol = opts.protocol || (opts.agent && opts.agent.protocol) || defaultProtocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      const error = new TypeError(`Protocol "${protocol}" not supported. Expected "${defaultProtocol}"`);
      error.code = 'ERR_INVALID_PROTOCOL';
      throw error;
    }
    const host = opts.hostname || (typeof opts.host === 'string' ? opts.host.replace(/:\d+$/, '') : '') || 'localhost';
    const defaultPort = protocol === 'https:' ? 443 : 80;
    const port = Number(opts.port) || (opts.agent && opts.agent.defaultPort) || defaultPort;
    this.protocol = protocol;
    this.host = host;
    this.method = String(opts.method || 'GET').toUpperCase();
    this.path = opts.path || '/';
    this.agent = opts.agent;
    this.aborted = false;
    this.reusedSocket = false;
    this.maxHeadersCount = null;
    this._headers = new Map();
    this._chunks = [];
    this._origin = `${protocol}//${host.includes(':') ? `[${host}]` : host}${port === defaultPort ? '' : `:${port}`}`;
    const headers = opts.headers || {};
    for (const name of Object.keys(headers)) if (headers[name] !== undefined) this.setHeader(name, headers[name]);
    if (opts.auth && !this.hasHeader('authorization')) this.setHeader('Authorization', `Basic ${Buffer.from(String(opts.auth)).toString('base64')}`);
    this.socket = new Socket(protocol === 'https:', host, port);
    this.connection = this.socket;
    if (cb) this.once('response', cb);
    if (opts.timeout) this.setTimeout(opts.timeout);
    if (opts.signal) {
      const onAbort = () => this.destroy(Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
      if (opts.signal.aborted) queueMicrotask(onAbort);
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    queueMicrotask(() => {
      if (this.destroyed) return;
      this.emit('socket', this.socket);
      this.socket.emit('connect');
    });
  }
  setHeader(name, value) {
    this._headers.set(String(name).toLowerCase(), [String(name), value]);
    return this;
  }
  getHeader(name) {
    const entry = this._headers.get(String(name).toLowerCase());
    return entry === undefined ? undefined : entry[1];
  }
  hasHeader(name) {
    return this._headers.has(String(name).toLowerCase());
  }
  removeHeader(name) {
    this._headers.delete(String(name).toLowerCase());
  }
  getHeaders() {
    const out = Object.create(null);
    for (const [key, [, value]] of this._headers) out[key] = value;
    return out;
  }
  getHeaderNames() {
    return [...this._headers.keys()];
  }
  getRawHeaderNames() {
    return [...this._headers.values()].map(([name]) => name);
  }
  flushHeaders() {}
  setNoDelay() {}
  setSocketKeepAlive() {}
  setTimeout(ms, callback) {
    if (callback) this.once('timeout', callback);
    clearTimeout(this._timer);
    if (ms > 0) this._timer = setTimeout(() => this.emit('timeout'), ms);
    return this;
  }
  abort() {
    if (this.aborted) return;
    this.aborted = true;
    queueMicrotask(() => this.emit('abort'));
    this.destroy();
  }
  _write(chunk, encoding, done) {
    this._chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
    done();
  }
  _final(done) {
    done();
    this._send();
  }
  _destroy(error, done) {
    clearTimeout(this._timer);
    const wasSent = this._sent;
    this._sent = true;
    if (!error && !this.aborted && !this._responded && wasSent) error = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    done(this.aborted && !this._responded ? null : error);
    queueMicrotask(() => this.emit('close'));
  }
  _send() {
    if (this._sent) return;
    this._sent = true;
    const headers = [];
    for (const [, [name, value]] of this._headers) for (const v of Array.isArray(value) ? value : [value]) headers.push([name, String(v)]);
    const body = Buffer.concat(this._chunks);
    this._chunks = [];
    const request = { url: `${this._origin}${this.path}`, method: this.method, headers, bodyBase64: body.length > 0 ? body.toString('base64') : null, redirect: 'manual' };
    require('./host-ref.cjs').host.fetch(JSON.stringify(request), (json) => this._answer(json));
  }
  _answer(json) {
    clearTimeout(this._timer);
    if (this.destroyed) return;
    let response;
    try {
      response = JSON.parse(json);
    } catch {
      response = { ok: false, error: { code: 'EGRESS_NETWORK', message: 'unreadable response' } };
    }
    if (!response.ok) {
      const e = response.error || {};
      const error = new Error(String(e.message || 'request failed'));
      error.code = e.code || 'EGRESS_NETWORK';
      this.destroy(error);
      return;
    }
    this._responded = true;
    const res = new IncomingMessage(this.socket, response);
    res.req = this;
    if (this.listenerCount('response') === 0) res.resume();
    this.res = res;
    this.emit('response', res);
    // The response emits its own 'close' once read (a Readable's autoDestroy), the request here.
    res.once('end', () => this.emit('close'));
  }
}

function makeModule(defaultProtocol) {
  const globalAgent = new Agent({ protocol: defaultProtocol, defaultPort: defaultProtocol === 'https:' ? 443 : 80 });
  const request = (input, options, callback) => new ClientRequest(defaultProtocol, input, options, callback);
  const refuse = (name) => () => {
    const error = new Error(`${defaultProtocol.slice(0, -1)}.${name}() is not available in actions: they cannot accept connections`);
    error.code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
    throw error;
  };
  return {
    Agent,
    globalAgent,
    ClientRequest,
    IncomingMessage,
    OutgoingMessage: Writable,
    STATUS_CODES,
    METHODS,
    maxHeaderSize: 16384,
    request,
    get(input, options, callback) {
      const req = request(input, options, callback);
      req.end();
      return req;
    },
    createServer: refuse('createServer'),
    Server: refuse('Server'),
    validateHeaderName: () => {},
    validateHeaderValue: () => {},
    setMaxIdleHTTPParsers: () => {},
  };
}

module.exports = { http: makeModule('http:'), https: makeModule('https:') };
