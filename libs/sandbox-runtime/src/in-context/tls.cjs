'use strict';
// Node's `tls` inside a sandbox context: `tls.connect` opens a host TLS socket (see net.cjs);
// the handshake and the certificate check happen in the host, against the name the code used
// (`servername`) and Node's root CAs plus the code's own `ca`. A `TLSSocket` here is the net
// Socket with the handshake's outcome (`authorized`, `getPeerCertificate()`, `getProtocol()`).

function createTls(Socket, normaliseArgs, pemList, featureUnavailable) {
  class TLSSocket extends Socket {
    constructor(socket, options) {
      if (socket !== undefined && socket !== null && typeof socket.write === 'function') {
        throw featureUnavailable('Upgrading an existing socket to TLS (new tls.TLSSocket(socket) / tls.connect({ socket }))');
      }
      super(options || {});
      this.encrypted = true;
      this.authorized = false;
      this.authorizationError = null;
      this.alpnProtocol = false;
      this._peer = null;
      this._protocol = null;
      this.servername = undefined;
    }

    _secure(info) {
      this.authorized = info.authorized === true;
      this.authorizationError = info.authorizationError || null;
      this.alpnProtocol = info.alpnProtocol || false;
      this._protocol = info.protocol || null;
      this._peer = info.cert || null;
      this.connecting = false;
      this._becomeReady();
      this.emit('ready');
      this.emit('secureConnect');
      this.emit('secure');
    }

    getPeerCertificate() {
      return this._peer === null ? {} : { ...this._peer, subject: { ...this._peer.subject }, issuer: { ...this._peer.issuer } };
    }
    getProtocol() {
      return this._protocol;
    }
    getCipher() {
      return { name: 'unknown', standardName: 'unknown', version: this._protocol || 'unknown' };
    }
    getSession() {
      return undefined;
    }
    isSessionReused() {
      return false;
    }
    setServername(name) {
      this.servername = String(name);
    }
    setMaxSendFragment() {
      return true;
    }
    exportKeyingMaterial() {
      throw featureUnavailable('tlsSocket.exportKeyingMaterial');
    }
  }

  const connect = (...args) => {
    const [options, cb] = normaliseArgs(args);
    if (options.socket !== undefined && options.socket !== null) {
      throw featureUnavailable('Upgrading an existing socket to TLS (tls.connect({ socket }))');
    }
    if (options.pfx !== undefined || options.key !== undefined || options.cert !== undefined) {
      throw featureUnavailable('A client certificate (key, cert, pfx)');
    }
    const context = options.secureContext && options.secureContext.context ? options.secureContext.context : {};
    const ca = pemList(options.ca !== undefined ? options.ca : context.ca);
    const request = { rejectUnauthorized: options.rejectUnauthorized !== false };
    const servername = options.servername !== undefined ? options.servername : undefined;
    if (typeof servername === 'string' && servername !== '') request.servername = servername;
    if (ca !== undefined) request.ca = ca;
    if (Array.isArray(options.ALPNProtocols)) request.alpnProtocols = options.ALPNProtocols.map(String);
    const socket = new TLSSocket(undefined, options);
    socket.servername = request.servername;
    return socket._open(options, cb, request);
  };

  return {
    TLSSocket,
    connect,
    // Kept as data for `connect({ secureContext })` (the `ca` is what the host uses).
    createSecureContext: (options = {}) => ({ context: { ca: options.ca } }),
    checkServerIdentity: () => undefined,
    createServer: () => {
      throw featureUnavailable('A TLS server (tls.createServer)');
    },
    Server: () => {
      throw featureUnavailable('A TLS server (tls.Server)');
    },
    getCiphers: () => ['tls_aes_128_gcm_sha256', 'tls_aes_256_gcm_sha384', 'tls_chacha20_poly1305_sha256'],
    rootCertificates: Object.freeze([]),
    DEFAULT_ECDH_CURVE: 'auto',
    DEFAULT_MIN_VERSION: 'TLSv1.2',
    DEFAULT_MAX_VERSION: 'TLSv1.3',
    DEFAULT_CIPHERS: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
    CLIENT_RENEG_LIMIT: 3,
    CLIENT_RENEG_WINDOW: 600,
  };
}

module.exports = { createTls };
