'use strict';
// DOMException, Event, EventTarget, AbortController and AbortSignal for the sandbox context.

const CODES = {
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5, NoModificationAllowedError: 7,
  NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
  InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
  QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
};

class DOMException extends Error {
  #name;
  constructor(message = '', options = 'Error') {
    const name = typeof options === 'object' && options !== null ? String(options.name ?? 'Error') : String(options);
    super(String(message), typeof options === 'object' && options !== null && 'cause' in options ? { cause: options.cause } : undefined);
    this.#name = name;
  }
  get name() {
    return this.#name;
  }
  get code() {
    return CODES[this.#name] ?? 0;
  }
}
// The legacy code constants (DOMException.ABORT_ERR …), in the order of CODES. Written out rather
// than derived with regular expressions: this runs in every context that uses fetch.
const CONSTANTS = [
  'INDEX_SIZE_ERR', 'HIERARCHY_REQUEST_ERR', 'WRONG_DOCUMENT_ERR', 'INVALID_CHARACTER_ERR', 'NO_MODIFICATION_ALLOWED_ERR',
  'NOT_FOUND_ERR', 'NOT_SUPPORTED_ERR', 'INVALID_STATE_ERR', 'SYNTAX_ERR', 'INVALID_MODIFICATION_ERR', 'NAMESPACE_ERR',
  'INVALID_ACCESS_ERR', 'TYPE_MISMATCH_ERR', 'SECURITY_ERR', 'NETWORK_ERR', 'ABORT_ERR', 'URL_MISMATCH_ERR',
  'QUOTA_EXCEEDED_ERR', 'TIMEOUT_ERR', 'INVALID_NODE_TYPE_ERR', 'DATA_CLONE_ERR',
];
const codes = Object.values(CODES);
for (let i = 0; i < CONSTANTS.length; i++) Object.defineProperty(DOMException, CONSTANTS[i], { value: codes[i], enumerable: true });

let isStopped;

class Event {
  #type;
  #bubbles;
  #cancelable;
  #defaultPrevented = false;
  #stop = false;
  #timeStamp = Date.now();
  target = null;
  currentTarget = null;
  constructor(type, init = {}) {
    if (arguments.length === 0) throw new TypeError('The "type" argument must be specified');
    this.#type = String(type);
    this.#bubbles = Boolean(init && init.bubbles);
    this.#cancelable = Boolean(init && init.cancelable);
  }
  get type() {
    return this.#type;
  }
  get bubbles() {
    return this.#bubbles;
  }
  get cancelable() {
    return this.#cancelable;
  }
  get defaultPrevented() {
    return this.#defaultPrevented;
  }
  get timeStamp() {
    return this.#timeStamp;
  }
  get isTrusted() {
    return false;
  }
  get srcElement() {
    return this.target;
  }
  preventDefault() {
    if (this.#cancelable) this.#defaultPrevented = true;
  }
  stopPropagation() {}
  stopImmediatePropagation() {
    this.#stop = true;
  }
  composedPath() {
    return this.currentTarget ? [this.currentTarget] : [];
  }
  static {
    isStopped = (event) => event.#stop;
  }
}

class EventTarget {
  #listeners = new Map();
  addEventListener(type, listener, options) {
    if (listener == null) return;
    const once = typeof options === 'object' && options !== null && Boolean(options.once);
    const signal = typeof options === 'object' && options !== null ? options.signal : undefined;
    if (signal && signal.aborted) return;
    const key = String(type);
    let list = this.#listeners.get(key);
    if (!list) this.#listeners.set(key, (list = []));
    if (list.some((l) => l.listener === listener)) return;
    const entry = { listener, once };
    list.push(entry);
    if (signal) signal.addEventListener('abort', () => this.removeEventListener(key, listener), { once: true });
  }
  removeEventListener(type, listener) {
    const list = this.#listeners.get(String(type));
    if (!list) return;
    const i = list.findIndex((l) => l.listener === listener);
    if (i !== -1) list.splice(i, 1);
  }
  dispatchEvent(event) {
    if (!(event instanceof Event)) throw new TypeError('The "event" argument must be an instance of Event');
    event.target = this;
    event.currentTarget = this;
    const list = (this.#listeners.get(event.type) ?? []).slice();
    const handler = this['on' + event.type];
    for (const entry of list) {
      if (entry.once) this.removeEventListener(event.type, entry.listener);
      try {
        if (typeof entry.listener === 'function') entry.listener.call(this, event);
        else if (entry.listener && typeof entry.listener.handleEvent === 'function') entry.listener.handleEvent(event);
      } catch (error) {
        // A listener's error must not stop the others (as in browsers); report it asynchronously.
        queueMicrotask(() => {
          throw error;
        });
      }
      if (isStopped(event)) break;
    }
    if (typeof handler === 'function' && !isStopped(event)) handler.call(this, event);
    event.currentTarget = null;
    return !event.defaultPrevented;
  }
}

const CREATE = Symbol('create');
/** Aborts a signal; module-private so that user code cannot abort someone else's signal. */
let signalAbort;

class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  onabort = null;
  constructor(key) {
    if (key !== CREATE) throw new TypeError('Illegal constructor');
    super();
  }
  get aborted() {
    return this.#aborted;
  }
  get reason() {
    return this.#reason;
  }
  throwIfAborted() {
    if (this.#aborted) throw this.#reason;
  }
  static abort(reason) {
    const signal = new AbortSignal(CREATE);
    signalAbort(signal, reason);
    return signal;
  }
  static timeout(ms) {
    const signal = new AbortSignal(CREATE);
    setTimeout(() => signalAbort(signal, new DOMException('The operation was aborted due to timeout', 'TimeoutError')), Number(ms));
    return signal;
  }
  static any(signals) {
    const signal = new AbortSignal(CREATE);
    for (const s of signals) {
      if (s.aborted) {
        signalAbort(signal, s.reason);
        return signal;
      }
    }
    for (const s of signals) s.addEventListener('abort', () => signalAbort(signal, s.reason), { once: true });
    return signal;
  }
  static {
    signalAbort = (signal, reason) => {
      if (signal.#aborted) return;
      signal.#aborted = true;
      signal.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
      signal.dispatchEvent(new Event('abort'));
    };
  }
  get [Symbol.toStringTag]() {
    return 'AbortSignal';
  }
}

class AbortController {
  #signal = new AbortSignal(CREATE);
  get signal() {
    return this.#signal;
  }
  abort(reason) {
    signalAbort(this.#signal, reason);
  }
  get [Symbol.toStringTag]() {
    return 'AbortController';
  }
}


module.exports = { DOMException, Event, EventTarget, AbortController, AbortSignal, signalAbort };
