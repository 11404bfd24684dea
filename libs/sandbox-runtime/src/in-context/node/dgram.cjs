'use strict';
// Node's `dgram`, so that libraries which load it for optional features (aws-sdk v2's client-side
// monitoring) can load: actions have no UDP, so a socket's `bind` and `send` fail with
// EGRESS_BLOCKED (through the callback, or the socket's `error` event).

const EventEmitter = require('events');

const refusal = () => {
  const error = new Error('UDP is not available to actions (the sandbox gives http, https and dns only)');
  error.code = 'EGRESS_BLOCKED';
  return error;
};

class Socket extends EventEmitter {
  bind(...args) {
    const callback = args.find((a) => typeof a === 'function');
    queueMicrotask(() => (callback ? callback(refusal()) : this.emit('error', refusal())));
    return this;
  }
  send(...args) {
    const callback = args.find((a) => typeof a === 'function');
    queueMicrotask(() => (callback ? callback(refusal()) : this.emit('error', refusal())));
  }
  connect(...args) {
    this.bind(...args);
  }
  close(callback) {
    queueMicrotask(() => {
      this.emit('close');
      if (callback) callback();
    });
    return this;
  }
  address() {
    throw Object.assign(new Error('getsockname EBADF'), { code: 'EBADF' });
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  setBroadcast() {}
  setTTL() {}
  setMulticastTTL() {}
  setMulticastLoopback() {}
  addMembership() {}
  dropMembership() {}
}

module.exports = { Socket, createSocket: (type, listener) => {
  const socket = new Socket();
  if (typeof listener === 'function') socket.on('message', listener);
  return socket;
} };
