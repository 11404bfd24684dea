'use strict';
// Headers, Blob, File, FormData, Request, Response and fetch for the sandbox context. Bodies are
// held as bytes (no streams): fetch sends one JSON request over the bridge and receives one JSON
// response, so there is nothing to stream.

const { utf8Encode, utf8Decode, bytesToBase64, base64ToBytes } = require('./encoding.cjs');
const { DOMException, AbortSignal, AbortController } = require('./events.cjs');

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function normaliseValue(value) {
  return String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
}

class Headers {
  #map = new Map(); // lower-case name -> array of values
  constructor(init) {
    if (init == null) return;
    if (init instanceof Headers) {
      for (const [k, v] of init.#pairs()) this.append(k, v);
    } else if (typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const arr = Array.from(pair);
        if (arr.length !== 2) throw new TypeError('Header pairs must have exactly two items');
        this.append(arr[0], arr[1]);
      }
    } else if (typeof init === 'object') {
      for (const key of Object.keys(init)) {
        const value = init[key];
        // node-fetch style: an array value means repeated headers.
        if (Array.isArray(value)) for (const v of value) this.append(key, v);
        else if (value !== undefined) this.append(key, value);
      }
    } else throw new TypeError('Headers init must be an object or an iterable of pairs');
  }
  #name(name) {
    const n = String(name);
    if (!TOKEN.test(n)) throw new TypeError(`"${n}" is not a valid HTTP header name`);
    return n.toLowerCase();
  }
  #value(value) {
    const v = normaliseValue(value);
    if (/[\0\r\n]/.test(v)) throw new TypeError('Invalid HTTP header value');
    return v;
  }
  *#pairs() {
    for (const [k, values] of this.#map) for (const v of values) yield [k, v];
  }
  append(name, value) {
    const n = this.#name(name);
    const v = this.#value(value);
    const list = this.#map.get(n);
    if (list) list.push(v);
    else this.#map.set(n, [v]);
  }
  set(name, value) {
    this.#map.set(this.#name(name), [this.#value(value)]);
  }
  get(name) {
    const list = this.#map.get(this.#name(name));
    return list ? list.join(', ') : null;
  }
  getSetCookie() {
    return (this.#map.get('set-cookie') ?? []).slice();
  }
  has(name) {
    return this.#map.has(this.#name(name));
  }
  delete(name) {
    this.#map.delete(this.#name(name));
  }
  forEach(callback, thisArg) {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }
  *entries() {
    const names = [...this.#map.keys()].sort();
    for (const name of names) {
      if (name === 'set-cookie') for (const v of this.#map.get(name)) yield [name, v];
      else yield [name, this.#map.get(name).join(', ')];
    }
  }
  *keys() {
    for (const [k] of this.entries()) yield k;
  }
  *values() {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  /** node-fetch compatibility: every value of every header. */
  raw() {
    const out = {};
    for (const [k, values] of this.#map) out[k] = values.slice();
    return out;
  }
  /** Every [name, value] pair as sent or received, repeated headers kept apart (for the bridge). */
  static pairsOf(headers) {
    return [...headers.#pairs()];
  }
  get [Symbol.toStringTag]() {
    return 'Headers';
  }
}

function bytesOf(part) {
  if (typeof part === 'string') return utf8Encode(part);
  if (part instanceof ArrayBuffer) return new Uint8Array(part.slice(0));
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
  if (part instanceof Blob) return Blob.bytesOf(part);
  return utf8Encode(String(part));
}

function concat(chunks) {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

class Blob {
  #bytes;
  #type;
  constructor(parts = [], options = {}) {
    if (typeof parts !== 'object' || parts === null || typeof parts[Symbol.iterator] !== 'function') {
      throw new TypeError('The "blobParts" argument must be an iterable');
    }
    this.#bytes = concat(Array.from(parts, bytesOf));
    const type = options && options.type !== undefined ? String(options.type) : '';
    this.#type = /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : '';
  }
  get size() {
    return this.#bytes.length;
  }
  get type() {
    return this.#type;
  }
  async text() {
    return utf8Decode(this.#bytes);
  }
  async arrayBuffer() {
    return this.#bytes.slice().buffer;
  }
  async bytes() {
    return this.#bytes.slice();
  }
  slice(start = 0, end = this.size, type = '') {
    const blob = new Blob([], { type });
    blob.#bytes = this.#bytes.slice(start, end);
    return blob;
  }
  static bytesOf(blob) {
    return blob.#bytes;
  }
  get [Symbol.toStringTag]() {
    return 'Blob';
  }
}

class File extends Blob {
  #name;
  #lastModified;
  constructor(parts, name, options = {}) {
    super(parts, options);
    if (arguments.length < 2) throw new TypeError('The "fileName" argument must be specified');
    this.#name = String(name);
    this.#lastModified = options && options.lastModified !== undefined ? Number(options.lastModified) : Date.now();
  }
  get name() {
    return this.#name;
  }
  get lastModified() {
    return this.#lastModified;
  }
  get [Symbol.toStringTag]() {
    return 'File';
  }
}

class FormData {
  #entries = [];
  #entry(name, value, filename) {
    if (value instanceof Blob) {
      const fname = filename !== undefined ? String(filename) : value instanceof File ? value.name : 'blob';
      if (!(value instanceof File) || filename !== undefined) value = new File([value], fname, { type: value.type });
      return [String(name), value];
    }
    return [String(name), String(value)];
  }
  append(name, value, filename) {
    this.#entries.push(this.#entry(name, value, filename));
  }
  set(name, value, filename) {
    const entry = this.#entry(name, value, filename);
    const i = this.#entries.findIndex(([n]) => n === entry[0]);
    this.#entries = this.#entries.filter(([n], j) => n !== entry[0] || j === i);
    if (i === -1) this.#entries.push(entry);
    else this.#entries[this.#entries.findIndex(([n]) => n === entry[0])] = entry;
  }
  get(name) {
    const e = this.#entries.find(([n]) => n === String(name));
    return e ? e[1] : null;
  }
  getAll(name) {
    return this.#entries.filter(([n]) => n === String(name)).map(([, v]) => v);
  }
  has(name) {
    return this.#entries.some(([n]) => n === String(name));
  }
  delete(name) {
    this.#entries = this.#entries.filter(([n]) => n !== String(name));
  }
  forEach(callback, thisArg) {
    for (const [n, v] of this.#entries) callback.call(thisArg, v, n, this);
  }
  *entries() {
    yield* this.#entries.map((e) => e.slice());
  }
  *keys() {
    for (const [n] of this.#entries) yield n;
  }
  *values() {
    for (const [, v] of this.#entries) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  get [Symbol.toStringTag]() {
    return 'FormData';
  }
}

function multipart(form, boundary) {
  const chunks = [];
  const escape = (s) => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
  for (const [name, value] of form) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escape(name)}"`;
    if (typeof value === 'string') {
      chunks.push(utf8Encode(`${head}\r\n\r\n${value.replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n')}\r\n`));
    } else {
      head += `; filename="${escape(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      chunks.push(utf8Encode(head), Blob.bytesOf(value), utf8Encode('\r\n'));
    }
  }
  chunks.push(utf8Encode(`--${boundary}--\r\n`));
  return concat(chunks);
}

let boundaryCounter = 0;

/** The fetch spec's "extract a body": bytes plus the content type it implies. */
function extractBody(body) {
  if (body == null) return { bytes: null, type: null };
  if (typeof body === 'string') return { bytes: utf8Encode(body), type: 'text/plain;charset=UTF-8' };
  if (typeof URLSearchParams === 'function' && body instanceof URLSearchParams) {
    return { bytes: utf8Encode(body.toString()), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (body instanceof FormData) {
    const boundary = typeof body.getBoundary === 'function' ? body.getBoundary() : `----codestep-formdata-${Date.now().toString(16)}${(boundaryCounter++).toString(16)}`;
    return { bytes: multipart(body, boundary), type: `multipart/form-data; boundary=${boundary}` };
  }
  if (body instanceof Blob) return { bytes: Blob.bytesOf(body).slice(), type: body.type || null };
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { bytes: bytesOf(body), type: null };
  return { bytes: utf8Encode(String(body)), type: 'text/plain;charset=UTF-8' };
}

const BODY = Symbol('body');

/** The body half of Request and Response. */
class Body {
  [BODY] = { bytes: null, used: false };
  get bodyUsed() {
    return this[BODY].used;
  }
  get body() {
    const state = this[BODY];
    if (state.bytes === null) return null;
    // A one-chunk reader for code that insists on streaming; there is no ReadableStream global.
    let done = false;
    const read = async () => {
      if (done || state.used) return { done: true, value: undefined };
      done = true;
      state.used = true;
      return { done: false, value: state.bytes.slice() };
    };
    return {
      locked: false,
      getReader: () => ({ read, releaseLock() {}, cancel: async () => void (done = true), closed: Promise.resolve() }),
      cancel: async () => void (done = true),
      [Symbol.asyncIterator]: () => ({ next: read, return: async () => ({ done: true, value: undefined }) }),
    };
  }
  #consume() {
    const state = this[BODY];
    if (state.used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    state.used = true;
    return Promise.resolve(state.bytes ?? new Uint8Array(0));
  }
  async arrayBuffer() {
    const bytes = await this.#consume();
    return bytes.slice().buffer;
  }
  async bytes() {
    return (await this.#consume()).slice();
  }
  async text() {
    return utf8Decode(await this.#consume());
  }
  async json() {
    return JSON.parse(await this.text());
  }
  async blob() {
    const type = this.headers.get('content-type') ?? '';
    return new Blob([await this.#consume()], { type });
  }
  async formData() {
    const type = this.headers.get('content-type') ?? '';
    if (!/^application\/x-www-form-urlencoded/i.test(type)) throw new TypeError('Only application/x-www-form-urlencoded bodies can be read as FormData here');
    const form = new FormData();
    for (const [k, v] of new URLSearchParams(await this.text())) form.append(k, v);
    return form;
  }
  /** node-fetch compatibility (the HubSpot client reads binary bodies with it). */
  async buffer() {
    return Buffer.from(await this.#consume());
  }
}

const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];

class Request extends Body {
  #url;
  #method;
  #headers;
  #signal;
  #redirect;
  constructor(input, init = {}) {
    super();
    init = init ?? {};
    let base = null;
    if (input instanceof Request) base = input;
    const url = base ? base.url : new URL(String(input)).href;
    if (!base && /^[^:]+:\/\/[^/]*@/.test(url)) throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${url}`);
    this.#url = url;
    const method = init.method !== undefined ? String(init.method) : base ? base.method : 'GET';
    if (!TOKEN.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method`);
    this.#method = METHODS.includes(method.toUpperCase()) ? method.toUpperCase() : method;
    if (['CONNECT', 'TRACE', 'TRACK'].includes(this.#method.toUpperCase())) throw new TypeError(`'${method}' HTTP method is unsupported`);
    this.#headers = new Headers(init.headers !== undefined ? init.headers : base ? base.headers : undefined);
    this.#redirect = init.redirect !== undefined ? String(init.redirect) : base ? base.redirect : 'follow';
    if (!['follow', 'manual', 'error'].includes(this.#redirect)) throw new TypeError(`'${this.#redirect}' is not a valid redirect mode`);
    const signal = init.signal !== undefined ? init.signal : base ? base.signal : null;
    if (signal != null && !(signal instanceof AbortSignal)) throw new TypeError('The "signal" option must be an AbortSignal');
    this.#signal = signal ?? new AbortController().signal;
    if (init.body != null) {
      if (this.#method === 'GET' || this.#method === 'HEAD') throw new TypeError('Request with GET/HEAD method cannot have body.');
      const { bytes, type } = extractBody(init.body);
      this[BODY].bytes = bytes;
      if (type !== null && !this.#headers.has('content-type')) this.#headers.set('content-type', type);
    } else if (base && init.body === undefined) {
      if (base.bodyUsed) throw new TypeError('Cannot construct a Request with a Request object that has already been used.');
      this[BODY].bytes = base[BODY].bytes;
    }
  }
  get url() {
    return this.#url;
  }
  get method() {
    return this.#method;
  }
  get headers() {
    return this.#headers;
  }
  get signal() {
    return this.#signal;
  }
  get redirect() {
    return this.#redirect;
  }
  get credentials() {
    return 'same-origin';
  }
  get mode() {
    return 'cors';
  }
  get cache() {
    return 'default';
  }
  get referrer() {
    return 'about:client';
  }
  get keepalive() {
    return false;
  }
  get duplex() {
    return 'half';
  }
  clone() {
    if (this.bodyUsed) throw new TypeError('Request body is already used');
    return new Request(this);
  }
  get [Symbol.toStringTag]() {
    return 'Request';
  }
}

const NULL_BODY_STATUSES = [101, 103, 204, 205, 304];
const RESPONSE_INIT = Symbol('responseInit');

class Response extends Body {
  #status;
  #statusText;
  #headers;
  #url = '';
  #redirected = false;
  #type = 'default';
  constructor(body = null, init = {}) {
    super();
    init = init ?? {};
    const status = init.status !== undefined ? Number(init.status) : 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
    this.#status = status;
    this.#statusText = init.statusText !== undefined ? String(init.statusText) : '';
    this.#headers = new Headers(init.headers);
    if (body != null) {
      if (NULL_BODY_STATUSES.includes(status)) throw new TypeError('Response with null body status cannot have body');
      const { bytes, type } = extractBody(body);
      this[BODY].bytes = bytes;
      if (type !== null && !this.#headers.has('content-type')) this.#headers.set('content-type', type);
    }
    const extra = init[RESPONSE_INIT];
    if (extra) {
      this.#url = extra.url;
      this.#redirected = extra.redirected;
      this.#type = 'basic';
    }
  }
  get status() {
    return this.#status;
  }
  get ok() {
    return this.#status >= 200 && this.#status <= 299;
  }
  get statusText() {
    return this.#statusText;
  }
  get headers() {
    return this.#headers;
  }
  get url() {
    return this.#url;
  }
  get redirected() {
    return this.#redirected;
  }
  get type() {
    return this.#type;
  }
  clone() {
    if (this.bodyUsed) throw new TypeError('Response body is already used');
    const copy = new Response(null, { status: this.#status, statusText: this.#statusText, headers: this.#headers, [RESPONSE_INIT]: { url: this.#url, redirected: this.#redirected } });
    copy[BODY].bytes = this[BODY].bytes;
    return copy;
  }
  static json(data, init = {}) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Value is not JSON serializable');
    const headers = new Headers(init && init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(text, { ...init, headers });
  }
  static error() {
    const r = new Response(null, { status: 200 });
    r.#status = 0;
    r.#type = 'error';
    return r;
  }
  static redirect(url, status = 302) {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError('Invalid status code');
    return new Response(null, { status, headers: { location: new URL(String(url)).href } });
  }
  get [Symbol.toStringTag]() {
    return 'Response';
  }
}

/**
 * fetch over the bridge. `bridgeFetch(requestJson, onDone)` never throws and calls `onDone`
 * once with the response JSON; the host enforces the egress policy.
 */
function createFetch(bridgeFetch) {
  return function fetch(input, init = undefined) {
    return new Promise((resolve, reject) => {
      let request;
      try {
        request = new Request(input, init);
      } catch (error) {
        reject(error);
        return;
      }
      const signal = request.signal;
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const bytes = request[BODY].bytes;
      const payload = JSON.stringify({
        url: request.url,
        method: request.method,
        headers: Headers.pairsOf(request.headers),
        bodyBase64: bytes === null ? null : bytesToBase64(bytes),
        redirect: request.redirect,
      });
      const onDone = (responseJson) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        let parsed;
        try {
          parsed = JSON.parse(String(responseJson));
        } catch {
          parsed = { ok: false, error: { code: 'EGRESS_NETWORK', message: 'malformed response from the host' } };
        }
        if (!parsed || parsed.ok !== true) {
          const info = (parsed && parsed.error) || {};
          const cause = new Error(String(info.message ?? 'network error'));
          cause.code = String(info.code ?? 'EGRESS_NETWORK');
          const error = new TypeError(`fetch failed: ${cause.message}`, { cause });
          error.code = cause.code;
          reject(error);
          return;
        }
        const status = Number(parsed.status);
        const init = { status: status >= 200 && status <= 599 ? status : 200, statusText: String(parsed.statusText ?? ''), headers: parsed.headers ?? [], [RESPONSE_INIT]: { url: String(parsed.url ?? request.url), redirected: Boolean(parsed.redirected) } };
        const response = new Response(null, init);
        if (!NULL_BODY_STATUSES.includes(status) && request.method !== 'HEAD') response[BODY].bytes = base64ToBytes(String(parsed.bodyBase64 ?? ''));
        if (init.status !== status) {
          // 1xx and other statuses the Response constructor refuses: keep the real one.
          Object.defineProperty(response, 'status', { value: status });
        }
        resolve(response);
      };
      try {
        bridgeFetch(payload, onDone);
      } catch {
        onDone(JSON.stringify({ ok: false, error: { code: 'EGRESS_NETWORK', message: 'the host refused the request' } }));
      }
    });
  };
}

module.exports = { Headers, Blob, File, FormData, Request, Response, createFetch, DOMException };
