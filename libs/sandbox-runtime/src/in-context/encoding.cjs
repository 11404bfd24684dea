'use strict';
// UTF-8 TextEncoder/TextDecoder, base64 (atob/btoa and byte helpers), written for the sandbox
// context where no host encoding API exists.

// Only atob/btoa's errors need DOMException: required then, so that parsing a URL (whatwg-url
// encodes with TextEncoder) does not load the events module in every context.
const domException = (message, name) => new (require('./events.cjs').DOMException)(message, name);

function utf8Encode(input) {
  const str = String(input);
  const out = new Uint8Array(str.length * 3);
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    let c = str.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
      const d = str.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    } else {
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out.slice(0, n);
}

/** Decodes complete sequences; returns [text, index of the first byte of an unfinished tail]. */
function utf8Decode(bytes, fatal, stream) {
  let out = '';
  let chunk = [];
  let i = 0;
  const len = bytes.length;
  const bad = () => {
    if (fatal) throw new TypeError('The encoded data was not valid for encoding utf-8');
    chunk.push(0xfffd);
  };
  while (i < len) {
    const b = bytes[i];
    let need = 0;
    let cp = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b < 0x80) {
      chunk.push(b);
      i++;
    } else {
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        cp = b & 0xf;
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        cp = b & 0x7;
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
      } else {
        bad();
        i++;
        continue;
      }
      let j = 1;
      for (; j <= need; j++) {
        if (i + j >= len) break;
        const c = bytes[i + j];
        if (c < lower || c > upper) break;
        lower = 0x80;
        upper = 0xbf;
        cp = (cp << 6) | (c & 0x3f);
      }
      if (j <= need) {
        if (i + j >= len && stream) break;
        bad();
        i += j;
        continue;
      }
      i += need + 1;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      } else chunk.push(cp);
    }
    if (chunk.length > 8192) {
      out += String.fromCharCode.apply(null, chunk);
      chunk = [];
    }
  }
  out += String.fromCharCode.apply(null, chunk);
  return [out, i];
}

function toBytes(input) {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer) return new Uint8Array(input);
  throw new TypeError('The "input" argument must be an ArrayBuffer or an ArrayBufferView');
}

const UTF8_LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8'];
const UTF16_LABELS = ['utf-16le', 'utf-16', 'ucs-2', 'unicode', 'csunicode', 'iso-10646-ucs-2', 'unicodefeff'];
const LATIN1_LABELS = ['latin1', 'iso-8859-1', 'ascii', 'us-ascii', 'windows-1252', 'l1', 'cp1252', 'iso_8859-1', 'x-cp1252'];

class TextEncoder {
  get encoding() {
    return 'utf-8';
  }
  encode(input = '') {
    return utf8Encode(input);
  }
  encodeInto(source, destination) {
    const bytes = utf8Encode(source);
    // Only whole characters fit: walk back from the cut to a sequence boundary.
    let written = Math.min(bytes.length, destination.length);
    while (written > 0 && written < bytes.length && (bytes[written] & 0xc0) === 0x80) written--;
    destination.set(bytes.subarray(0, written));
    const read = utf8Decode(bytes.subarray(0, written), false, false)[0].length;
    return { read, written };
  }
  get [Symbol.toStringTag]() {
    return 'TextEncoder';
  }
}

class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #pending = new Uint8Array(0);
  #bomSeen = false;
  constructor(label = 'utf-8', options = {}) {
    const l = String(label).trim().toLowerCase();
    if (UTF8_LABELS.includes(l)) this.#encoding = 'utf-8';
    else if (UTF16_LABELS.includes(l)) this.#encoding = 'utf-16le';
    else if (LATIN1_LABELS.includes(l)) this.#encoding = 'windows-1252';
    else throw new RangeError(`The "${label}" encoding is not supported`);
    this.#fatal = Boolean(options && options.fatal);
    this.#ignoreBOM = Boolean(options && options.ignoreBOM);
  }
  get encoding() {
    return this.#encoding;
  }
  get fatal() {
    return this.#fatal;
  }
  get ignoreBOM() {
    return this.#ignoreBOM;
  }
  decode(input, options = {}) {
    const stream = Boolean(options && options.stream);
    let bytes = toBytes(input);
    if (this.#pending.length) {
      const merged = new Uint8Array(this.#pending.length + bytes.length);
      merged.set(this.#pending);
      merged.set(bytes, this.#pending.length);
      bytes = merged;
      this.#pending = new Uint8Array(0);
    }
    let text;
    if (this.#encoding === 'utf-8') {
      const [out, used] = utf8Decode(bytes, this.#fatal, stream);
      if (used < bytes.length) this.#pending = bytes.slice(used);
      text = out;
    } else if (this.#encoding === 'utf-16le') {
      const even = stream ? bytes.length & ~1 : bytes.length;
      let s = '';
      for (let i = 0; i + 1 < even; i += 2) s += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
      if (even < bytes.length) this.#pending = bytes.slice(even);
      text = s;
    } else {
      let s = '';
      for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
      text = s;
    }
    if (!this.#ignoreBOM && !this.#bomSeen && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff && this.#encoding !== 'windows-1252') text = text.slice(1);
      this.#bomSeen = true;
    }
    if (!stream) this.#bomSeen = false;
    return text;
  }
  get [Symbol.toStringTag]() {
    return 'TextDecoder';
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;
LOOKUP['-'.charCodeAt(0)] = 62;
LOOKUP['_'.charCodeAt(0)] = 63;

function bytesToBase64(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] + '=' : '==';
  }
  return out;
}

/** Lenient decoder (ignores whitespace and padding, accepts base64url): for bridge payloads. */
function base64ToBytes(text) {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const v = LOOKUP[text.charCodeAt(i)];
    if (v === undefined || v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.slice(0, n);
}

function btoa(data) {
  if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
  const s = String(data);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw domException('Invalid character', 'InvalidCharacterError');
    bytes[i] = c;
  }
  return bytesToBase64(bytes);
}

function atob(data) {
  if (arguments.length === 0) throw new TypeError('The "data" argument must be specified');
  let s = String(data).replace(/[\t\n\f\r ]/g, '');
  if (s.length % 4 === 0) s = s.replace(/==?$/, '');
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw domException('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
  const bytes = base64ToBytes(s);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

module.exports = { TextEncoder, TextDecoder, atob, btoa, utf8Encode, utf8Decode: (b) => utf8Decode(b, false, false)[0], bytesToBase64, base64ToBytes, toBytes };
