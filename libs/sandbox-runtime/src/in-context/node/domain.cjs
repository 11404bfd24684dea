'use strict';
// Node's deprecated `domain`, as far as libraries touch it (aws-sdk v2 checks `domain.active`):
// no domain is ever active; a domain runs and binds functions as they are, and reports errors
// only through its own `error` event when the code emits one.

const EventEmitter = require('events');

class Domain extends EventEmitter {
  constructor() {
    super();
    this.members = [];
  }
  run(fn, ...args) {
    return fn(...args);
  }
  add(emitter) {
    this.members.push(emitter);
  }
  remove(emitter) {
    this.members = this.members.filter((m) => m !== emitter);
  }
  bind(fn) {
    return fn;
  }
  intercept(fn) {
    return (error, ...args) => (error ? this.emit('error', error) : fn(...args));
  }
  enter() {}
  exit() {}
  dispose() {}
}

module.exports = { active: null, Domain, create: () => new Domain(), createDomain: () => new Domain() };
